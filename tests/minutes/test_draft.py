"""The minutes draft step: agenda alignment, topics, decisions, action items, summaries and CPR masking."""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from pathlib import Path

import pytest

from services.minutes.pipeline.draft import (
    EMPTY_SECTION_SUMMARY,
    Sentence,
    build_minutes_draft,
    clean_sentence,
    find_deadline,
    find_decisions,
    llm_summarizer,
    parse_agenda,
    split_sentences,
    split_text,
)
from services.minutes.pipeline.types import MinutesDraft, Segment, Transcript, Word

FIXTURE = Path(__file__).parent / "fixtures" / "meeting_da.json"
MEETING_DATE = date(2025, 11, 18)  # a Tuesday
PARTICIPANTS = ["Mette Hansen (formand)", "Lars Nielsen", "Anne Sørensen", "Peter Holm"]
AGENDA = ["1. Godkendelse af dagsorden", "2. Budgetopfølgning for skoleområdet", "3. Eventuelt"]
CPR = "010190-1234"

BUDGET_LINES = [
    "Budgettet for skoleområdet viser et merforbrug på specialundervisning.",
    "Merforbruget på specialundervisning skyldes flere elever i eksterne tilbud.",
    "Vi skal se på, hvordan budgettet kan balancere inden årets udgang.",
    "Prognosen for budgettet viser, at merforbruget vokser hen over efteråret.",
    "Økonomiafdelingen har regnet på budgettet og prognosen for specialundervisning.",
    "Der er også et merforbrug på vikarer, som belaster budgettet yderligere.",
    "Vikarforbruget er steget, fordi sygefraværet blandt lærerne er højt.",
    "Hvis budgettet skal holde, skal vikarforbruget og specialundervisningen ned.",
    "Budgetprognosen bliver opdateret, når tallene for november foreligger.",
    "Det samlede merforbrug på budgettet er større end sidste år.",
    "Skolernes økonomi er presset af specialundervisning og vikarer.",
    "Budgettet og merforbruget bliver fulgt tæt af økonomiafdelingen.",
]
TRAFFIC_LINES = [
    "Forældrene har klaget over trafikken ved skolens parkeringsplads om morgenen.",
    "Trafiksikkerheden ved skolevejen er dårlig, fordi bilerne kører for stærkt.",
    "Et nyt fodgængerfelt ved skolevejen kunne forbedre trafiksikkerheden.",
    "Cykelstien langs skolevejen mangler belysning i de mørke måneder.",
    "Vejafdelingen foreslår en hastighedsdæmpning med bump på skolevejen.",
    "Mange børn cykler til skole, og cykelstien er for smal.",
    "Politiet har målt hastigheden på skolevejen og fundet mange overtrædelser.",
    "Skolepatruljen hjælper børnene over fodgængerfeltet om morgenen.",
    "Belysningen på cykelstien bør forbedres før vinteren.",
    "Trafikken ved parkeringspladsen er kaotisk, når forældrene afleverer børn.",
    "Et kys-og-kør-område kunne mindske trafikken ved skolen.",
    "Hastighedsdæmpning og bedre belysning vil øge trafiksikkerheden for børnene.",
]


@pytest.fixture
def transcript() -> Transcript:
    return Transcript.from_dict(json.loads(FIXTURE.read_text(encoding="utf-8")))


def _draft(transcript: Transcript, **overrides: object) -> MinutesDraft:
    arguments: dict[str, object] = {
        "title": "Børne- og Skoleudvalget",
        "meeting_date": MEETING_DATE,
        "participants": PARTICIPANTS,
        "agenda": AGENDA,
    }
    arguments.update(overrides)
    return build_minutes_draft(transcript, **arguments)  # type: ignore[arg-type]


def _transcript(lines: list[tuple[str, str]], seconds_each: float = 10.0) -> Transcript:
    segments = [
        Segment(id=i, start=i * seconds_each, end=(i + 1) * seconds_each - 1, text=text, speaker=speaker)
        for i, (speaker, text) in enumerate(lines)
    ]
    return Transcript(
        language="da",
        language_probability=1.0,
        duration=len(lines) * seconds_each,
        segments=segments,
        speakers={"Taler 1": "Mette Hansen", "Taler 2": "Lars Nielsen"},
    )


def _two_topics() -> Transcript:
    """Twelve sentences on the budget, then twelve on traffic safety, 25 seconds apart (10 minutes)."""
    return _transcript([("Taler 1", line) for line in BUDGET_LINES + TRAFFIC_LINES], seconds_each=25.0)


def _actions_of(lines: list[tuple[str, str]]) -> list[tuple[str | None, str, str | None]]:
    draft = build_minutes_draft(
        _transcript(lines), title="t", meeting_date=MEETING_DATE, participants=PARTICIPANTS, agenda=None
    )
    return [(a.who, a.what, a.deadline) for s in draft.sections for a in s.actions]


# --- Agenda alignment ------------------------------------------------------------------------------------


def test_sections_follow_the_agenda_in_time_order(transcript: Transcript) -> None:
    draft = _draft(transcript)

    assert [(s.number, s.title) for s in draft.sections] == [
        (1, "Godkendelse af dagsorden"),
        (2, "Budgetopfølgning for skoleområdet"),
        (3, "Eventuelt"),
    ]
    # Segment 7 closes item 1 ("Så er dagsordenen godkendt.") and opens item 2, so both list it.
    assert [s.segment_ids for s in draft.sections] == [
        list(range(0, 8)),
        list(range(7, 28)),
        list(range(28, 36)),
    ]
    starts = [s.start for s in draft.sections]
    assert starts == sorted(starts)
    assert draft.title == "Børne- og Skoleudvalget"
    assert draft.meeting_date == MEETING_DATE


def test_undiscussed_agenda_item_gets_an_empty_section(transcript: Transcript) -> None:
    agenda = [*AGENDA[:2], "3. Orientering om trafiksikkerhed ved skolerne", "4. Eventuelt"]
    titles_asked: list[str] = []

    def summarizer(title: str, sentences: list[str]) -> list[str]:
        titles_asked.append(title)
        return [f"Resumé af {title.lower()}."]

    draft = _draft(transcript, agenda=agenda, summarizer=summarizer)

    empty = draft.sections[2]
    assert (empty.number, empty.title) == (3, "Orientering om trafiksikkerhed ved skolerne")
    assert empty.segment_ids == []
    assert empty.summary == [EMPTY_SECTION_SUMMARY]
    assert empty.decisions == [] and empty.actions == []
    assert empty.start == empty.end == draft.sections[1].end
    assert draft.sections[3].segment_ids == list(range(28, 36))
    assert "Orientering om trafiksikkerhed ved skolerne" not in titles_asked
    assert len(titles_asked) == 3


def test_agenda_alignment_without_cue_phrases_follows_the_content() -> None:
    draft = build_minutes_draft(
        _two_topics(),
        title="t",
        meeting_date=None,
        participants=[],
        agenda=["Budget og økonomi på skoleområdet", "Trafiksikkerhed ved skolerne"],
    )

    assert [s.segment_ids for s in draft.sections] == [list(range(12)), list(range(12, 24))]


def test_spoken_item_numbers_follow_the_written_ones() -> None:
    lines = [
        ("Taler 1", "Vi starter med regnskabet for sidste år, som ser fornuftigt ud."),
        ("Taler 2", "Regnskabet viser et lille overskud på driften."),
        ("Taler 1", "Så går vi videre til punkt 7, som handler om skolernes ferieplan."),
        ("Taler 2", "Ferieplanen for næste skoleår følger den normale rytme."),
    ]
    agenda = ["6. Regnskab", "7. Ferieplan for skolerne"]

    draft = build_minutes_draft(
        _transcript(lines), title="t", meeting_date=None, participants=[], agenda=agenda
    )

    assert [s.number for s in draft.sections] == [6, 7]
    assert [s.segment_ids for s in draft.sections] == [[0, 1], [2, 3]]


def test_transition_phrases_mark_the_item_changes() -> None:
    # The titles say nothing about the content: only "næste punkt" and "punkt 3" tell where items change.
    lines = [
        ("Taler 1", "Jeg har to meddelelser i dag."),
        ("Taler 1", "Den nye kantine åbner i januar."),
        ("Taler 1", "Og vi har fået en ny sekretær i forvaltningen."),
        ("Taler 1", "Så tager vi næste punkt."),
        ("Taler 2", "Der er kommet svar fra alle tolv bestyrelser."),
        ("Taler 2", "De fleste bakker op om forslaget, men to er imod."),
        ("Taler 1", "Vi går videre til punkt 3."),
        ("Taler 2", "Jeg har ikke noget."),
        ("Taler 1", "Heller ikke mig."),
    ]
    agenda = ["1. Orientering", "2. Sag til drøftelse", "3. Diverse"]

    draft = build_minutes_draft(
        _transcript(lines), title="t", meeting_date=None, participants=[], agenda=agenda
    )

    assert [s.segment_ids for s in draft.sections] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def test_parse_agenda_strips_numbers() -> None:
    items = parse_agenda(["1. Godkendelse af dagsorden", "Punkt 2: Budget", "3) Eventuelt", "  "])
    assert [(i.number, i.title) for i in items] == [
        (1, "Godkendelse af dagsorden"),
        (2, "Budget"),
        (3, "Eventuelt"),
    ]
    # Numbers that are missing or do not increase fall back to positions; a year is not an item number.
    assert [(i.number, i.title) for i in parse_agenda(["2. A", "B", "2026 budget"])] == [
        (1, "A"),
        (2, "B"),
        (3, "2026 budget"),
    ]


# --- Topics without an agenda ----------------------------------------------------------------------------


def test_no_agenda_gives_automatic_topics_covering_every_segment(transcript: Transcript) -> None:
    draft = _draft(transcript, agenda=None)

    assert len(draft.sections) >= 1
    covered = sorted({i for s in draft.sections for i in s.segment_ids})
    assert covered == [s.id for s in transcript.segments]
    assert [s.number for s in draft.sections] == list(range(1, len(draft.sections) + 1))
    assert all(re.match(r"Emne \d+ \(automatisk\)", s.title) for s in draft.sections)
    # Sectioning does not change what was decided or agreed.
    assert sum(len(s.decisions) for s in draft.sections) == 4
    assert sum(len(s.actions) for s in draft.sections) == 5


def test_topic_segmentation_cuts_where_the_subject_changes() -> None:
    draft = build_minutes_draft(_two_topics(), title="t", meeting_date=None, participants=[], agenda=None)

    assert [s.segment_ids for s in draft.sections] == [list(range(12)), list(range(12, 24))]
    assert draft.sections[0].title.startswith("Emne 1 (automatisk): ")
    assert "budget" in draft.sections[0].title
    assert "budget" not in draft.sections[1].title


def test_short_recording_without_agenda_is_one_topic() -> None:
    lines = [("Taler 1", line) for line in BUDGET_LINES[:3] + TRAFFIC_LINES[:3]]
    draft = build_minutes_draft(_transcript(lines), title="t", meeting_date=None, participants=[], agenda=[])

    assert len(draft.sections) == 1
    assert draft.sections[0].segment_ids == list(range(6))


# --- Decisions -------------------------------------------------------------------------------------------


def test_decisions_are_found_and_nothing_is_invented(transcript: Transcript) -> None:
    draft = _draft(transcript)

    assert [[d.text for d in s.decisions] for s in draft.sections] == [
        ["Så er dagsordenen godkendt."],
        [
            "Det blev besluttet, at skoleområdet udarbejder en handleplan for at nedbringe merforbruget.",
            "Så er vi enige om, at budgetopfølgningen tages til efterretning.",
        ],
        ["Punktet om legepladsen ved Taastrup Skole blev udsat til næste møde."],
    ]
    assert {d.speaker for s in draft.sections for d in s.decisions} == {"Mette Hansen"}
    by_id = {s.id: s for s in transcript.segments}
    assert draft.sections[1].decisions[0].start == by_id[20].start


@pytest.mark.parametrize(
    "text",
    [
        "Så er dagsordenen godkendt.",
        "Okay, hvis ingen har indvendinger, så er dagsordenen godkendt.",
        "Det blev besluttet at lukke svømmehallen i juli.",
        "Udvalget besluttede ikke at lukke skolen.",
        "Beslutning: Skolen får en ny legeplads.",
        "Indstillingen blev tiltrådt.",
        "Udvalget tiltrådte indstillingen.",
        "Der var enighed om at vente med byggeriet.",
        "Vi er enige om, at vi venter.",
        "Sagen blev udsat.",
        "Forslaget blev vedtaget med fem stemmer.",
        "Dagsordenen godkendes.",
        "Vi godkender regnskabet.",
        "Vi tager orienteringen til efterretning.",
    ],
)
def test_decision_cues(text: str) -> None:
    assert len(find_decisions([Sentence(0, text, 0, 0.0, 1.0, "Taler 1")], lambda _: None)) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Er dagsordenen godkendt?",
        "Skal vi beslutte det i dag?",
        "Kan vi godkende det",
        "Hvis vi beslutter det, så lukker vi skolen.",
        "Men hvis det bliver godkendt, så flytter vi.",
        "Når vi har besluttet det, går vi videre.",
        "Vi kan ikke beslutte noget endnu.",
        "Vi beslutter ikke noget i dag.",
        "Det blev ikke besluttet.",
        "Det er ikke godkendt endnu.",
        "Der er ikke enighed om et ansættelsesstop.",
        "Det skal besluttes i byrådet.",
        "Det er uklart, om det bliver godkendt.",
        "Sidste gang besluttede vi at vente.",
        "Vi talte længe om budgettet og skolernes økonomi.",
    ],
)
def test_not_decisions(text: str) -> None:
    assert find_decisions([Sentence(0, text, 0, 0.0, 1.0, "Taler 1")], lambda _: None) == []


# --- Action items ----------------------------------------------------------------------------------------


def test_action_items_with_owner_and_deadline(transcript: Transcript) -> None:
    draft = _draft(transcript)

    actions = [(s.number, a.who, a.what, a.deadline) for s in draft.sections for a in s.actions]
    assert actions == [
        (2, "Lars Nielsen", "Sende den opdaterede budgetprognose til udvalget", "2025-11-21"),
        (2, "Anne Sørensen", "Tage kontakt til de tre skoleledere om vikarforbruget", "2025-12-01"),
        (2, "Anne Sørensen", "Undersøge, om vi kan få refusion for de eksterne tilbud", "til næste møde"),
        (2, None, "Vi skal have en ny prognose fra økonomiafdelingen", "2025-11-30"),
        (3, "Peter Holm", "Sende referatet ud", "2025-11-19"),
    ]
    # "Ja, den tager jeg" is Anne's answer: the item is hers and dated where she said it.
    by_id = {s.id: s for s in transcript.segments}
    assert draft.sections[1].actions[2].start == by_id[25].start
    assert draft.sections[1].actions[2].speaker == "Anne Sørensen"


def test_without_a_meeting_date_deadlines_stay_as_said(transcript: Transcript) -> None:
    draft = _draft(transcript, meeting_date=None)

    deadlines = [a.deadline for s in draft.sections for a in s.actions]
    assert deadlines == [
        "senest fredag",
        "inden 1. december",
        "til næste møde",
        "inden udgangen af måneden",
        "i morgen",
    ]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            [("Taler 2", "Jeg skal nok sende det rundt i morgen.")],
            [("Lars Nielsen", "Sende det rundt", "2025-11-19")],
        ),
        ([("Taler 1", "Så sørger jeg for at booke lokalet.")], [("Mette Hansen", "Booke lokalet", None)]),
        (
            [("Taler 1", "Mette følger op på sagen med forvaltningen.")],
            [("Mette Hansen", "Følge op på sagen med forvaltningen", None)],
        ),
        (
            [("Taler 1", "Forvaltningen undersøger mulighederne inden jul.")],
            [(None, "Undersøge mulighederne", "inden jul")],
        ),
        (
            [("Taler 1", "Opfølgning: Anne indkalder til nyt møde i uge 3.")],
            [("Anne Sørensen", "Indkalde til nyt møde", "i uge 3")],
        ),
        (
            [("Taler 1", "Jeg ringer til rektor på mandag.")],
            [("Mette Hansen", "Ringe til rektor", "2025-11-24")],
        ),
        (
            [("Taler 1", "Er der nogen, der vil booke lokalet?"), ("Taler 2", "Det tager jeg.")],
            [("Lars Nielsen", "Booke lokalet", None)],
        ),
        (
            [
                ("Taler 1", "Kan du lige tjekke tallene inden fredag?"),
                ("Taler 2", "Ja, det kan jeg godt gøre."),
            ],
            [("Lars Nielsen", "Tjekke tallene", "2025-11-21")],
        ),
        # An "okay, det gør jeg" after an assignment confirms it; it is not a second item.
        (
            [("Taler 1", "Lars sender tallene."), ("Taler 2", "Det gør jeg.")],
            [("Lars Nielsen", "Sende tallene", None)],
        ),
    ],
)
def test_action_cues(
    lines: list[tuple[str, str]], expected: list[tuple[str | None, str, str | None]]
) -> None:
    assert _actions_of(lines) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Min datter sørger altid for kaffen derhjemme.",
        "Min søn sender mig billeder fra lejren.",
        "Hvis Lars sender det, så er det fint.",
        "Jeg sender ikke noget før efter jul.",
        "Kan du sende det, Lars?",
        "Vi laver en masse sjove ting med eleverne.",
        "Jeg vil bare nævne, at julefrokosten er den 12. december.",
    ],
)
def test_not_action_items(text: str) -> None:
    assert _actions_of([("Taler 1", text)]) == []


def test_transcript_without_cue_phrases_has_no_decisions_or_actions() -> None:
    draft = build_minutes_draft(
        _two_topics(), title="t", meeting_date=MEETING_DATE, participants=PARTICIPANTS, agenda=None
    )

    assert all(s.decisions == [] and s.actions == [] for s in draft.sections)
    assert all(s.summary and s.summary != [EMPTY_SECTION_SUMMARY] for s in draft.sections)


@pytest.mark.parametrize(
    ("phrase", "with_date", "without_date"),
    [
        ("senest fredag", "2025-11-21", "senest fredag"),
        ("på tirsdag", "2025-11-25", "på tirsdag"),  # the meeting's own weekday means next week
        ("inden 1. december", "2025-12-01", "inden 1. december"),
        ("den 15. januar", "2026-01-15", "den 15. januar"),
        ("senest den 3. marts 2026", "2026-03-03", "2026-03-03"),
        ("inden 15/12", "2025-12-15", "inden 15/12"),
        ("til næste møde", "til næste møde", "til næste møde"),
        ("i uge 48", "i uge 48", "i uge 48"),
        ("inden udgangen af måneden", "2025-11-30", "inden udgangen af måneden"),
        ("i morgen", "2025-11-19", "i morgen"),
        ("om to uger", "2025-12-02", "om to uger"),
        ("næste fredag", "næste fredag", "næste fredag"),  # this week's or next week's: left as said
        ("fredag i næste uge", "2025-11-28", "fredag i næste uge"),
        ("inden jul", "inden jul", "inden jul"),
        ("den 31. februar", "den 31. februar", "den 31. februar"),
    ],
)
def test_deadlines(phrase: str, with_date: str, without_date: str) -> None:
    text = f"Jeg sender det {phrase}."
    found = find_deadline(text, MEETING_DATE)
    assert found is not None and found.phrase == phrase and found.value == with_date
    assert find_deadline(text, None).value == without_date  # type: ignore[union-attr]


def test_no_deadline_in_plain_text() -> None:
    assert find_deadline("Jeg sender det til forvaltningen i morgenen efter mødet.", MEETING_DATE) is None


# --- Summaries, privacy, sentences -----------------------------------------------------------------------


def test_extractive_summary_picks_central_sentences_in_order(transcript: Transcript) -> None:
    draft = _draft(transcript)
    sentences = split_sentences(transcript)

    for section in draft.sections:
        said = [clean_sentence(s.text) for s in sentences if s.segment_id in section.segment_ids]
        assert 1 <= len(section.summary) <= 3
        assert all(line in said for line in section.summary)
        assert [said.index(line) for line in section.summary] == sorted(
            said.index(line) for line in section.summary
        )
        assert not any(
            line.endswith("?") or line in {"Okay.", "Ja.", "Tak for i dag."} for line in section.summary
        )
    assert any("merforbrug" in line.lower() for line in draft.sections[1].summary)
    assert draft.summary_source == "extractive"


def test_cpr_numbers_never_reach_the_draft(transcript: Transcript) -> None:
    text = json.dumps(_draft(transcript, agenda=None).to_dict(), ensure_ascii=False)
    assert CPR not in text and CPR.replace("-", "") not in text

    lines = [("Taler 1", f"Det blev besluttet at sende sagen om {CPR} videre til forvaltningen.")]
    draft = build_minutes_draft(
        _transcript(lines),
        title=f"Sag {CPR}",
        meeting_date=None,
        participants=[f"Borger {CPR}"],
        agenda=[f"1. Sagen om {CPR}"],
    )
    dumped = json.dumps(draft.to_dict(), ensure_ascii=False)
    assert CPR not in dumped
    assert (
        draft.sections[0].decisions[0].text
        == "Det blev besluttet at sende sagen om [CPR] videre til forvaltningen."
    )
    assert draft.title == "Sag [CPR]" and draft.participants == ["Borger [CPR]"]
    assert draft.sections[0].title == "Sagen om [CPR]"


def test_split_text_keeps_abbreviations_and_dates() -> None:
    text = "Vi har ca. 3 mio. kr. tilbage. Inden 1. december skal det være klar! Ok? Ja."
    assert [text[a:b] for a, b in split_text(text)] == [
        "Vi har ca. 3 mio. kr. tilbage.",
        "Inden 1. december skal det være klar!",
        "Ok?",
        "Ja.",
    ]


def test_sentence_times_come_from_word_timings() -> None:
    words = [
        Word(10.0, 10.4, " Så", 0.9),
        Word(10.4, 10.6, " er", 0.9),
        Word(10.6, 11.0, " det", 0.9),
        Word(11.0, 11.8, " godkendt.", 0.9),
        Word(13.0, 13.5, " Næste", 0.9),
        Word(13.5, 14.0, " punkt.", 0.9),
    ]
    segment = Segment(id=0, start=10.0, end=14.0, text=" Så er det godkendt. Næste punkt.", words=words)
    transcript = Transcript(language="da", language_probability=1.0, duration=20.0, segments=[segment])

    sentences = split_sentences(transcript)

    assert [(s.text, s.start, s.end) for s in sentences] == [
        ("Så er det godkendt.", 10.0, 11.8),
        ("Næste punkt.", 13.0, 14.0),
    ]


# --- The LLM path ----------------------------------------------------------------------------------------


def test_summarizer_is_used_when_given(transcript: Transcript) -> None:
    calls: list[tuple[str, list[str]]] = []

    def summarizer(title: str, sentences: list[str]) -> list[str]:
        calls.append((title, sentences))
        return [f"Udvalget drøftede {title.lower()}.", f"Personnummer {CPR} nævnt."]

    draft = _draft(transcript, summarizer=summarizer)

    assert draft.summary_source == "llm"
    assert [title for title, _ in calls] == [
        "Godkendelse af dagsorden",
        "Budgetopfølgning for skoleområdet",
        "Eventuelt",
    ]
    assert draft.sections[1].summary == [
        "Udvalget drøftede budgetopfølgning for skoleområdet.",
        "Personnummer [CPR] nævnt.",
    ]
    budget_input = calls[1][1]
    assert budget_input[0] == "Vi går videre til punkt 2, budgetopfølgning for skoleområdet."
    assert any("[CPR]" in s for s in budget_input) and not any(CPR in s for s in budget_input)
    assert "Ja." not in calls[0][1] and "Okay." not in calls[2][1]
    # Decisions and action items stay extractive on the LLM path.
    assert [len(s.decisions) for s in draft.sections] == [1, 2, 1]


@pytest.mark.parametrize("failure", ["raises", "empty"])
def test_summarizer_failure_falls_back_to_extractive(
    transcript: Transcript, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    def summarizer(title: str, sentences: list[str]) -> list[str]:
        if failure == "raises":
            raise RuntimeError(f"model crashed on: {sentences[0]}")
        return ["  "]

    with caplog.at_level(logging.WARNING):
        draft = _draft(transcript, summarizer=summarizer)

    extractive = _draft(transcript)
    assert draft.summary_source == "extractive"
    assert [s.summary for s in draft.sections] == [s.summary for s in extractive.sections]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and all("Godmorgen" not in w and "model crashed" not in w for w in warnings)


class _StubChat:
    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.messages: list[dict[str, str]] = []

    def chat(self, messages: list[dict[str, str]]) -> str:
        self.messages = messages
        return self.reply


def test_llm_summarizer_asks_for_a_danish_summary_from_the_sentences_only() -> None:
    chat = _StubChat(
        "- Udvalget drøftede budgettet.\n\n2. Der er et merforbrug. Det skal nedbringes.\n* Ekstra."
    )
    summarize = llm_summarizer(chat)

    summary = summarize("Budget", ["Vi har et merforbrug.", "Det skal ned."])

    assert summary == ["Udvalget drøftede budgettet.", "Der er et merforbrug.", "Det skal nedbringes."]
    system, user = chat.messages
    assert system["role"] == "system" and "KUN" in system["content"] and "dansk" in system["content"]
    assert user["role"] == "user"
    assert "Budget" in user["content"] and "- Vi har et merforbrug.\n- Det skal ned." in user["content"]


def test_llm_summarizer_rejects_an_empty_answer() -> None:
    with pytest.raises(ValueError):
        llm_summarizer(_StubChat(" \n - \n"))("Budget", ["Vi har et merforbrug."])
