"""Danish words: tokens, stop and filler words, and the number words people use for agenda items and weeks."""

from __future__ import annotations

import re

from services.common.danish import UNIT_WORDS, WORDS_BELOW_HUNDRED


def word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOP_WORDS = word_set(
    """
    ad af aldrig alle allerede alt altid altså anden andet andre at bare begge blev blevet blive
    bliver bør burde både cirka ca cpr da dag de dem den denne dens der deres derfor dermed derovre
    det dette dig din dine disse dog du efter egentlig eks eller en end endnu eneste er et faktisk
    fem fik fire for fordi fra fx få får gang gerne gik gjort godt gør gøre går gå ham han hans har
    havde have hej hele helt hende hendes her hermed hos hun hvad hvem hver hvert hvilke hvilken
    hvis hvor hvordan hvorfor hvornår i igen ikke ind ingen intet ja jamen jeg jer jo kan kom komme
    kommer kun kunne lad lidt lige man mange med meget men mener mere mig min mine mit mod må måske
    ned nej nemlig netop nogen noget nogle nok nu ny nye når næste nå og også ok okay om op os osv
    over punkt punktet på rigtig rigtigt samme se ser seks sidste sig sige siger sin sine sit skal
    skulle som stadig sådan så tage tager tak ti til to tre tror ud under vi vil ville virkelig var
    ved vel videre været vores vor øh øhm æh hmm mm første ting synes selv sagt sagde blot ligesom
    både kroner procent millioner
    """
)

# Words without content of their own: a sentence of only these is small talk ("Ja.", "Okay, tak.").
FILLER_WORDS = word_set(
    """
    ja jo nej nå okay ok godt fint tak super præcis netop klart mm hmm hm aha nemlig selvfølgelig
    jamen altså så det er rigtigt rigtig enig enige helt også for i dag sådan hej goddag godmorgen
    farvel øh øhm æh ehm skønt perfekt fedt vi ses tusind mange allesammen alle sammen
    """
)

# The numbers an agenda item is called by ("punkt tre", "punkt 12").
NUMBER_WORDS = {word: value for word, value in WORDS_BELOW_HUNDRED.items() if value <= 12}

_TOKEN = re.compile(r"[a-zæøåéü]+(?:-[a-zæøåéü]+)*")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def content_tokens(text: str) -> list[str]:
    return [t for t in tokenize(text) if t not in _STOP_WORDS and len(t) > 1]


def is_filler(text: str) -> bool:
    """True for small talk without content ("Ja.", "Okay, tak for i dag.")."""
    return all(t in FILLER_WORDS for t in tokenize(text))


def is_substantive(text: str) -> bool:
    """True for a sentence with something to say: not small talk and at least three content words."""
    return not is_filler(text) and len(content_tokens(text)) >= 3


ORDINALS = {
    "første": 1,
    "anden": 2,
    "andet": 2,
    "tredje": 3,
    "fjerde": 4,
    "femte": 5,
    "sjette": 6,
    "syvende": 7,
    "ottende": 8,
    "niende": 9,
    "tiende": 10,
    "ellevte": 11,
    "tolvte": 12,
    "trettende": 13,
    "fjortende": 14,
    "femtende": 15,
    "sekstende": 16,
    "syttende": 17,
    "attende": 18,
    "nittende": 19,
    "tyvende": 20,
    "tredivte": 30,
    "tredvte": 30,
}
for _unit, _value in UNIT_WORDS.items():
    if _unit not in ("et", "ét"):
        ORDINALS[f"{_unit}ogtyvende"] = 20 + _value
ORDINALS["enogtredivte"] = ORDINALS["enogtredvte"] = 31


def spoken_number(token: str) -> int | None:
    """The value of a number said or written as one token ("12", "tolv", "niogtyve"), else None."""
    word = token.lower()
    if word.isdigit():
        return int(word)
    return WORDS_BELOW_HUNDRED.get(word)


def spoken_ordinal(token: str) -> int | None:
    """The day a spoken or written ordinal names ("fjortende", "14."), else None."""
    word = token.lower().rstrip(".")
    if word.isdigit():
        return int(word)
    return ORDINALS.get(word)
