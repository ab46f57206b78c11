"""The entry point: a transcript and its meeting's details → a ``MinutesDraft``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from services.common.privacy import mask_cpr
from services.minutes.pipeline.draft.actions import NameIndex, action_context, find_actions
from services.minutes.pipeline.draft.agenda import assign_to_agenda, parse_agenda
from services.minutes.pipeline.draft.decisions import find_decisions
from services.minutes.pipeline.draft.sentences import Sentence, split_sentences
from services.minutes.pipeline.draft.summary import Summarizer, section_summaries
from services.minutes.pipeline.draft.topics import segment_topics, topic_keywords, topic_title
from services.minutes.pipeline.types import AgendaSection, MinutesDraft, Transcript


def _segment_ids(transcript: Transcript, groups: Sequence[Sequence[Sentence]]) -> list[list[int]]:
    """The segments of each section in time order; a segment without text goes with the one before it."""
    sections_of: dict[int, list[int]] = {}
    for label, group in enumerate(groups):
        for sentence in group:
            labels = sections_of.setdefault(sentence.segment_id, [])
            if label not in labels:
                labels.append(label)
    ids: list[list[int]] = [[] for _ in groups]
    current = [0]
    for segment in transcript.segments:
        current = sections_of.get(segment.id, current[-1:])
        for label in current:
            ids[label].append(segment.id)
    return ids


def _times(groups: Sequence[Sequence[Sentence]]) -> list[tuple[float, float]]:
    """Start and end of each section. An empty section is zero-length where the previous one ended (or, the
    first, where the next one starts)."""
    times: list[tuple[float, float]] = []
    for i, group in enumerate(groups):
        if group:
            times.append((min(s.start for s in group), max(s.end for s in group)))
        elif times:
            times.append((times[-1][1], times[-1][1]))
        else:
            following = next((g for g in groups[i + 1 :] if g), None)
            at = following[0].start if following else 0.0
            times.append((at, at))
    return times


def _duration(transcript: Transcript) -> float:
    ends = [s.end for s in transcript.segments]
    return max([transcript.duration, *ends])


def build_minutes_draft(
    transcript: Transcript,
    *,
    title: str,
    meeting_date: date | None,
    participants: list[str],
    agenda: list[str] | None,
    summarizer: Summarizer | None = None,
) -> MinutesDraft:
    """A minutes draft: one section per agenda item (or per automatically found topic when there is no
    agenda), each with a short summary and the decisions and action items said under it."""
    sentences = split_sentences(transcript)
    items = parse_agenda(agenda or [])
    if items:
        labels = assign_to_agenda(sentences, items)
        groups: list[list[Sentence]] = [[] for _ in items]
    else:
        labels = segment_topics(sentences, _duration(transcript))
        groups = [[] for _ in range(max(labels, default=0) + 1)]
    for sentence, label in zip(sentences, labels, strict=True):
        groups[label].append(sentence)
    if items:
        headers = [(item.number, item.title) for item in items]
    else:
        keywords = topic_keywords(groups)
        headers = [(i + 1, mask_cpr(topic_title(i + 1, kw))) for i, kw in enumerate(keywords)]

    def speaker_name(label: str | None) -> str | None:
        return mask_cpr(transcript.speaker_name(label)) or None

    names = NameIndex.build([*participants, *transcript.speakers.values()])
    ctx = action_context(names, speaker_name, meeting_date)
    summaries, source = section_summaries([t for _, t in headers], groups, summarizer)
    segment_ids = _segment_ids(transcript, groups)
    sections = [
        AgendaSection(
            number=number,
            title=section_title,
            start=start,
            end=end,
            segment_ids=ids,
            summary=summary,
            decisions=find_decisions(group, speaker_name),
            actions=find_actions(group, ctx),
        )
        for (number, section_title), group, (start, end), ids, summary in zip(
            headers, groups, _times(groups), segment_ids, summaries, strict=True
        )
    ]
    return MinutesDraft(
        title=mask_cpr(title),
        meeting_date=meeting_date,
        participants=[mask_cpr(p) for p in participants],
        sections=sections,
        summary_source=source,
    )
