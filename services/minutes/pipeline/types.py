"""Plain data passed between the pipeline steps (audio → transcript → speakers → draft → export)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float
    speaker: str | None = None


@dataclass
class Segment:
    id: int
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    speaker: str | None = None
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        words = [Word(**w) for w in data.get("words", [])]
        return cls(
            id=int(data["id"]),
            start=float(data["start"]),
            end=float(data["end"]),
            text=str(data["text"]),
            words=words,
            speaker=data.get("speaker"),
            avg_logprob=float(data.get("avg_logprob", 0.0)),
            no_speech_prob=float(data.get("no_speech_prob", 0.0)),
        )


@dataclass
class Transcript:
    language: str
    language_probability: float
    duration: float
    segments: list[Segment]
    model: str = ""
    speakers: dict[str, str] = field(default_factory=dict)  # label ("Taler 1") -> display name

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def speaker_name(self, label: str | None) -> str:
        if label is None:
            return ""
        return self.speakers.get(label, label)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        return cls(
            language=str(data["language"]),
            language_probability=float(data.get("language_probability", 1.0)),
            duration=float(data["duration"]),
            segments=[Segment.from_dict(s) for s in data["segments"]],
            model=str(data.get("model", "")),
            speakers=dict(data.get("speakers", {})),
        )


@dataclass
class Decision:
    text: str  # what was decided (the proposal a "så gør vi det" closes), CPR-masked
    start: float
    speaker: str | None = None
    segment: int | None = None  # the segment where it was settled (the reviewer's link into the transcript)
    review: str | None = None  # "edited" / "added" when the reviewer changed or added it (item review)


@dataclass
class ActionItem:
    what: str
    who: str | None
    deadline: str | None  # ISO date when it could be resolved, else as said ("efter sommerferien")
    start: float
    speaker: str | None = None
    deadline_text: str | None = None  # the deadline as said ("på fredag"), also when it was resolved
    segment: int | None = None  # the segment where it was agreed
    review: str | None = None  # "edited" / "added" when the reviewer changed or added it (item review)

    @property
    def deadline_date(self) -> str | None:
        """The deadline as an ISO date, or None when none was said or it could not be resolved."""
        if self.deadline and len(self.deadline) == 10 and self.deadline[4] == "-" and self.deadline[7] == "-":
            try:
                return date.fromisoformat(self.deadline).isoformat()
            except ValueError:
                return None
        return None


@dataclass
class AgendaSection:
    number: int
    title: str
    start: float
    end: float
    segment_ids: list[int]
    summary: list[str]
    decisions: list[Decision] = field(default_factory=list)
    actions: list[ActionItem] = field(default_factory=list)


@dataclass
class MinutesDraft:
    title: str
    meeting_date: date | None
    participants: list[str]
    sections: list[AgendaSection]
    summary_source: str = "extractive"  # or "llm"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["meeting_date"] = self.meeting_date.isoformat() if self.meeting_date else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MinutesDraft:
        raw_date = data.get("meeting_date")
        return cls(
            title=str(data["title"]),
            meeting_date=date.fromisoformat(raw_date) if raw_date else None,
            participants=list(data.get("participants", [])),
            sections=[
                AgendaSection(
                    number=int(s["number"]),
                    title=str(s["title"]),
                    start=float(s["start"]),
                    end=float(s["end"]),
                    segment_ids=[int(i) for i in s.get("segment_ids", [])],
                    summary=list(s.get("summary", [])),
                    decisions=[Decision(**d) for d in s.get("decisions", [])],
                    actions=[ActionItem(**a) for a in s.get("actions", [])],
                )
                for s in data["sections"]
            ],
            summary_source=str(data.get("summary_source", "extractive")),
        )
