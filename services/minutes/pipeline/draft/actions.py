"""Action items (who does what by when) from action-verb phrases, "Opfølgning:" labels and requests."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from services.common.privacy import mask_cpr
from services.minutes.pipeline.draft.clauses import NEGATIONS, clause_before, is_conditional, is_question
from services.minutes.pipeline.draft.deadlines import Deadline, find_deadline
from services.minutes.pipeline.draft.sentences import Sentence, clean_sentence
from services.minutes.pipeline.draft.words import content_tokens, is_substantive, tokenize
from services.minutes.pipeline.types import ActionItem


@dataclass(frozen=True)
class NameIndex:
    """Participant names and the variants people say (the full name, a unique first name)."""

    variants: dict[str, str]  # as said → full name

    @classmethod
    def build(cls, names: Iterable[str]) -> NameIndex:
        full_names: list[str] = []
        for raw in names:
            # Drop roles: "Mette Hansen (formand)", "Mette Hansen, formand".
            name = re.sub(r"\s*\(.*?\)", "", raw).split(",")[0].strip()
            real = bool(re.search(r"[A-Za-zÆØÅæøå]", name)) and not re.fullmatch(r"(?i)taler\s*\d+", name)
            if real and name not in full_names:
                full_names.append(name)
        first_names = Counter(name.split()[0] for name in full_names)
        variants = {name: name for name in full_names}
        for name in full_names:
            first = name.split()[0]
            if first_names[first] == 1 and len(first) >= 2:
                variants.setdefault(first, name)
        return cls(variants)

    def alternation(self) -> str | None:
        """A case-sensitive regex alternation of the variants, longest first (None when there are none)."""
        if not self.variants:
            return None
        escaped = (re.escape(v) for v in sorted(self.variants, key=len, reverse=True))
        return "(?-i:" + "|".join(escaped) + ")"

    def first_in(self, text: str) -> str | None:
        """The full name of the first participant mentioned in ``text``."""
        alternation = self.alternation()
        if alternation is None:
            return None
        m = re.search(rf"(?<![\wæøåÆØÅ]){alternation}(?![\wæøåÆØÅ])", text)
        return self.variants[m.group(0)] if m else None


@dataclass(frozen=True)
class _Verb:
    finite: str
    infinitive: str
    particle: str = ""
    any_subject: bool = True  # False: only a named person, "jeg" or "du" (the verb is too common otherwise)
    task_follows: bool = False  # "sørger for (at) X": the task is X itself


_ACTION_VERBS = (
    _Verb("sørger", "sørge", "for", task_follows=True),
    _Verb("følger", "følge", "op"),
    _Verb("tager", "tage", "kontakt"),
    _Verb("kontakter", "kontakte"),
    _Verb("undersøger", "undersøge"),
    _Verb("sender", "sende"),
    _Verb("udarbejder", "udarbejde"),
    _Verb("indkalder", "indkalde"),
    _Verb("giver", "give", "besked"),
    _Verb("vender", "vende", "tilbage"),
    _Verb("melder", "melde", "tilbage"),
    _Verb("afklarer", "afklare"),
    _Verb("laver", "lave", any_subject=False),
    _Verb("skriver", "skrive", any_subject=False),
    _Verb("tjekker", "tjekke", any_subject=False),
    _Verb("ringer", "ringe", any_subject=False),
    _Verb("booker", "booke", any_subject=False),
    _Verb("opdaterer", "opdatere", any_subject=False),
    _Verb("forbereder", "forberede", any_subject=False),
    _Verb("finder", "finde", "ud af", any_subject=False),
)
_ADVERBS = (
    r"(?:\s+(?:skal|vil|kan|nok|godt|lige|så|også|gerne|bare|selv|straks|hurtigt|derefter|efterfølgende))*"
)
_ORGANISATION = r"[\wæøå]*(?:forvaltning|afdeling|sekretariat|administration)(?:en|et)"
_LABEL = re.compile(r"(?i)^\s*(?:opfølgning|handling|opgave|aftale)\s*:\s*(?P<rest>.+)$")
_RESPONSIBLE = re.compile(r"(?i)\bansvarlig\s*:\s*(?P<rest>.*)$")
_ACCEPT = re.compile(
    r"(?i)\b(?:(?:det|den)\s+(?:gør|tager|klarer|ordner)\s+jeg|jeg\s+(?:tager|klarer|ordner)\s+(?:den|det)"
    r"|det\s+kan\s+jeg\s+(?:godt\s+)?(?:gøre|tage|klare|ordne))\b"
)
_WE_NEED = re.compile(r"(?i)\bvi\s+skal(?:\s+(?:lige|også|helst|gerne|altså))*\s+have\s+\S.*$")
_PRONOUN_TASK = frozenset({"", "det", "den", "det her", "den her", "dem"})


@dataclass(frozen=True)
class ActionContext:
    """What finding one meeting's actions needs: names, speakers, date and the patterns built from them."""

    names: NameIndex
    speaker_name: Callable[[str | None], str | None]
    meeting_date: date | None
    patterns: tuple[tuple[_Verb, re.Pattern[str]], ...]
    requests: tuple[re.Pattern[str], ...]


def action_context(
    names: NameIndex, speaker_name: Callable[[str | None], str | None], meeting_date: date | None
) -> ActionContext:
    # The patterns depend on the participants' names, so they are compiled once per meeting.
    alternation = names.alternation()
    subject = rf"(?P<subj>{alternation + '|' if alternation else ''}jeg|vi|du|{_ORGANISATION})"
    patterns = []
    for verb in _ACTION_VERBS:
        particle = rf"\s+{verb.particle}" if verb.particle else ""
        forms = rf"(?:{verb.finite}|{verb.infinitive})"
        for shape in (
            rf"\b{subject}(?P<adv>{_ADVERBS})\s+{forms}{particle}\b(?P<rest>.*)$",  # "Lars sørger for"
            rf"\b{verb.finite}\s+{subject}(?P<adv>{_ADVERBS}){particle}\b(?P<rest>.*)$",  # "så sender jeg"
            rf"\b(?:skal|vil|kan)\s+{subject}(?P<adv>{_ADVERBS})\s+{verb.infinitive}{particle}\b(?P<rest>.*)$",
        ):
            patterns.append((verb, re.compile(shape, re.IGNORECASE)))
    addressee = rf"(?:du|nogen|man|{alternation})" if alternation else r"(?:du|nogen|man)"
    requests = (
        # "Anne, kan du (ikke lige) undersøge ...?"
        re.compile(
            rf"(?i)\b(?:kan|vil|gider|kunne)\s+{addressee}"
            r"(?:\s+(?:ikke|lige|også|godt|så|eventuelt|måske))*\s+(?P<what>[^?]+)"
        ),
        # "Er der nogen, der vil booke lokalet?"
        re.compile(
            r"(?i)\bnogen,?\s+(?:der|som)\s+(?:kan|vil|gider)(?:\s+(?:lige|godt|gerne))*\s+(?P<what>[^?]+)"
        ),
    )
    return ActionContext(names, speaker_name, meeting_date, tuple(patterns), requests)


def _tidy_task(task: str, deadline: Deadline | None) -> str:
    """The task phrase without its deadline and stray punctuation, capitalised."""
    if deadline is not None:
        task = task.replace(deadline.phrase, " ", 1)
    task = re.sub(r"\s+", " ", task).strip(" ,.;:!")
    task = re.sub(r"(?i)(?:,?\s+(?:og|så|men))+$", "", task).strip(" ,.;:")
    task = re.sub(r"\s+([,.])", r"\1", task)
    return task[:1].upper() + task[1:]


def _vocative(text: str, names: NameIndex) -> str | None:
    """The person addressed at the start of a sentence ("Peter, du sender ...")."""
    head = text.split(",", 1)[0].strip()
    return names.variants.get(head) if "," in text else None


def _antecedent_task(
    sentence: Sentence, previous: Sequence[Sentence], previous_was_action: bool, ctx: ActionContext
) -> str | None:
    """The task that "det tager jeg" takes on: the task asked for in a preceding question ("Anne, kan du
    undersøge ...?"), else the sentence just before from someone else, unless that was an action item itself
    (then "det gør jeg" only acknowledges it)."""
    for earlier in reversed(previous[-3:]):
        if not is_question(earlier.text):
            continue
        for request in ctx.requests:
            if m := request.search(earlier.text):
                return m.group("what")
    if not previous or previous_was_action:
        return None
    last = previous[-1]
    if last.speaker == sentence.speaker or is_question(last.text) or not is_substantive(last.text):
        return None
    return last.text


def _who(subject: str, sentence: Sentence, ctx: ActionContext) -> str | None:
    if subject in ctx.names.variants:
        return ctx.names.variants[subject]
    if subject.lower() == "jeg":
        return ctx.speaker_name(sentence.speaker)
    if subject.lower() == "du":
        return _vocative(sentence.text, ctx.names)
    return None


def _verb_action(sentence: Sentence, ctx: ActionContext) -> tuple[str | None, str] | None:
    """(who, task) from the earliest asserted action-verb phrase ("Lars sørger for at sende ...")."""
    text = sentence.text
    found = []
    for verb, pattern in ctx.patterns:
        m = pattern.search(text)
        if m is None:
            continue
        subject = m.group("subj")
        named = subject in ctx.names.variants or subject.lower() in {"jeg", "du"}
        negated = bool(set(tokenize(m.group("rest"))[:2]) & NEGATIONS)
        if negated or (not verb.any_subject and not named) or is_conditional(clause_before(text, m.start())):
            continue
        rest = m.group("rest").strip(" ,")
        if verb.task_follows:
            rest = re.sub(r"(?i)^at\s+", "", rest)
            task = rest
        else:
            task = " ".join(p for p in (verb.infinitive, verb.particle, rest) if p)
        if rest.strip(" .!").lower() in _PRONOUN_TASK:
            task = ""  # "det sørger jeg for": the task was said before
        found.append((m.start(), _who(subject, sentence, ctx), task))
    if not found:
        return None
    _, who, task = min(found, key=lambda f: f[0])
    return who, task


def _action_in(
    sentence: Sentence, previous: Sequence[Sentence], previous_was_action: bool, ctx: ActionContext
) -> ActionItem | None:
    """The action item a sentence states, if any; its task, owner and deadline all come from what was said."""
    text = sentence.text
    if is_question(text):
        return None
    deadline = find_deadline(text, ctx.meeting_date)
    who: str | None = None
    task: str | None = None
    if m := _LABEL.match(text):
        # "Opfølgning: Anne indkalder ..." reads like any other action once the label is gone.
        labelled = _verb_action(replace(sentence, text=m.group("rest")), ctx)
        who, task = labelled or (ctx.names.first_in(m.group("rest")), m.group("rest"))
    elif m := _RESPONSIBLE.search(text):
        who = ctx.names.first_in(m.group("rest"))
        before = text[: m.start()].strip(" ,.")
        task = before if len(content_tokens(before)) >= 2 else (previous[-1].text if previous else None)
    elif verb_action := _verb_action(sentence, ctx):
        who, task = verb_action
    elif (m := _ACCEPT.search(text)) and "ikke" not in tokenize(text[m.end() :])[:1]:
        who, task = ctx.speaker_name(sentence.speaker), ""
    elif (m := _WE_NEED.search(text)) and deadline is not None and deadline.start >= m.start():
        task = m.group(0)
    else:
        return None
    if not task:
        task = _antecedent_task(sentence, previous, previous_was_action, ctx)
        if task is None:
            return None
        if deadline is None:
            deadline = find_deadline(task, ctx.meeting_date)
    task = _tidy_task(clean_sentence(task), deadline)
    if not task:
        return None
    return ActionItem(
        what=mask_cpr(task),
        who=mask_cpr(who) if who else None,
        deadline=mask_cpr(deadline.value) if deadline else None,
        start=sentence.start,
        speaker=ctx.speaker_name(sentence.speaker),
    )


def find_actions(sentences: Sequence[Sentence], ctx: ActionContext) -> list[ActionItem]:
    actions: list[ActionItem] = []
    previous_was_action = False
    for i, sentence in enumerate(sentences):
        action = _action_in(sentence, sentences[max(0, i - 3) : i], previous_was_action, ctx)
        if action is not None:
            actions.append(action)
        previous_was_action = action is not None
    return actions
