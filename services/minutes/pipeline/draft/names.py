"""People: the participants' names and the variants people say, and who chairs the meeting."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

# A role written with a name that makes her the chair: "Mette Hansen (udvalgsformand)", "(mødeleder)"; a
# "næstformand" is not.
_CHAIR_ROLE = re.compile(r"(?i)(?<!næst)(?:formand|formanden|forperson)\b|\b(?:mødeleder|ordstyrer|chair)\b")
_SPEAKER_LABEL = re.compile(r"(?i)taler\s*\d+")
_NAME_CHARS = r"[\wæøåÆØÅéü-]"


def bare_name(raw: str) -> str:
    """``raw`` without a role: "Mette Hansen (formand)" and "Mette Hansen, formand" → "Mette Hansen"."""
    return re.sub(r"\s*\(.*?\)", "", raw).split(",")[0].strip()


@dataclass(frozen=True)
class NameIndex:
    """Participant names and the variants people say (the full name, a unique first name, "Jens Peter")."""

    variants: dict[str, str]  # as said → full name
    full_names: tuple[str, ...] = ()

    @classmethod
    def build(cls, names: Iterable[str]) -> NameIndex:
        full_names: list[str] = []
        for raw in names:
            name = bare_name(raw)
            real = bool(re.search(r"[A-Za-zÆØÅæøå]", name)) and not _SPEAKER_LABEL.fullmatch(name)
            if real and name not in full_names:
                full_names.append(name)
        variants = {name: name for name in full_names}
        # The first name, and the first two for double first names ("Jens Peter"), when only one has it.
        for width in (2, 1):
            said = Counter(" ".join(n.split()[:width]) for n in full_names if len(n.split()) > width)
            for name in full_names:
                parts = name.split()
                if len(parts) <= width:
                    continue
                short = " ".join(parts[:width])
                if said[short] == 1 and len(short) >= 2:
                    variants.setdefault(short, name)
        return cls(variants, tuple(full_names))

    def alternation(self) -> str | None:
        """A case-sensitive regex alternation of the variants, longest first (None when there are none)."""
        if not self.variants:
            return None
        escaped = (re.escape(v) for v in sorted(self.variants, key=len, reverse=True))
        return "(?-i:" + "|".join(escaped) + ")"

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        alternation = self.alternation()
        if alternation is None:
            return None
        return re.compile(rf"(?<!{_NAME_CHARS}){alternation}s?(?!{_NAME_CHARS})")

    def mentions(self, text: str) -> list[tuple[int, str]]:
        """(position, full name) of each participant mentioned in ``text``, in order; a genitive ("Bos
        forslag") counts too."""
        if self._pattern is None:
            return []
        found = []
        for m in self._pattern.finditer(text):
            said = m.group(0)
            name = self.variants.get(said) or self.variants.get(said[:-1])
            if name:
                found.append((m.start(), name))
        return found

    def first_in(self, text: str) -> str | None:
        """The full name of the first participant mentioned in ``text``."""
        found = self.mentions(text)
        return found[0][1] if found else None

    def full(self, said: str | None) -> str | None:
        """The participant ``said`` refers to (a full name or a unique first name), else ``said`` itself."""
        if not said:
            return None
        name = bare_name(said)
        if name in self.variants:
            return self.variants[name]
        first = name.split()[0] if name.split() else ""
        return self.variants.get(first, name)


def find_chair(
    participants: Sequence[str], speakers: Sequence[str | None], transitions: Sequence[bool]
) -> str | None:
    """Who chairs the meeting: a participant written with a chair's role ("(formand)"), else the first
    participant who speaks, else the speaker who moves the meeting on most often (then who speaks most).

    ``speakers`` is the speaker of each turn (display names) and ``transitions`` whether that turn moves the
    meeting to another item.
    """
    spoken = Counter(s for s in speakers if s)
    names = [bare_name(p) for p in participants]
    for raw, name in zip(participants, names, strict=True):
        if _CHAIR_ROLE.search(raw) and name in spoken:
            return name
    for name in names:
        if name in spoken:
            return name
    if not spoken:
        return None
    moved = Counter(s for s, t in zip(speakers, transitions, strict=True) if s and t)
    return max(spoken, key=lambda s: (moved[s], spoken[s], s))
