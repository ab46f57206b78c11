"""Readers: every input format yields LabelledMail with the right queue and source id, streams one mail at a
time, and bad input is an InvalidInput that says (in Danish) which file, line or mail is wrong."""

from __future__ import annotations

import json
import tracemalloc
from collections import Counter
from email.message import EmailMessage
from itertools import islice
from pathlib import Path

import pytest

from mail_fixtures import mail, to_bytes, write_eml, write_mbox, write_msg
from services.common.config import shared_data_dir
from services.common.errors import InvalidInput
from services.mailsort.readers import read_labelled

SHARED_DATA = shared_data_dir()
DEV_JSONL = SHARED_DATA / "mail_da" / "dev.jsonl"
TICKETS_CSV = SHARED_DATA / "tickets" / "tickets_de_dev.csv"


# --- single mails, mbox, folders ----------------------------------------------------------------------------


def test_eml_file(tmp_path: Path) -> None:
    path = write_eml(tmp_path / "klage.eml", mail("Støj fra byggepladsen hele natten.", subject="Støj"))
    (item,) = read_labelled(path)
    assert (item.queue, item.source_id, item.mail.subject) == (None, "klage.eml", "Støj")
    assert item.mail.new_text == "Støj fra byggepladsen hele natten."


def test_outlook_msg_file(tmp_path: Path) -> None:
    (item,) = read_labelled(write_msg(tmp_path / "Sag 17.msg", subject="Væltet træ"))
    assert (item.queue, item.source_id, item.mail.subject) == (None, "Sag 17.msg", "Væltet træ")


def _three_mails() -> list[EmailMessage]:
    return [
        mail("Vejen er ikke ryddet for sne.", subject="Snerydning", message_id="<a@x>"),
        mail("From the start of March I live in Taastrup.", subject="Adresse", message_id="<b@x>"),
        mail(
            "Hej\n\nJeg har mistet mit sundhedskort.\n\nMvh Kim", subject="Sundhedskort", message_id="<c@x>"
        ),
    ]


def test_mbox_with_three_mails(tmp_path: Path) -> None:
    items = list(read_labelled(write_mbox(tmp_path / "eksport.mbox", _three_mails())))
    assert [i.mail.subject for i in items] == ["Snerydning", "Adresse", "Sundhedskort"]
    assert [i.source_id for i in items] == ["eksport.mbox#1", "eksport.mbox#2", "eksport.mbox#3"]
    assert all(i.queue is None for i in items)
    # A body line starting with "From " is escaped by mailbox and does not split the mail.
    assert items[1].mail.new_text.endswith("I live in Taastrup.")
    assert items[2].mail.signature == "Mvh Kim"


def test_mbox_is_recognised_by_its_first_line_without_the_suffix(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "Indbakke", _three_mails())
    assert [i.mail.message_id for i in read_labelled(path)] == ["<a@x>", "<b@x>", "<c@x>"]


def test_an_mbox_suffix_on_something_else_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "forkert.mbox").write_bytes(to_bytes(mail()))
    with pytest.raises(InvalidInput, match=r"forkert\.mbox: ikke en mbox-fil"):
        read_labelled(tmp_path / "forkert.mbox")
    (tmp_path / "tom.mbox").write_bytes(b"")
    assert list(read_labelled(tmp_path / "tom.mbox")) == []  # an empty export is a valid mbox


def test_large_mbox_is_streamed_not_loaded(tmp_path: Path) -> None:
    text = "Vores skraldespand er ikke blevet tømt. " * 25
    one = to_bytes(mail(text, message_id="<N@x>"))  # serialised once: building 10,000 messages takes 15 s
    path = write_mbox(tmp_path / "stor.mbox", (one.replace(b"<N@x>", b"<%d@x>" % n) for n in range(10_000)))
    size = path.stat().st_size
    tracemalloc.start()
    try:
        first = list(islice(read_labelled(path), 3))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [m.mail.message_id for m in first] == ["<0@x>", "<1@x>", "<2@x>"]
    # Reading three mails needs the table of offsets (a few bytes a mail), not the 12 MB file.
    assert peak < size / 4, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB mbox"


def test_folder_tree_with_one_sub_folder_per_queue(tmp_path: Path) -> None:
    root = tmp_path / "eksport"
    write_eml(root / "borgerservice" / "1.eml", mail("Mit pas er udløbet.", subject="Pas"))
    write_eml(root / "it-support" / "2024" / "2.eml", mail("Printeren virker ikke.", subject="Printer"))
    write_msg(root / "it-support" / "3.MSG", subject="VPN")
    write_eml(root / "løs.eml", mail("Hvem tager denne?", subject="Ukendt"))
    (root / "borgerservice" / "noter.txt").write_text("ikke en mail")
    write_eml(root / ".trash" / "slettet.eml", mail("Slettet.", subject="Slettet"))
    items = list(read_labelled(root))
    assert [(i.source_id, i.queue, i.mail.subject) for i in items] == [
        ("borgerservice/1.eml", "borgerservice", "Pas"),
        ("it-support/2024/2.eml", "it-support", "Printer"),
        ("it-support/3.MSG", "it-support", "VPN"),
        ("løs.eml", None, "Ukendt"),
    ]


def test_a_bad_mail_in_a_folder_names_the_file(tmp_path: Path) -> None:
    write_eml(tmp_path / "hr-loen" / "1.eml", mail("Lønseddel mangler."))
    (tmp_path / "hr-loen" / "2.eml").write_bytes(b"")
    with pytest.raises(InvalidInput, match=r"hr-loen/2\.eml: Mailen er tom"):
        list(read_labelled(tmp_path))


def test_a_bad_mail_in_an_mbox_names_its_number(tmp_path: Path) -> None:
    good = to_bytes(mail("Første mail."))
    (tmp_path / "fejl.mbox").write_bytes(
        b"From a@x Tue Mar  4 10:12:00 2025\n" + good + b"\nFrom b@x Tue Mar  4 10:13:00 2025\n\n\n"
    )
    with pytest.raises(InvalidInput, match=r"fejl\.mbox, mail nr\. 2: Mailen er tom"):
        list(read_labelled(tmp_path / "fejl.mbox"))


def test_a_folder_without_mails_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "tom" / "borgerservice").mkdir(parents=True)
    with pytest.raises(InvalidInput, match=r"ingen \.eml- eller \.msg-filer"):
        list(read_labelled(tmp_path / "tom"))


# --- JSON Lines ---------------------------------------------------------------------------------------------


def _jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_rows(tmp_path: Path) -> None:
    row = {"id": "m-1", "from": "Kim <kim@example.dk>", "to": "post@kommune.dk", "subject": "Pas",
           "body": "Mit pas er udløbet.\n\nMvh Kim", "queue": "borgerservice", "label": "x"}  # fmt: skip
    path = _jsonl(tmp_path / "mails.jsonl", [row, {**row, "id": "", "queue": ""}])
    path.write_text(path.read_text(encoding="utf-8") + "\n  \n", encoding="utf-8")  # trailing blank lines
    first, second = read_labelled(path)
    assert (first.source_id, first.queue, first.mail.sender) == (
        "m-1",
        "borgerservice",
        "Kim <kim@example.dk>",
    )
    assert (first.mail.new_text, first.mail.signature) == ("Mit pas er udløbet.", "Mvh Kim")
    assert (second.source_id, second.queue) == ("mails.jsonl:2", None)  # an empty label is unknown
    assert [m.queue for m in read_labelled(path, queue_field="label")] == ["x", "x"]
    assert [m.queue for m in read_labelled(path, queue_field=None)] == [None, None]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            '{"subject": "a", "body": "b", "queue": "q"}\n{"subject": "a", "body": \n',
            r"linje 2: ikke gyldig JSON",
        ),
        ('{"subject": "a", "queue": "q"}\n', r"linje 1: feltet 'body' mangler"),
        ('\n{"body": "b"}\n', r"linje 2: feltet 'subject', 'queue' mangler"),
        ('["a", "b"]\n', r"linje 1: forventede et JSON-objekt"),
    ],
)
def test_jsonl_errors_name_the_line(tmp_path: Path, lines: str, message: str) -> None:
    path = tmp_path / "fejl.jsonl"
    path.write_text(lines, encoding="utf-8")
    with pytest.raises(InvalidInput, match=rf"fejl\.jsonl, {message}"):
        list(read_labelled(path))


# --- CSV ----------------------------------------------------------------------------------------------------


def test_csv_with_subject_body_queue_and_other_columns(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text(
        "subject,body,queue,priority\n"
        '"Faktura","Hej\n\nFaktura 2291 er betalt to gange.\n\nMvh Pernille",oekonomi,high\n'
        'Printer,"Printeren siger papirstop.\\n\\nVenlig hilsen\\nBirthe",it-support,low\n',
        encoding="utf-8-sig",  # Excel's BOM
    )
    first, second = read_labelled(path)
    assert (first.queue, first.source_id, first.mail.subject) == ("oekonomi", "tickets.csv:1", "Faktura")
    assert (first.mail.new_text, first.mail.signature) == (
        "Hej\n\nFaktura 2291 er betalt to gange.",
        "Mvh Pernille",
    )
    # Literal "\n" in a body without real line breaks (as in the ticket data sets) become line breaks.
    assert (second.mail.new_text, second.mail.signature) == (
        "Printeren siger papirstop.",
        "Venlig hilsen\nBirthe",
    )


def test_csv_with_semicolons_and_capitalised_columns(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("Subject;Body;Queue\nPas;Mit pas er udløbet;borgerservice\n", encoding="utf-8")
    (item,) = read_labelled(path)
    assert (item.mail.subject, item.mail.new_text, item.queue) == (
        "Pas",
        "Mit pas er udløbet",
        "borgerservice",
    )


def test_csv_without_the_columns_names_the_columns_it_has(tmp_path: Path) -> None:
    path = tmp_path / "forkert.csv"
    path.write_text("titel,tekst,afdeling\na,b,c\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_labelled(path)  # raised at once, before the first mail is asked for
    assert caught.value.message == (
        "forkert.csv: kolonnerne 'subject', 'body', 'queue' mangler. "
        "Filen har kolonnerne: titel, tekst, afdeling."
    )
    path.write_text("subject,body\na,b\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="kolonnen 'queue' mangler"):
        read_labelled(path)
    assert [m.queue for m in read_labelled(path, queue_field=None)] == [None]


def test_csv_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "ansi.csv"
    path.write_bytes("subject,body,queue\nBøde,Jeg har fået en bøde,teknik\n".encode("cp1252"))
    with pytest.raises(InvalidInput, match="ikke UTF-8"):
        list(read_labelled(path))


# --- format and path errors ---------------------------------------------------------------------------------


def test_missing_path_is_an_error_at_once(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="findes ikke"):
        read_labelled(tmp_path / "findes-ikke.jsonl")


@pytest.mark.parametrize("name", ["rapport.pdf", "noter.txt", "data.json"])
def test_unknown_format_is_an_error_naming_what_kai_reads(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("Hej\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"ukendt format\. Kai kan læse \.eml, \.msg, \.mbox"):
        read_labelled(tmp_path / name)


def test_a_broken_eml_or_msg_file(tmp_path: Path) -> None:
    (tmp_path / "tom.eml").write_bytes(b"")
    with pytest.raises(InvalidInput, match=r"tom\.eml: Mailen er tom"):
        list(read_labelled(tmp_path / "tom.eml"))
    (tmp_path / "ikke.msg").write_bytes(b"Hej, jeg er ikke en Outlook-fil")
    with pytest.raises(InvalidInput, match=r"ikke\.msg: Det er ikke en Outlook-mail"):
        list(read_labelled(tmp_path / "ikke.msg"))


# --- the shared data sets -----------------------------------------------------------------------------------


@pytest.mark.skipif(not DEV_JSONL.exists(), reason="shared mail_da data not present")
def test_danish_dev_jsonl() -> None:
    items = list(read_labelled(DEV_JSONL))
    assert len(items) == 320
    assert set(Counter(i.queue for i in items).values()) == {32}  # 10 queues, 32 mails each
    assert len({i.source_id for i in items}) == 320 and items[0].source_id == "dev-0001"
    assert all(i.mail.new_text and i.mail.sender for i in items)


@pytest.mark.skipif(not TICKETS_CSV.exists(), reason="shared ticket data not present")
def test_german_tickets_csv() -> None:
    items = list(read_labelled(TICKETS_CSV))
    assert len(items) == 1_700
    assert len(Counter(i.queue for i in items)) == 10
    assert all(i.mail.new_text for i in items)
    assert not any("\\n" in i.mail.text for i in items)  # the escaped line breaks are real ones now
