"""Urgent mail: does it need action today? Danish and English cues, scored, with cheap negation handling.

A mail is urgent when its cues add up to ``URGENT_SCORE``: an explicit word ("akut", "haster", "straks") or a
danger ("blå mærker", "vandrør sprunget", "insulin") together with something that says now ("i dag", "lige
nu"), two different dangers, or an explicit word in the subject. Only the subject and the sender's new text
are read: a quoted earlier mail is old news, and a signature is never urgent. A cue right after a negation
("ikke akut", "haster ikke", "no emergency") or softened ("haster lidt") does not count.

Recall matters more than precision here: a false alarm costs a clerk a minute, a missed child in danger
costs far more. The cue lists were written with the dev mails at hand, so dev figures are optimistic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.mailsort.types import ParsedMail

URGENT_SCORE = 3
_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
_NEGATIONS = {"ikke", "ingen", "intet", "not", "no", "never", "aldrig"}


@dataclass(frozen=True)
class Cue:
    name: str  # shown as the reason (Danish)
    pattern: re.Pattern[str]  # on folded text: lower case, æ/ø/å as ae/oe/aa
    weight: int
    negatable: bool = True  # "ikke akut" cancels it; cues that hold a negation themselves are not


def _cue(name: str, pattern: str, weight: int, *, negatable: bool = True) -> Cue:
    return Cue(name, re.compile(pattern), weight, negatable)


# Explicit: the writer says it is urgent.
EXPLICIT = (
    _cue("akut", r"\bakut(?:te)?\b", 2),
    _cue("haster", r"\bhaster\b|\bhastesag|\bhastepas", 2),
    _cue("straks", r"\bstraks\b|\bomgaaende\b|\bhurtigst muligt\b|\bmed det samme\b", 2),
    _cue("skynd jer", r"\bskynd (?:jer|dig)\b|\bsend nogen\b|\bkan nogen komme\b|\bkom (?:nu|hurtigt)\b", 2),
    _cue("nødsituation", r"\bnoedsituation\b|\blivsfare\b|\bi fare\b|\b112\b", 2),
    _cue("urgent", r"\burgent(?:ly)?\b|\bemergency\b|\basap\b|\bimmediately\b|\bright away\b", 2),
)
# Danger: something that cannot wait, whether or not the writer says so.
DANGER = (
    _cue("vold mod et barn", r"\bslaar (?:ham|hende|barnet|boernene|mig)\b|\bslog (?:ham|hende|mig)\b", 2),
    _cue("blå mærker", r"\bblaa maerker\b|\bhaevelse\b|\bbruises?\b", 2),
    _cue(
        "tør ikke gå hjem", r"\btoer ikke (?:gaa|tage|komme) hjem\b|\bafraid to go home\b", 2, negatable=False
    ),
    _cue("vold", r"\bvold(?:elig|somt? skaenderi)?\b|\btruede\b|\btruer\b|\bskriger\b|\bkniv\b", 2),
    _cue("barn i fare", r"\bforsvundet\b|\bsavnet\b|\bikke vendt tilbage\b|\bmissing\b", 2, negatable=False),
    _cue(
        "selvmord",
        r"\bselvmord|\btage mit (?:eget )?liv\b|\bsuicid|\bgoere (?:hende|ham|mig selv) noget\b"
        r"|\bbange for hvad jeg\b|\bkan ikke mere\b",
        3,
        negatable=False,
    ),
    _cue(
        "vandskade",
        r"\bvandroer\w* (?:er )?sprunget\b|\bsprunget et vandroer\b|\boversvoem|\bkloakvand\b|\bfosser\b"
        r"|\bskybrud\b|\bburst (?:water )?(?:pipe|main)\b|\bflood",
        2,
    ),
    _cue(
        "fare på vejen",
        r"\bvaeltet trae\b|\baabent hul\b|\bmangler et daeksel\b|\bspaerrer (?:hele )?\w*vejen\b",
        2,
    ),
    _cue("el, gas eller brand", r"\bel-?ledning\b|\bgasudslip\b|\blugter af gas\b|\bbrand\b|\broeg\b", 2),
    _cue("forurening", r"\boliefilm\b|\bdoede fisk\b|\bforurening\b|\budslip\b|\bkemikalie", 2),
    # insulin alone may be a question about supplies; with care that did not come it is today's problem
    _cue("livsvigtig medicin", r"\binsulin\b|\bepilepsimedicin\b|\biltapparat\b", 1, negatable=False),
    _cue(
        "medicin eller pleje udeblevet",
        r"\bikke faaet (?:sin|sine|hans|hendes|min|mine|deres) medicin\b|\bikke kommet nogen\b"
        r"|\b(?:hjemmeplejen|hjemmehjaelpen|sygeplejersken|hjemmesygeplejen) er ikke kommet\b"
        r"|\bingen (?:sygeplejerske|hjemmehjaelp) (?:til|er kommet)\b|\bhas not had (?:his|her) medicine\b",
        2,
        negatable=False,
    ),
    _cue(
        "borger i nød",
        r"\bfaldet og kan ikke rejse sig\b|\bkan ikke komme op\b|\bsvarer ikke\b|\bbevidstloes\b"
        r"|\brystende og forvirret\b|\bcan'?t get up\b|\bnot answering\b",
        2,
        negatable=False,
    ),
    _cue(
        "data eller drift i fare",
        r"\bbrud paa persondatasikkerheden\b"
        r"|\bkan se andre (?:\w+ )?(?:boerns|borgeres|elevers) oplysninger\b"
        r"|\bmistet (?:min )?arbejdstelefon\b|\bhele (?:skolen|afdelingen|huset) (?:er )?uden\b"
        r"|\bikke faaet deres penge\b|\bafvist af banken\b|\bdata breach\b",
        2,
    ),
)
# Now: the writer needs it today.
TIME = (
    _cue("i dag", r"\bi dag\b|\bi aften\b|\bi nat\b|\btoday\b|\btonight\b", 1, negatable=False),
    _cue(
        "lige nu",
        r"\blige nu\b|\bnu\b[!?]|\bnu\s*$|\bright now\b|\bstaar (?:nu|udenfor)\b"
        r"|\bfor (?:en|ca\. en) time siden\b|\bde sidste timer\b|\bhar staaet paa i\b"
        r"|\binden (?:kl\.|klokken|skoledagen|bankens frist)",
        1,
        negatable=False,
    ),
)
# Softeners: "it is a bit urgent" is not same-day urgent.
SOFT = re.compile(
    r"\bhaster (?:lidt|ikke)\b|\bingen hast\b|\bikke (?:saa )?akut\b|\bnot urgent\b|\bwhen you have time\b"
)
ALL_CUES = (*EXPLICIT, *DANGER, *TIME)


@dataclass
class Urgency:
    urgent: bool
    score: int
    reasons: list[str] = field(default_factory=list)  # the cues found, Danish names

    def __bool__(self) -> bool:
        return self.urgent


def _fold(text: str) -> str:
    return text.lower().translate(_FOLD)


def _negated(text: str, start: int) -> bool:
    """A negation among the three words before ``start``."""
    before = re.findall(r"[\w-]+", text[max(0, start - 40) : start])[-3:]
    return any(w in _NEGATIONS for w in before)


def _found(cue: Cue, text: str) -> bool:
    return any(not (cue.negatable and _negated(text, m.start())) for m in cue.pattern.finditer(text))


def urgency(subject: str, text: str) -> Urgency:
    """Score a subject and the sender's new text."""
    subject_f, text_f = _fold(subject), _fold(text)
    both = f"{subject_f}\n{text_f}"
    softened = SOFT.search(both) is not None
    score, reasons = 0, []
    for cue in ALL_CUES:
        if not _found(cue, both):
            continue
        weight = cue.weight
        if cue in EXPLICIT:
            if softened:
                continue
            if _found(cue, subject_f):
                weight += 1  # "AKUT:" in the subject is the writer's own triage
        score += weight
        reasons.append(cue.name)
    return Urgency(score >= URGENT_SCORE, score, reasons)


def is_urgent(mail: ParsedMail) -> Urgency:
    """Needs action today? Truthy when urgent; ``reasons`` say why."""
    return urgency(mail.subject, mail.new_text)
