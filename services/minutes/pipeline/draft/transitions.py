"""Phrases that move a meeting on to another item; agenda alignment, topic cuts and summaries heed them."""

from __future__ import annotations

import re

from services.minutes.pipeline.draft.words import NUMBER_WORDS

# A phrase that moves the meeting on ("næste punkt", "vi går videre til", "så kommer vi til", "lad os tage").
TRANSITION = re.compile(
    r"(?i)\b(?:næste\s+punkt|(?:vi|så)\s+går\s+(?:vi\s+)?videre|går\s+vi\s+videre|gå\s+videre\s+til"
    r"|(?:så\s+|og\s+)?går\s+vi\s+(?:så\s+)?(?:over\s+|tilbage\s+)?til|vi\s+går\s+(?:over\s+|tilbage\s+)?til"
    r"|så\s+kommer\s+vi\s+(?:så\s+)?til|kommer\s+vi\s+så\s+til|så\s+er\s+vi\s+(?:nået\s+)?til"
    r"|så\s+er\s+vi\s+ved|vi\s+er\s+nået\s+til|vi\s+tager\s+hul\s+på|så\s+tager\s+vi\s+punkt"
    r"|lad\s+os\s+(?:gå\s+(?:videre\s+)?til|tage)|så\s+tager\s+vi\s+(?:fat\s+på|hul\s+på)"
    r"|vi\s+(?:starter|begynder)\s+med|lad\s+os\s+(?:starte|begynde)\s+med)\b"
)
# An agenda item named by its number ("punkt 3", "pkt. nr. 4", "punkt tre").
POINT_NUMBER = re.compile(
    r"(?i)\b(?:punkt|pkt\.?)\s+(?:nummer\s+|nr\.?\s+)?(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")\b"
)
