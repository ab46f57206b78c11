"""Cue phrases of Danish meeting language, as features: what a turn does (closes a discussion, proposes,
rejects, defers, commits, asks someone) rather than what it is about.

These are general Danish, written from how Danish meetings are conducted, not copied from the labelled
meetings; a learned model (``model``) weighs them, together with the words of the turn and its neighbours.
Each cue is a name and a pattern over the lower-cased turn; ``cues`` gives the names a turn matches.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Verbs of tasks people take on at work (infinitive stems; the present tense adds -r: "sende"/"sender").
TASK_VERBS = (
    "sende",
    "skrive",
    "ringe",
    "lave",
    "tage",
    "tjekke",
    "rette",
    "opdatere",
    "undersøge",
    "kontakte",
    "booke",
    "bestille",
    "indkalde",
    "invitere",
    "følge",
    "finde",
    "sørge",
    "give",
    "melde",
    "vende",
    "afklare",
    "forberede",
    "udarbejde",
    "planlægge",
    "samle",
    "koordinere",
    "videresende",
    "lægge",
    "oprette",
    "slå",
    "regne",
    "tale",
    "snakke",
    "spørge",
    "høre",
    "præsentere",
    "maile",
    "dele",
    "rykke",
    "arrangere",
    "gennemgå",
    "påminde",
    "informere",
    "orientere",
    "skaffe",
    "købe",
    "ansøge",
    "anmelde",
    "underskrive",
    "udsende",
    "fremlægge",
    "beregne",
    "aflevere",
    "hente",
    "bringe",
    "skifte",
    "tilrette",
    "ordne",
    "klare",
    "teste",
    "installere",
    "indsende",
    "notere",
    "kigge",
    "se",
    "gå",
    "tilføje",
    "printe",
    "rydde",
    "afholde",
    "aftale",
    "levere",
    "forelægge",
    "sikre",
    "opsætte",
    "rundsende",
)
_PRESENT = {"se": "ser", "gå": "går", "slå": "slår", "gennemgå": "gennemgår"}


def _verb_forms(stems: tuple[str, ...]) -> str:
    forms = set()
    for stem in stems:
        forms.add(stem)
        forms.add(_PRESENT.get(stem, stem + "r"))
    return "(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")"


TASK_VERB = _verb_forms(TASK_VERBS)
_TASK_PRESENT = (
    "(?:" + "|".join(sorted({_PRESENT.get(s, s + "r") for s in TASK_VERBS}, key=len, reverse=True)) + ")"
)
_NUMBER_WORD = r"(?:\d+|en|et|to|tre|fire|fem|seks|syv|otte|ni|ti|elleve|tolv|tretten|fjorten|femten)"

_CUES: dict[str, str] = {
    # Closing a discussion with an outcome.
    "close": (
        r"\bså\s+gør\s+vi\s+(?:det|sådan|så)\b|\blad\s+os\s+gøre\s+(?:det|sådan)\b|\bdet\s+gør\s+vi\b(?!\s+ikke)"
        r"|\bså\s+siger\s+(?:vi|jeg)\s+(?:det|ja|nej)\b|\bså\s+er\s+det\s+(?:besluttet|aftalt|vedtaget|godkendt"
        r"|sådan|på\s+plads|en\s+aftale)\b|\bså\s+har\s+vi\s+en\s+aftale\b|\bdet\s+er\s+aftalt\b"
        r"|\bså\s+bliver\s+det\b|\bså\s+lander\s+vi\b|\bså\s+kører\s+vi\s+med\b|\bså\s+holder\s+vi\s+fast\b"
        r"|\bvi\s+holder\s+fast\s+i\b|\bså\s+vælger\s+vi\b|\bså\s+går\s+vi\s+videre\s+med\b"
        r"|\bdet\s+er\s+(?:hermed\s+)?besluttet\b|\bså\s+er\s+vi\s+enige\b|\bså\s+aftaler\s+vi\b"
    ),
    # "så udsætter vi punktet", "så flytter vi go-live": an outcome in the first person plural.
    "we_inverted": (
        r"\bså\s+(?!er\b|har\b|kan\b|skal\b|vil\b|må\b|går\b|kommer\b|tager\s+vi\s+punkt)"
        r"[a-zæøå]+er\s+vi\b"
    ),
    "formal": (
        r"\bgodkend\w*|\bvedt[ao]g\w*|\bbeslut\w*|\budsæt\w*|\btiltræ\w*|\btil\s+efterretning\b"
        r"|\bindstilling\w*|\banbefal\w*|\bprotokol\w*"
    ),
    "consensus": (
        r"\benig(?:e|hed)?\s+om\b|\bvi\s+er\s+enige\b|\bdet\s+er\s+vi\s+enige\s+om\b|\benstemmig\w*"
        r"|\b(?:der\s+er|er\s+der)\s+(?:\w+\s+)?(?:flertal|opbakning)\b"
    ),
    "vote": (
        r"\bstem(?:mer|te|me|ning|mes)?\b|\bhvem\s+er\s+(?:for|imod)\b|\bimod\s+er\b"
        rf"|\b{_NUMBER_WORD}\s+(?:stemmer\s+)?mod\s+{_NUMBER_WORD}\b|\bhænderne\b|\bhånden\s+op\b"
    ),
    "consensus_question": (
        r"\ber\s+(?:der\s+)?nogen\s+(?:der\s+)?(?:er\s+)?(?:imod|uenige)\b|(?<!det\s)\ber\s+(?:vi|alle)\s+enige\b(?!\s+om)"
        r"|\bkan\s+(?:alle|vi\s+alle|i)\s+(?:det|leve\s+med|være\s+med|tilslutte)\b|\bindvendinger\b"
        r"|\bhar\s+nogen\s+(?:noget\s+)?imod\b|\ber\s+det\s+(?:okay|ok|i\s+orden|fint)\b"
        r"|\bkan\s+vi\s+(?:godkende|blive\s+enige|sige)\b|\bhvem\s+kan\s+tilslutte\b|\bkan\s+den\s+godkendes\b"
    ),
    "agree": (
        r"^(?:ja|jo|jep|yes|enig|helt\s+enig|fint|okay|ok|godt|det\s+er\s+fint|fint\s+med\s+mig"
        r"|det\s+synes\s+jeg|det\s+lyder\s+godt|nej\s+nej)\b"
    ),
    "propose": (
        r"\bforeslå\w*|\bforslag\w*|\bindstilling\w*|\banbefaling\w*|\bjeg\s+vil\s+(?:gerne\s+)?foreslå\b"
        r"|\bkunne\s+(?:vi|man|i)\s+ikke\b|\bhvad\s+med\s+at\b|\bskal\s+vi\s+ikke\b|\bjeg\s+synes\s+(?:at\s+)?vi\s+skal\b"
        r"|\blad\s+os\b|\bmit\s+bud\b|\bvi\s+kunne\b"
    ),
    "reject": (
        r"\bdet\s+(?:vil|kan)\s+(?:jeg|vi)\s+(?:altså\s+|slet\s+|bare\s+)?ikke\b|\bdet\s+gør\s+vi\s+ikke\b"
        r"|\bdet\s+går\s+ikke\b|\bikke\s+i\s+(?:år|dag|sommer|denne\s+omgang)\b|\blader\s+vi\s+\w+\s+ligge\b"
        r"|\bdroppe\s+det\b|\bdet\s+kommer\s+ikke\s+til\s+at\s+ske\b|\bafvis\w*|\bikke\s+(?:flertal|opbakning)\b"
        r"|\btrækker\s+(?:jeg|vi)\s+(?:det|forslaget)\b|\bikke\s+tage\s+(?:den|det)\s+ind\b|\bfraråde\b"
        r"|\bjeg\s+synes\s+ikke\s+vi\s+skal\b|\bdet\s+er\s+der\s+ikke\s+(?:penge|budget|råd)\b|\bnej\s+tak\b"
        r"|\bdet\s+er\s+jeg\s+(?:meget\s+)?imod\b|\bdet\s+kan\s+ikke\s+lade\s+sig\s+gøre\b"
    ),
    "defer": (
        r"\blad\s+os\s+(?:nu\s+)?se\b|\bdet\s+må\s+vi\s+(?:se|kigge|tage)\b|\bdet\s+kan\s+vi\s+(?:snakke|tale)\s+om\b"
        r"|\bpå\s+et\s+tidspunkt\b|\bengang\b|\bpå\s+sigt\b|\bhen\s+ad\s+vejen\b|\bovervej\w*"
        r"|\btage\s+(?:det\s+)?op\s+(?:igen|senere)\b|\bikke\s+(?:lande|tage\s+stilling\s+til)\s+(?:det\s+)?i\s+dag\b"
        r"|\bvil\s+ikke\s+tage\s+(?:hul|stilling)\b|\bvente\s+med\b|\bsenere\b|\bi\s+en\s+fase\s+to\b"
    ),
    "vague": r"\bburde\b|\bskulle\s+nok\b|\bnok\s+også\b|\bman\s+kunne\b|\bmåske\b|\bdet\s+kunne\s+være\b",
    "commit_first_person": (
        rf"\bjeg\s+(?:\w+\s+){{0,2}}?{_TASK_PRESENT}\b|\b(?:så|det|den|dem|og)\s+{_TASK_PRESENT}\s+jeg\b"
        rf"|\bjeg\s+(?:skal\s+nok|kan\s+godt|kan|vil\s+gerne|vil)\s+(?:\w+\s+)?{TASK_VERB}\b"
        r"|\b(?:det|den|dem)\s+(?:gør|tager|klarer|ordner|når)\s+jeg\b|\bdet\s+kan\s+jeg\s+(?:godt|sagtens)\b"
        r"|\bjeg\s+(?:tager|klarer|ordner)\s+(?:den|det)\b|\bhar\s+jeg\s+(?:det\s+)?klar\b"
        r"|\bjeg\s+(?:vil\s+gerne\s+)?tilbyde?r?\b|\bdet\s+(?:kan\s+jeg\s+nå|når\s+jeg)\b"
        r"|\bjeg\s+kommer\s+(?:ud|hjem|forbi|over)\b"
    ),
    "commit_we": (
        rf"\bvi\s+(?:\w+\s+){{0,2}}?{_TASK_PRESENT}\b|\bså\s+{_TASK_PRESENT}\s+vi\b"
        r"|\bdet\s+kan\s+vi\s+(?:godt|sagtens)\b|\bdet\s+gør\s+vi\b|\bdet\s+får\s+i\b|\bi\s+får\b"
    ),
    "request": (
        r"\b(?:kan|vil|gider|kunne|skal)\s+(?:du|i)\b|\bdu\s+(?:skal|må)\b|\bvil\s+du\s+stå\s+for\b"
        rf"|\b{_TASK_PRESENT}\s+du\b|\bdu\s+{_TASK_PRESENT}\b"
        r"|\bjeg\s+vil\s+(?:gerne\s+)?(?:have|bede)\b|\bvil\s+jeg\s+(?:gerne\s+)?(?:have|bede)\b|\bhvem\s+(?:tager|sender|gør|står|kan|vil)\b"
        r"|\bnogen\s+der\s+(?:vil|kan)\b"
    ),
    "accept": (
        r"^(?:ja|jo|okay|ok|fint|klart|det\s+er\s+klart)?[ ,.]*(?:det\s+)?(?:gør|tager|klarer|ordner)\s+jeg\b"
        r"|^(?:ja|jo|okay|ok)?[ ,.]*det\s+kan\s+(?:jeg|vi)\s+(?:godt|sagtens|nok)\b"
        r"|^(?:ja|jo)\s+(?:det|den)\s+\w+er\s+jeg\b"
    ),
    "from_now": (
        r"\bfra\s+(?:nu\s+af|i\s+dag|i\s+morgen|næste\s+uge|på\s+\w+dag|første|den\s+\w+)\b|\bfremover\b"
        r"|\bindtil\s+(?:vi|der|de)\b|\bdet\s+gælder\b|\bden\s+regel\b|\bskal\s+alle\b"
    ),
    # Questions by word order only: transcripts may come with or without punctuation.
    "question_word": r"^(?:(?:og|men|så)\s+)?(?:hvad|hvem|hvor|hvordan|hvorfor|hvornår|hvilke|hvilken)\b",
    "yes_no_question": (
        r"^(?:(?:og|men)\s+)?(?:er|har|skal|kan|vil|kunne|gider|må|bliver|kommer|ved)\s+"
        r"(?:du|i|vi|der|det|han|hun|de|man)\b"
    ),
    "next_meeting": r"\bnæste\s+(?:møde|gang|[a-zæøå]*møde|[a-zæøå]*samråd)\b",
    "greeting": (
        r"\b(?:godmorgen|goddag|velkommen|hej|tak\s+for\s+i\s+dag|vi\s+ses|god\s+weekend|god\s+sommer|kaffe|kage"
        r"|undskyld\s+jeg\s+er\s+(?:sent|forsinket)|tillykke|smutter)\b"
    ),
    "thanks": r"^(?:tak|mange\s+tak|tusind\s+tak)\b",
    "past": (
        r"\b(?:sidste\s+(?:gang|møde|år|uge)|i\s+sidste\s+uge|i\s+går|sidst|tidligere"
        r"|har\s+(?:vi\s+)?(?:besluttet|aftalt))\b"
    ),
    "negation": r"\b(?:ikke|aldrig|ingen|intet)\b",
    "modal_future": r"\b(?:skal|vil|må)\b",
}
_COMPILED = {name: re.compile(pattern) for name, pattern in _CUES.items()}


def normalise(text: str) -> str:
    """Lower case, hesitations and repeated spaces gone; the form cues are matched in."""
    text = re.sub(r"(?i)(?<![\wæøå])(?:øh+m*|æh+m*|ehm+|hm+|mm+)(?![\wæøå])[,.]?\s*", "", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def cues(text: str) -> frozenset[str]:
    """The names of the cues ``text`` matches."""
    return _cues(text)


@lru_cache(maxsize=16384)
def _cues(text: str) -> frozenset[str]:
    normal = normalise(text)
    return frozenset(name for name, pattern in _COMPILED.items() if pattern.search(normal))


def cue_span(name: str, text: str) -> tuple[int, int] | None:
    """Where cue ``name`` matches in the normalised ``text``."""
    m = _COMPILED[name].search(normalise(text))
    return m.span() if m else None
