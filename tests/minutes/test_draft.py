"""The minutes draft: agenda alignment, topics, decisions, action items, deadlines, summaries and CPR masking.

The decision and action classifiers are the shipped weights (trained on the bundled meetings); the snippets
here are written for these tests, in the spoken style of a transcript, and are not part of that training data.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from pathlib import Path

import pytest

from services.common.errors import InvalidInput
from services.minutes.pipeline.draft import (
    EMPTY_SECTION_SUMMARY,
    build_minutes_draft,
    clean_sentence,
    draft_json,
    find_deadline,
    llm_summarizer,
    parse_agenda,
    read_agenda_lines,
    split_sentences,
    split_text,
)
from services.minutes.pipeline.draft.deadlines import next_meeting_date
from services.minutes.pipeline.draft.names import NameIndex, find_chair
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
    """Segments said by participants ("Mette Hansen") or speaker labels ("Taler 1")."""
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


def _items(lines: list[tuple[str, str]], *, meeting_date: date | None = date(2026, 3, 10)) -> dict:
    """The draft's JSON for a short exchange, without an agenda (one topic)."""
    draft_transcript = _transcript(lines)
    draft = build_minutes_draft(
        draft_transcript, title="t", meeting_date=meeting_date, participants=PARTICIPANTS, agenda=None
    )
    sections = draft_json(draft, draft_transcript)["sections"]
    return {
        "decisions": [d for s in sections for d in s["decisions"]],
        "actions": [a for s in sections for a in s["actions"]],
    }


def _item_of(draft: MinutesDraft, transcript: Transcript) -> dict[int, int]:
    """{segment: the agenda item it is listed under} in the draft's JSON (0: outside the agenda)."""
    return {i: s["number"] for s in draft_json(draft, transcript)["sections"] for i in s["segment_ids"]}


# --- Agenda alignment ------------------------------------------------------------------------------------


def test_sections_follow_the_agenda_and_hold_every_segment_once(transcript: Transcript) -> None:
    draft = _draft(transcript)

    assert [(s.number, s.title) for s in draft.sections] == [
        (1, "Godkendelse af dagsorden"),
        (2, "Budgetopfølgning for skoleområdet"),
        (3, "Eventuelt"),
    ]
    # Small talk before the first item and the goodbye are outside the agenda (in no section; item 0 in the
    # JSON); "Første punkt er …" opens item 1 and "Vi går videre til punkt 2" item 2.
    assert [s.segment_ids for s in draft.sections] == [
        list(range(3, 7)),
        list(range(7, 28)),
        list(range(28, 35)),
    ]
    sections = draft_json(draft, transcript)["sections"]
    assert next((s["number"], s["title"], s["segment_ids"]) for s in sections) == (
        0,
        "Uden for dagsordenen",
        [0, 1, 2, 35],
    )
    assert sorted(i for s in sections for i in s["segment_ids"]) == list(range(36))
    assert draft.title == "Børne- og Skoleudvalget"
    assert draft.meeting_date == MEETING_DATE


def test_a_decision_that_closes_an_item_stays_under_it(transcript: Transcript) -> None:
    # "Så er dagsordenen godkendt. Vi går videre til punkt 2 …" opens item 2, but settled item 1.
    draft = _draft(transcript)

    assert [(d.segment, d.text) for d in draft.sections[0].decisions] == [(7, "Så er dagsordenen godkendt.")]


def test_undiscussed_agenda_item_gets_an_empty_section(transcript: Transcript) -> None:
    agenda = [*AGENDA[:2], "3. Orientering om trafiksikkerhed ved skolerne", "4. Eventuelt"]
    titles_asked: list[str] = []

    def summarizer(title: str, sentences: list[str]) -> list[str]:
        titles_asked.append(title)
        return [f"Resumé af {title.lower()}."]

    draft = _draft(transcript, agenda=agenda, summarizer=summarizer)

    empty = next(s for s in draft.sections if s.number == 3)
    assert empty.title == "Orientering om trafiksikkerhed ved skolerne"
    assert empty.segment_ids == [] and empty.decisions == [] and empty.actions == []
    assert empty.summary == [EMPTY_SECTION_SUMMARY]
    assert empty.start == empty.end == draft.sections[1].end
    assert next(s for s in draft.sections if s.number == 4).segment_ids == list(range(28, 35))
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

    # Meetings open with small talk, so the aligner may keep the first lines outside the agenda; after them,
    # the content alone decides between the items (the turns are read in windows: the cut may be one late).
    item_of = _item_of(draft, _two_topics())
    assert [item_of[i] for i in range(2, 12)] == [1] * 10
    assert [item_of[i] for i in range(13, 24)] == [2] * 11
    assert {item_of[0], item_of[1]} <= {0, 1}


def test_spoken_item_numbers_follow_the_written_ones() -> None:
    lines = [
        ("Taler 1", "Godmorgen alle sammen, og velkommen."),
        ("Taler 1", "Vi starter med regnskabet for sidste år, som ser fornuftigt ud."),
        ("Taler 2", "Regnskabet viser et lille overskud på driften."),
        ("Taler 1", "Så går vi videre til punkt 7, som handler om skolernes ferieplan."),
        ("Taler 2", "Ferieplanen for næste skoleår følger den normale rytme."),
    ]
    agenda = ["6. Regnskab", "7. Ferieplan for skolerne"]

    draft = build_minutes_draft(
        _transcript(lines), title="t", meeting_date=None, participants=[], agenda=agenda
    )

    assert [(s.number, s.segment_ids) for s in draft.sections] == [(6, [1, 2]), (7, [3, 4])]


def test_the_chair_moves_the_meeting_on_and_back_to_an_earlier_item() -> None:
    # The titles say little about the talk: "punkt to", "punkt tre" and "tilbage til punkt to" tell.
    lines = [
        ("Mette Hansen", "godt. Velkommen alle sammen. Punkt et er orientering fra formanden"),
        ("Mette Hansen", "jeg har to meddelelser i dag. Den nye kantine åbner i januar"),
        ("Mette Hansen", "og vi har fået en ny sekretær i forvaltningen, hun starter på mandag"),
        ("Mette Hansen", "så går vi til punkt to. Lars"),
        ("Lars Nielsen", "ja der er kommet svar fra alle tolv skolebestyrelser om ferieplanen"),
        ("Lars Nielsen", "de fleste bakker op om den, men to er imod fordi de vil starte tidligere"),
        ("Mette Hansen", "tak. Så punkt tre, eventuelt. Er der noget"),
        ("Anne Sørensen", "må jeg lige gå tilbage til punkt to. Hvornår skal skolerne svare på ferieplanen"),
        ("Lars Nielsen", "skolerne skal svare på ferieplanen inden jul"),
        ("Mette Hansen", "godt. Var der mere under eventuelt"),
        ("Peter Holm", "nej"),
    ]
    agenda = ["Orientering fra formanden", "Ferieplan for skolerne", "Eventuelt"]

    draft = build_minutes_draft(
        _transcript(lines), title="t", meeting_date=None, participants=PARTICIPANTS, agenda=agenda
    )

    item_of = _item_of(draft, _transcript(lines))
    assert item_of[0] in (0, 1)  # "Velkommen alle sammen. Punkt et er …": the opening or item 1
    assert [item_of[i] for i in range(1, len(lines))] == [1, 1, 2, 2, 2, 3, 2, 2, 3, 3]


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


def test_agenda_file_is_read_as_one_item_per_line() -> None:
    assert read_agenda_lines(b"Godkendelse\r\n\r\n  Budget 2027 \nEventuelt") == [
        "Godkendelse",
        "Budget 2027",
        "Eventuelt",
    ]
    assert read_agenda_lines("\ufeffØkonomi".encode()) == ["Økonomi"]  # a UTF-8 byte order mark
    assert read_agenda_lines("Økonomi".encode("cp1252")) == ["Økonomi"]
    for raw, message in ((b"\x00\x01", "binær"), (b" \n\n", "tom")):
        with pytest.raises(InvalidInput, match=message):
            read_agenda_lines(raw)


# --- Decisions -------------------------------------------------------------------------------------------


def test_a_decision_closes_a_discussion_and_states_the_proposal() -> None:
    found = _items(
        [
            ("Mette Hansen", "så er der spørgsmålet om vagtplanen i julen"),
            ("Lars Nielsen", "mit forslag er at vi lukker skranken om eftermiddagen mellem jul og nytår"),
            ("Anne Sørensen", "det kan jeg godt leve med, der kommer næsten ingen borgere de dage"),
            ("Mette Hansen", "godt så gør vi det"),
            ("Peter Holm", "fint"),
        ]
    )

    assert [d["segment"] for d in found["decisions"]] == [3]
    assert "lukker skranken om eftermiddagen mellem jul og nytår" in found["decisions"][0]["text"]
    assert found["actions"] == []


@pytest.mark.parametrize(
    "lines",
    [
        # The chair asks for agreement; someone answers for the room.
        [
            ("Mette Hansen", "mit forslag er at vi holder mødet om arbejdsmiljø hver anden måned fremover"),
            ("Lars Nielsen", "det lyder fornuftigt"),
            ("Mette Hansen", "er alle enige"),
            ("Anne Sørensen", "ja det er vi enige om"),
        ],
        # A vote.
        [
            ("Mette Hansen", "indstillingen er at udvalget godkender den nye skolestruktur"),
            ("Peter Holm", "jeg stemmer imod, det er for dyrt"),
            ("Mette Hansen", "hvem er for. Det er fem. Så er indstillingen vedtaget med fem stemmer mod to"),
        ],
    ],
)
def test_agreement_and_votes_are_decisions(lines: list[tuple[str, str]]) -> None:
    found = _items(lines)

    assert len(found["decisions"]) == 1
    assert abs(found["decisions"][0]["segment"] - (len(lines) - 1)) <= 1


@pytest.mark.parametrize(
    "lines",
    [
        # A rejected proposal.
        [
            ("Lars Nielsen", "kunne vi ikke holde åbent om lørdagen i maj for pas"),
            ("Mette Hansen", "nej det vil jeg ikke. Det er der ikke penge til i år"),
            ("Lars Nielsen", "okay"),
        ],
        # A vague intention.
        [
            ("Anne Sørensen", "vi burde nok kigge på hele visitationsmodellen engang"),
            ("Mette Hansen", "ja det er rigtigt"),
        ],
        # A chair deferring an idea.
        [
            ("Peter Holm", "skal vi ikke lave et arrangement for de frivillige"),
            ("Mette Hansen", "det kan vi snakke om, lad os se hvordan det ser ud efter sommerferien"),
        ],
    ],
)
def test_rejected_deferred_and_vague_proposals_are_neither_decisions_nor_actions(
    lines: list[tuple[str, str]],
) -> None:
    assert _items(lines) == {"decisions": [], "actions": []}


def test_transcript_without_decisions_or_tasks_has_none() -> None:
    draft = build_minutes_draft(
        _two_topics(), title="t", meeting_date=MEETING_DATE, participants=PARTICIPANTS, agenda=None
    )

    assert all(s.decisions == [] and s.actions == [] for s in draft.sections)
    assert all(s.summary and s.summary != [EMPTY_SECTION_SUMMARY] for s in draft.sections)


# --- Action items ----------------------------------------------------------------------------------------


def test_the_person_asked_owns_the_task() -> None:
    found = _items(
        [
            ("Lars Nielsen", "vi mangler stadig nogen til at booke lokalet til temadagen"),
            ("Peter Holm", "Mette, vil du tage den?"),
            ("Mette Hansen", "ja det gør jeg"),
        ]
    )

    assert [(a["who"], a["segment"]) for a in found["actions"]] in (
        [("Mette Hansen", 1)],
        [("Mette Hansen", 2)],
    )


def test_a_first_person_commitment_belongs_to_the_speaker_with_its_deadline() -> None:
    found = _items(
        [
            ("Mette Hansen", "så mangler vi bare referatet fra sidst"),
            ("Anne Sørensen", "jeg retter referatet til og sender det rundt på fredag"),
        ]
    )

    assert [(a["who"], a["deadline"], a["deadline_text"], a["segment"]) for a in found["actions"]] == [
        ("Anne Sørensen", "2026-03-13", "på fredag", 1)
    ]
    assert found["actions"][0]["what"].startswith("Rette referatet til og sende det rundt")


def test_a_request_to_a_named_participant_gets_the_full_name_and_the_next_meeting_date() -> None:
    found = _items(
        [
            ("Mette Hansen", "Lars kan du lave et notat om hvad ordningen koster inden næste møde"),
            ("Lars Nielsen", "ja det kan jeg godt"),
            ("Mette Hansen", "godt. Og næste møde er den fjortende april"),
        ]
    )

    assert [(a["who"], a["deadline"], a["segment"]) for a in found["actions"]] == [
        ("Lars Nielsen", "2026-04-14", 0)
    ]
    assert found["actions"][0]["what"].startswith("Lave et notat om hvad ordningen koster")


def test_an_unresolvable_deadline_is_kept_as_said() -> None:
    found = _items([("Lars Nielsen", "jeg skriver til grundejerforeningen efter sommerferien")])

    assert [(a["who"], a["deadline"], a["deadline_text"]) for a in found["actions"]] == [
        ("Lars Nielsen", None, "efter sommerferien")
    ]


def test_owner_is_the_participant_name_for_speaker_labels(transcript: Transcript) -> None:
    draft = _draft(transcript)

    actions = [(a.segment, a.who, a.deadline_date) for s in draft.sections for a in s.actions]
    assert (21, "Lars Nielsen", "2025-11-21") in actions  # "Lars sørger for … senest fredag"
    assert (23, "Anne Sørensen", "2025-12-01") in actions  # "Jeg tager kontakt … inden 1. december"
    assert (33, "Peter Holm", "2025-11-19") in actions  # "Peter, du sender referatet ud i morgen."


# --- Deadlines, names --------------------------------------------------------------------------------------

MARCH_10 = date(2026, 3, 10)  # a Tuesday


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("på fredag", "2026-03-13"),
        ("senest fredag", "2026-03-13"),
        ("på tirsdag", "2026-03-17"),  # the meeting's own weekday means next week
        ("fredag i næste uge", "2026-03-20"),
        ("næste fredag", "2026-03-20"),
        ("i dag", "2026-03-10"),
        ("lige efter mødet", "2026-03-10"),
        ("i morgen", "2026-03-11"),
        ("i løbet af ugen", "2026-03-13"),
        ("inden udgangen af næste uge", "2026-03-20"),
        ("den tyvende marts", "2026-03-20"),
        ("senest den tyvende", "2026-03-20"),
        ("inden den første maj", "2026-05-01"),
        ("inden 1. maj", "2026-05-01"),
        ("inden 15/12", "2026-12-15"),
        ("torsdag den niende april", "2026-04-09"),
        ("den 3. marts 2027", "2027-03-03"),
        ("uge 12", "2026-03-20"),
        ("i uge niogtyve", "2026-07-17"),
        ("inden udgangen af måneden", "2026-03-31"),
        ("inden udgangen af juni", "2026-06-30"),
        ("om fjorten dage", "2026-03-24"),
        ("om to uger", "2026-03-24"),
    ],
)
def test_danish_deadlines_resolve_against_the_meeting_date(said: str, expected: str) -> None:
    found = find_deadline(f"jeg sender det {said}", MARCH_10)
    assert found is not None and found.value == expected and found.date == expected
    assert said in found.phrase


@pytest.mark.parametrize("said", ["efter sommerferien", "inden jul", "til næste møde", "i morgen"])
def test_deadlines_that_cannot_be_resolved_are_kept_as_said(said: str) -> None:
    meeting_date = None if said == "i morgen" else MARCH_10
    found = find_deadline(f"jeg sender det {said}", meeting_date)
    assert found is not None and found.date is None and found.value == found.phrase == said


def test_next_meeting_deadline_uses_the_date_said_for_it() -> None:
    texts = [
        "til næste møde vil jeg gerne have status, om de holdt den femtende marts",
        "vi ses den fjortende april",
    ]
    next_meeting = next_meeting_date(texts, MARCH_10)

    assert next_meeting == date(2026, 4, 14)
    assert find_deadline("det har jeg klar inden næste møde", MARCH_10, next_meeting).value == "2026-04-14"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "Jeg sender det til forvaltningen i morgenen efter mødet.",
        "vi har to timer om ugen til det",
        "han var træt den første time",
        "jeg afleverer ham i morgen-SFO'en",
        "det var i tirsdags",
    ],
)
def test_no_deadline_in_plain_text(text: str) -> None:
    assert find_deadline(text, MARCH_10) is None


def test_participants_are_known_by_first_name_and_the_chair_by_role() -> None:
    names = NameIndex.build(["Jens Peter Holm", "Jens Hansen", "Amira Hassan (udvalgsmedlem)"])

    assert names.full("Amira") == "Amira Hassan"
    assert names.full("Jens Peter") == "Jens Peter Holm"
    assert names.full("Jens") == "Jens"  # two participants are called Jens
    assert [n for _, n in names.mentions("men hvad er alternativet Jens Peter, spørger Amira")] == [
        "Jens Peter Holm",
        "Amira Hassan",
    ]
    speakers = ["Bo Lind", "Mette Hansen", "Bo Lind"]
    assert find_chair(["Bo Lind", "Mette Hansen (formand)"], speakers, [False] * 3) == "Mette Hansen"
    assert find_chair(["Bo Lind", "Mette Hansen"], speakers, [False] * 3) == "Bo Lind"
    assert find_chair([], speakers, [False, True, False]) == "Mette Hansen"
    roles = ["Bo Lind (næstformand)", "Mette Hansen (udvalgsformand)"]
    assert find_chair(roles, speakers, [False] * 3) == "Mette Hansen"


# --- Topics without an agenda ----------------------------------------------------------------------------


def test_no_agenda_gives_automatic_topics_covering_every_segment(transcript: Transcript) -> None:
    draft = _draft(transcript, agenda=None)

    assert len(draft.sections) >= 1
    covered = sorted(i for s in draft.sections for i in s.segment_ids)
    assert covered == [s.id for s in transcript.segments]
    assert [s.number for s in draft.sections] == list(range(1, len(draft.sections) + 1))
    assert all(re.match(r"Emne \d+ \(automatisk\)", s.title) for s in draft.sections)
    # Sectioning does not change what was decided or agreed.
    with_agenda = _draft(transcript)
    assert sorted(d.segment for s in draft.sections for d in s.decisions) == sorted(
        d.segment for s in with_agenda.sections for d in s.decisions
    )
    assert sorted(a.segment for s in draft.sections for a in s.actions) == sorted(
        a.segment for s in with_agenda.sections for a in s.actions
    )


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

    lines = [
        ("Taler 1", f"mit forslag er at vi sender sagen om {CPR} videre til forvaltningen"),
        ("Taler 2", "det er fint med mig"),
        ("Taler 1", "godt så gør vi det"),
        ("Taler 2", f"så skriver jeg til forvaltningen om {CPR} i morgen"),
    ]
    draft = build_minutes_draft(
        _transcript(lines),
        title=f"Sag {CPR}",
        meeting_date=MEETING_DATE,
        participants=[f"Borger {CPR}"],
        agenda=[f"1. Sagen om {CPR}"],
    )
    dumped = json.dumps(draft.to_dict(), ensure_ascii=False)
    assert CPR not in dumped and CPR.replace("-", "") not in dumped
    assert [d.text for s in draft.sections for d in s.decisions] == [
        "Mit forslag er at vi sender sagen om [CPR] videre til forvaltningen"
    ]
    assert [(a.who, a.what) for s in draft.sections for a in s.actions] == [
        ("Lars Nielsen", "Skrive til forvaltningen om [CPR]")
    ]
    assert draft.title == "Sag [CPR]" and draft.participants == ["Borger [CPR]"]
    assert draft.sections[-1].title == "Sagen om [CPR]"


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
    assert budget_input[:2] == [
        "Så er dagsordenen godkendt.",
        "Vi går videre til punkt 2, budgetopfølgning for skoleområdet.",
    ]
    assert any("[CPR]" in s for s in budget_input) and not any(CPR in s for s in budget_input)
    assert "Nej, ikke fra min side." in calls[0][1] and "Okay." not in calls[2][1]
    # Decisions and action items do not depend on the summarizer.
    without = _draft(transcript)
    assert [s.decisions for s in draft.sections] == [s.decisions for s in without.sections]
    assert [s.actions for s in draft.sections] == [s.actions for s in without.sections]


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
