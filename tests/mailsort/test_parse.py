"""Mail parsing: MIME, charsets and headers decode as a person would read them; bodies split into the sender's
new text, quoted earlier mails and the signature; attachments are listed but never kept."""

from __future__ import annotations

import json
import time
import tracemalloc
from dataclasses import astuple
from email.header import Header
from email.message import EmailMessage
from pathlib import Path

import pytest

from mail_fixtures import (
    DATE,
    SENDER,
    alternative,
    attach,
    html_only,
    mail,
    outlook_msg,
    relabel_charset,
    to_bytes,
    write_msg,
)
from services.common.config import shared_data_dir
from services.common.errors import InvalidInput
from services.mailsort.parse import (
    MailParseError,
    html_to_text,
    parse_fields,
    parse_message,
    parse_outlook,
    split_body,
)

DEV_JSONL = shared_data_dir() / "mail_da" / "dev.jsonl"

# --- split_body ---------------------------------------------------------------------------------------------

OUTLOOK_REPLY = """Hej Borgerservice

Kan I hjælpe min mor med et nyt sundhedskort? Hun har mistet det gule kort.

Med venlig hilsen
Kim Rask
Tlf. 21 43 65 87

-----Oprindelig meddelelse-----
Fra: Borgerservice <borgerservice@kommune.dk>
Sendt: 3. marts 2025 14:02
Til: Kim Rask <kim.rask@example.dk>
Emne: SV: Sundhedskort

Kære Kim

Din mor skal selv bestille kortet på borger.dk.

Venlig hilsen
Borgerservice"""


def test_outlook_reply_in_danish_splits_new_quoted_and_signature() -> None:
    new, quoted, signature = split_body(OUTLOOK_REPLY, sender=SENDER)
    assert new.split("\n\n") == [
        "Hej Borgerservice",
        "Kan I hjælpe min mor med et nyt sundhedskort? Hun har mistet det gule kort.",
    ]
    assert signature == "Med venlig hilsen\nKim Rask\nTlf. 21 43 65 87"
    assert quoted == OUTLOOK_REPLY[OUTLOOK_REPLY.index("-----Oprindelig") :]


def test_outlook_header_block_without_separator_line_starts_the_quote() -> None:
    body = (
        "Printeren på 2. sal virker stadig ikke.\n\n"
        "________________________________\n"
        "From: IT Servicedesk <it@kommune.dk>\n"
        "Sent: Monday, March 3, 2025 9:01 AM\n"
        "To: Kim Rask\n"
        "Subject: RE: Printer\n\n"
        "We have restarted the printer."
    )
    new, quoted, signature = split_body(body)
    assert new == "Printeren på 2. sal virker stadig ikke."
    assert quoted.startswith("________________________________\nFrom: IT Servicedesk")
    assert quoted.endswith("We have restarted the printer.")
    assert signature == ""


def test_fra_and_sendt_on_one_line_start_the_quote() -> None:
    header = "Fra: Kim Rask Sendt: 3. marts 2025 Til: Teknik Emne: Støj"
    body = f"Se venligst min klage igen.\n\n{header}\nDer larmer."
    new, quoted, _ = split_body(body)
    assert new == "Se venligst min klage igen."
    assert quoted == f"{header}\nDer larmer."


def test_gmail_reply_den_skrev_with_quoted_lines() -> None:
    body = (
        "Tak for svaret. Jeg sender lønsedlen i morgen.\n\n"
        "Mvh Kim\n\n"
        "Den tir. 4. mar. 2025 kl. 10.12 skrev Jobcenter <jobcenter@kommune.dk>:\n"
        "> Hej Kim\n"
        ">\n"
        "> Vi mangler din lønseddel for februar.\n"
    )
    new, quoted, signature = split_body(body, sender=SENDER)
    assert new == "Tak for svaret. Jeg sender lønsedlen i morgen."
    assert signature == "Mvh Kim"
    assert quoted == (
        "Den tir. 4. mar. 2025 kl. 10.12 skrev Jobcenter <jobcenter@kommune.dk>:\n"
        "Hej Kim\n\nVi mangler din lønseddel for februar."
    )


def test_english_on_wrote_wrapped_over_two_lines() -> None:
    body = (
        "Thank you, I will bring my passport.\n\n"
        "On Tue, 4 Mar 2025 at 10:12, Borgerservice Høje-Taastrup <\n"
        "borgerservice@kommune.dk> wrote:\n"
        "> Please bring photo ID."
    )
    new, quoted, _ = split_body(body)
    assert new == "Thank you, I will bring my passport."
    assert quoted.startswith("On Tue, 4 Mar 2025 at 10:12, Borgerservice")
    assert quoted.endswith("wrote:\nPlease bring photo ID.")


def test_answers_between_quoted_lines_stay_new() -> None:
    body = (
        "> Hvornår er I flyttet?\n"
        "Den 1. marts.\n\n"
        "> Har I fået et nyt telefonnummer?\n"
        "Nej, det er det samme.\n\n"
        "Hilsen Kim"
    )
    new, quoted, signature = split_body(body, sender=SENDER)
    assert new == "Den 1. marts.\n\nNej, det er det samme."
    assert quoted == "Hvornår er I flyttet?\n\nHar I fået et nyt telefonnummer?"
    assert signature == "Hilsen Kim"


FORWARDED = """-----Oprindelig meddelelse-----
Fra: Lone Berg <lone.berg@example.dk>
Sendt: 3. marts 2025 09:15
Til: Kim Rask
Emne: Væltet træ på Skovvej

Der ligger et væltet træ over cykelstien på Skovvej ved nr. 12.

Mvh Lone"""


@pytest.mark.parametrize("note", ["FYI", "Hej\n\nSe nedenfor.", "VS:", ""])
def test_forward_without_substance_routes_on_the_forwarded_mail(note: str) -> None:
    new, quoted, signature = split_body(f"{note}\n\nMvh Kim\n\n{FORWARDED}", sender=SENDER)
    assert new == f"{note}\n\n{FORWARDED}".strip()
    assert quoted == ""
    assert signature == "Mvh Kim"
    assert "Væltet træ på Skovvej" in new and "cykelstien" in new


def test_forward_with_its_own_question_keeps_the_split() -> None:
    body = f"Hej Teknik\n\nKan I sende nogen ud i dag? Træet spærrer for skolebørnene.\n\n{FORWARDED}"
    new, quoted, _ = split_body(body)
    assert new == "Hej Teknik\n\nKan I sende nogen ud i dag? Træet spærrer for skolebørnene."
    assert quoted == FORWARDED


def test_gmail_forward_marker_with_empty_note() -> None:
    body = (
        "---------- Forwarded message ---------\n"
        "From: Lone Berg <lone.berg@example.dk>\n"
        "Date: tir. 4. mar. 2025 kl. 09.15\n"
        "Subject: Rotter i gården\n"
        "To: <kim.rask@example.dk>\n\n"
        "Der er rotter ved containerne i gården på Kløvervej 28."
    )
    new, quoted, signature = split_body(body)
    assert new == body
    assert (quoted, signature) == ("", "")


# (body, sender, new text, signature): the last lines are a signature, and nothing is quoted.
SIGNED = [
    pytest.param(
        "Vandet i vores hane er brunt siden i morges.\n\nKim Rask\nMobil +45 21 43 65 87",
        "",
        "Vandet i vores hane er brunt siden i morges.",
        "Kim Rask\nMobil +45 21 43 65 87",
        id="phone-number-and-no-closing",
    ),
    pytest.param(
        "Nexus lukkede ned, og mit notat er væk. Kan det gendannes?\nKim",
        SENDER,
        "Nexus lukkede ned, og mit notat er væk. Kan det gendannes?",
        "Kim",
        id="bare-name-of-the-sender",
    ),
    pytest.param(
        "gadelampen ud for Tjørnevej 7 har ikke lyst i 3 uger. mvh allan",
        "Allan Berg <allan@example.dk>",
        "gadelampen ud for Tjørnevej 7 har ikke lyst i 3 uger.",
        "mvh allan",
        id="sign-off-at-the-end-of-the-last-sentence",
    ),
    pytest.param(
        "Kan I sende mine lønsedler? /Nina, dagplejer",
        "Nina Bonde <nbo@kommune.dk>",
        "Kan I sende mine lønsedler?",
        "/Nina, dagplejer",
        id="slash-sign-off",
    ),
    pytest.param(
        "Could you confirm the payment date?\n\nThank you very much,\nOksana Melnyk",
        "",
        "Could you confirm the payment date?",
        "Thank you very much,\nOksana Melnyk",
        id="english-closing",
    ),
]


@pytest.mark.parametrize(("body", "sender", "new", "signature"), SIGNED)
def test_the_signature_is_split_off(body: str, sender: str, new: str, signature: str) -> None:
    assert split_body(body, sender=sender) == (new, "", signature)


def test_a_bare_name_is_content_when_it_is_not_the_senders() -> None:
    body = "Nexus lukkede ned, og mit notat er væk. Kan det gendannes?\nKim"
    assert split_body(body, sender="Lone Berg <lone@example.dk>") == (body, "", "")


def test_dash_dash_signature_and_disclaimer() -> None:
    body = (
        "Kan I sende mig en ny lønseddel for februar?\n\n"
        "-- \n"
        "Kim Rask\n"
        "Lønbogholder, Vestjysk Træ A/S\n\n"
        "Denne e-mail kan indeholde fortrolige oplysninger. Hvis du ikke er den rette modtager, bedes du "
        "slette den og give afsenderen besked. Enhver brug af indholdet er forbudt."
    )
    new, quoted, signature = split_body(body)
    assert new == "Kan I sende mig en ny lønseddel for februar?"
    assert quoted == ""
    assert signature.startswith("--\nKim Rask\nLønbogholder")
    assert signature.endswith("Enhver brug af indholdet er forbudt.")


def test_a_thanks_line_followed_by_the_question_is_not_a_signature() -> None:
    body = "Hej\nTak!\nJeg har fået et brev om sygedagpenge, men forstår ikke hvad jeg skal gøre nu?\nMvh Kim"
    new, _, signature = split_body(body, sender=SENDER)
    assert new == "Hej\nTak!\nJeg har fået et brev om sygedagpenge, men forstår ikke hvad jeg skal gøre nu?"
    assert signature == "Mvh Kim"


def test_a_one_paragraph_mail_is_content_even_if_it_starts_with_the_name() -> None:
    body = "Kim Rask\nSkovvej 12"
    assert split_body(body, sender=SENDER) == (body, "", "")


def test_empty_and_signature_only_bodies() -> None:
    assert split_body("") == ("", "", "")
    assert split_body("\r\n  \r\n") == ("", "", "")
    assert split_body("Mvh Kim") == ("", "", "Mvh Kim")


def test_windows_line_endings_are_normalised() -> None:
    assert split_body("Hej\r\n\r\nHvornår kommer bussen?\r\n\r\nMvh Kim") == (
        "Hej\n\nHvornår kommer bussen?",
        "",
        "Mvh Kim",
    )


def test_long_and_odd_bodies_split_in_about_linear_time() -> None:
    bodies = [
        "Den 1. " + "a1 " * 300_000 + "\nskrev Kim:",  # a would-be attribution over a megabyte
        "Fra: " + "x " * 500_000,
        "\n".join(["Mvh Kim"] * 20_000),
        "\n".join(["> spørgsmål", "svar"] * 50_000),
        "Hej. " * 200_000,
    ]
    started = time.perf_counter()
    for body in bodies:
        split_body(body, sender=SENDER)
    assert time.perf_counter() - started < 10  # about 1 s; the naive regexes took minutes on the first one


# --- parse_message: structure, HTML, charsets, headers ------------------------------------------------------

HTML_MAIL = """<html><head><style>p { color: red; } .x { font-family: Calibri }</style>
<title>Ignoreres</title></head><body><script>alert("hej")</script>
<p>Hej <b>Borgerservice</b>,</p>
<p>Jeg har mistet mit   pas.<br>Kan jeg bestille et nyt&nbsp;hos jer?</p>
<p>Med venlig hilsen<br>Kim Rask<br>Tlf. 21 43 65 87</p>
<div class="gmail_quote">
<div dir="ltr">Den tir. 4. mar. 2025 kl. 10.12 skrev Borgerservice &lt;bs@kommune.dk&gt;:</div>
<blockquote><p>Tak for din henvendelse.</p></blockquote></div>
</body></html>"""


def test_html_only_mail_becomes_text_without_style_or_script() -> None:
    parsed = parse_message(to_bytes(html_only(HTML_MAIL)))
    assert (
        parsed.new_text == "Hej Borgerservice,\n\nJeg har mistet mit pas.\nKan jeg bestille et nyt hos jer?"
    )
    assert parsed.signature == "Med venlig hilsen\nKim Rask\nTlf. 21 43 65 87"
    assert parsed.quoted_text == (
        "Den tir. 4. mar. 2025 kl. 10.12 skrev Borgerservice <bs@kommune.dk>:\n\nTak for din henvendelse."
    )
    for leftover in ("color", "Calibri", "alert", "Ignoreres", "<"):
        assert leftover not in parsed.text.replace("<bs@", "")
    assert parsed.attachments == []


def test_html_to_text_keeps_inline_tags_inside_their_sentence() -> None:
    problems: list[str] = []
    assert html_to_text(
        "<div>Hej <i>Kim</i>, tak<span> for</span> svaret</div><div><br></div><div>Mvh</div>", problems
    ) == ("Hej Kim, tak for svaret\n\nMvh")
    assert problems == []


def test_html_to_text_reads_nul_bytes_and_lone_surrogates() -> None:
    # A NUL from a garbled body, a lone surrogate from an odd charset label (unicode_escape): lxml refuses
    # such a string, so the text goes in as UTF-8 bytes.
    problems: list[str] = []
    assert html_to_text("<p>a\x00b</p><p>x\ud800y</p>", problems) == "a\ufffdb\n\nx?y"
    assert problems == []


def test_alternative_prefers_the_plain_text_part() -> None:
    msg = alternative("Plain: bussen kom ikke.", "<p>HTML: bussen kom ikke.</p>")
    parsed = parse_message(to_bytes(msg))
    assert parsed.new_text == "Plain: bussen kom ikke."
    assert parsed.attachments == []  # the HTML version is not an attachment


def test_iso_8859_1_quoted_printable() -> None:
    raw = to_bytes(
        mail(
            "Hej\n\nMin søster bor på Ærøvej, og vi skal flytte.",
            charset="iso-8859-1",
            cte="quoted-printable",
        )
    )
    assert b"=F8" in raw and b"=C6" in raw  # really latin-1 bytes, quoted-printable
    parsed = parse_message(raw)
    assert parsed.new_text == "Hej\n\nMin søster bor på Ærøvej, og vi skal flytte."
    assert parsed.problems == []


def test_windows_1252_with_euro_and_curly_quotes() -> None:
    text = "Prisen er 100 € – “tilbud” på æbler."
    raw = to_bytes(mail(text, charset="windows-1252", cte="quoted-printable"))
    assert b"=80" in raw
    assert parse_message(raw).new_text == text
    # Outlook and others send windows-1252 bytes under the latin-1 label; read them as windows-1252.
    relabelled = to_bytes(
        relabel_charset(mail(text, charset="windows-1252", cte="quoted-printable"), "iso-8859-1")
    )
    parsed = parse_message(relabelled)
    assert parsed.new_text == text
    assert parsed.problems == []


def test_base64_utf8() -> None:
    text = "Hej\n\nMit barn skal starte i vuggestue 1. april – kan vi få plads i Humlebien?"
    raw = to_bytes(mail(text, cte="base64"))
    assert b"Content-Transfer-Encoding: base64" in raw
    assert parse_message(raw).new_text == text


def test_unknown_charset_label_is_decoded_by_fallback_and_noted() -> None:
    raw = to_bytes(
        relabel_charset(mail("Vejen på Åbakken er ødelagt.", charset="windows-1252"), "x-ukendt-tegnsaet")
    )
    parsed = parse_message(raw)
    assert parsed.new_text == "Vejen på Åbakken er ødelagt."
    assert len(parsed.problems) == 1 and "Ukendt tegnsæt 'x-ukendt-tegnsaet'" in parsed.problems[0]


def test_wrong_charset_label_is_decoded_by_fallback_and_noted() -> None:
    latin1_as_utf8 = relabel_charset(mail("Vejen på Åbakken er ødelagt.", charset="iso-8859-1"), "utf-8")
    parsed = parse_message(to_bytes(latin1_as_utf8))
    assert parsed.new_text == "Vejen på Åbakken er ødelagt."
    assert "passede ikke til tegnsættet 'utf-8'" in parsed.problems[0]
    utf8_as_latin1 = relabel_charset(mail("Vejen på Åbakken er ødelagt.", cte="8bit"), "iso-8859-1")
    parsed = parse_message(to_bytes(utf8_as_latin1))
    assert parsed.new_text == "Vejen på Åbakken er ødelagt."
    assert "men teksten er UTF-8" in parsed.problems[0]


def test_rfc2047_encoded_subject_and_sender() -> None:
    msg = mail(subject="Ændring af adresse – Åbyhøj", sender="Søren Ærø <soren@example.dk>")
    raw = to_bytes(msg)
    assert b"=?utf-8?" in raw  # the email package encoded the headers, as a mail program does
    parsed = parse_message(raw)
    assert parsed.subject == "Ændring af adresse – Åbyhøj"
    assert parsed.sender == "Søren Ærø <soren@example.dk>"
    latin1_subject = Header("Bøde for parkering på Østergade", "iso-8859-1").encode()
    raw = raw.replace(
        b"Subject: " + raw.split(b"Subject: ")[1].split(b"\r\n")[0], f"Subject: {latin1_subject}".encode()
    )
    assert b"=?iso-8859-1?" in raw
    assert parse_message(raw).subject == "Bøde for parkering på Østergade"


def test_encoded_word_with_unknown_charset_is_decoded_by_fallback() -> None:
    raw = to_bytes(mail(subject="placeholder")).replace(b"placeholder", b"=?x-ukendt?q?K=F8benhavn?=")
    parsed = parse_message(raw)
    assert parsed.subject == "København"
    assert any("x-ukendt" in problem for problem in parsed.problems)


def test_date_becomes_iso_and_a_bad_date_is_kept_with_a_note() -> None:
    assert parse_message(to_bytes(mail())).date == "2025-03-04T10:12:00+01:00"
    # The email package will not write a bad date, so put one on the wire as a sloppy mail program does.
    parsed = parse_message(to_bytes(mail()).replace(DATE.encode(), b"sometime yesterday"))
    assert parsed.date == "sometime yesterday"
    assert any("Datoen" in problem for problem in parsed.problems)
    assert parse_message(to_bytes(mail(date=None))).date is None


def test_subject_only_mail_has_empty_new_text() -> None:
    parsed = parse_message(to_bytes(mail(None, subject="Ring mig op")))
    assert (parsed.subject, parsed.new_text, parsed.quoted_text, parsed.signature) == (
        "Ring mig op",
        "",
        "",
        "",
    )


def test_fields_and_size() -> None:
    raw = to_bytes(mail())
    parsed = parse_message(raw)
    assert parsed.message_id == "<1@example.dk>"
    assert parsed.sender == SENDER
    assert parsed.to == "post@kommune.dk"
    assert parsed.size == len(raw)
    assert parsed.new_text == "Hej\n\nSkolebussen kom ikke i dag."
    assert parsed.signature == "Mvh Kim"


def test_attachments_are_listed_with_decoded_size() -> None:
    msg = alternative("Se vedhæftede faktura.", "<p>Se vedhæftede faktura.</p>")
    attach(msg, b"%PDF-1.4 faktura" * 100, "Faktura 2291.pdf")
    attach(msg, b"\x89PNG" + bytes(996), "skade.png", "image/png")
    inner = mail("Videresendt som vedhæftet mail.", subject="Indre mail")
    msg.add_attachment(inner)  # message/rfc822, as Outlook's "forward as attachment"
    parsed = parse_message(to_bytes(msg))
    assert parsed.new_text == "Se vedhæftede faktura."
    names = [(a.filename, a.content_type, a.size) for a in parsed.attachments]
    assert names[:2] == [("Faktura 2291.pdf", "application/pdf", 1600), ("skade.png", "image/png", 1000)]
    assert names[2][1] == "message/rfc822" and names[2][2] > 0
    assert "Videresendt som vedhæftet" not in parsed.text  # an attached mail is listed, not read


@pytest.fixture(scope="module")
def mail_with_30_mb_attachment() -> bytes:
    pdf = b"%PDF-1.7 MARKER-IN-ATTACHMENT " + bytes(range(256)) * (30 * 1024 * 1024 // 256)
    return to_bytes(attach(mail(), pdf, "tegninger.pdf"))


def test_30_mb_attachment_is_listed_quickly_and_not_kept(mail_with_30_mb_attachment: bytes) -> None:
    raw = mail_with_30_mb_attachment
    started = time.perf_counter()
    parsed = parse_message(raw)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"{elapsed:.1f} s for a {len(raw) / 1e6:.0f} MB mail"  # about 1 s on a laptop
    (attachment,) = parsed.attachments
    assert (attachment.filename, attachment.content_type) == ("tegninger.pdf", "application/pdf")
    assert attachment.size == 30 + 30 * 1024 * 1024
    assert parsed.new_text == "Hej\n\nSkolebussen kom ikke i dag."
    assert "MARKER" not in parsed.text
    assert all(len(str(value)) < 1000 for value in astuple(parsed))  # nothing of the attachment is held


def test_30_mb_attachment_memory_stays_within_a_few_times_the_mail(mail_with_30_mb_attachment: bytes) -> None:
    raw = mail_with_30_mb_attachment
    tracemalloc.start()
    try:
        parse_message(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * len(raw), f"peak {peak / 1e6:.0f} MB for a {len(raw) / 1e6:.0f} MB mail"  # about 2.7x


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"  \r\n\r\n ",
        b"Hej med dig\nDette er bare en tekstfil.",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj",
    ],
    ids=["empty", "blank", "plain-text", "pdf"],
)
def test_bytes_that_are_no_mail_raise_a_danish_mail_parse_error(raw: bytes) -> None:
    with pytest.raises(MailParseError) as caught:
        parse_message(raw)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, InvalidInput)
    assert "e-mail" in caught.value.message or "tom" in caught.value.message


# --- parse_fields and Outlook .msg --------------------------------------------------------------------------


def test_parse_fields_splits_the_body() -> None:
    parsed = parse_fields(
        "  Kim Rask\n <kim@example.dk>", "post@kommune.dk", "Sundhedskort", OUTLOOK_REPLY, "dev-1"
    )
    assert parsed.sender == "Kim Rask <kim@example.dk>"
    assert parsed.message_id == "dev-1"
    assert parsed.new_text.startswith("Hej Borgerservice")
    assert parsed.quoted_text.startswith("-----Oprindelig meddelelse-----")
    assert parsed.signature.startswith("Med venlig hilsen")
    assert parsed.size == len(OUTLOOK_REPLY.encode("utf-8"))
    assert parse_fields("", "", "Kun emne", "").new_text == ""


def test_outlook_msg_from_bytes_and_path(tmp_path: Path) -> None:
    data = outlook_msg(subject="Væltet træ", attachments=(("foto.jpg", "image/jpeg", b"\xff\xd8" * 500),))
    parsed = parse_outlook(data)
    assert parsed.subject == "Væltet træ"
    assert parsed.sender == SENDER
    assert parsed.message_id == "<msg-1@example.dk>"
    assert parsed.date == "2025-03-04T10:12:00+01:00"
    assert (parsed.new_text, parsed.signature) == ("Hej\n\nSkolebussen kom ikke i dag.", "Mvh Kim")
    assert [(a.filename, a.content_type, a.size) for a in parsed.attachments] == [
        ("foto.jpg", "image/jpeg", 1000)
    ]
    from_path = parse_outlook(write_msg(tmp_path / "mail.msg", subject="Væltet træ"))
    assert from_path.subject == "Væltet træ" and from_path.size == (tmp_path / "mail.msg").stat().st_size


@pytest.mark.parametrize(
    "data", [b"not an OLE file at all", b"/etc/hostname", b"\xd0\xcf\x11\xe0" + bytes(600)]
)
def test_outlook_parse_of_something_else_raises_mail_parse_error(data: bytes) -> None:
    # Short bytes that look like a path must not be opened as a file (olefile's habit with plain bytes).
    with pytest.raises(MailParseError, match="ikke en Outlook-mail"):
        parse_outlook(data)


def test_a_truncated_outlook_file_raises_mail_parse_error() -> None:
    data = outlook_msg()
    with pytest.raises(MailParseError, match="beskadiget"):
        parse_outlook(data[:3000])


# --- the Danish dev set -------------------------------------------------------------------------------------


@pytest.mark.skipif(not DEV_JSONL.exists(), reason="shared mail_da data not present")
def test_dev_mails_split_sanely() -> None:
    rows = [json.loads(line) for line in DEV_JSONL.read_text(encoding="utf-8").splitlines()]
    parsed = [parse_fields(r["from"], r["to"], r["subject"], r["body"], r["id"]) for r in rows]
    assert len(parsed) == 320
    assert all(p.new_text for p in parsed)  # every dev mail has text of its own
    threads = {r["id"] for r in rows if "-----Oprindelig meddelelse-----" in r["body"] or "\n> " in r["body"]}
    assert {p.message_id for p in parsed if p.quoted_text} == threads
    with_signature = sum(bool(p.signature) for p in parsed)
    assert with_signature >= 290  # 308 of 320 today; the rest are automated notices and unsigned mails
    for p in parsed:  # a signature is a few short lines, never the mail itself
        assert len(p.signature.split("\n")) <= 6 and "?" not in p.signature


def test_a_mail_object_round_trip_keeps_the_sender_sign_off() -> None:
    msg: EmailMessage = mail("Hvornår tømmes skraldespanden?\n\nVenlig hilsen\nKim Rask")
    parsed = parse_message(to_bytes(msg))
    assert (parsed.new_text, parsed.signature) == (
        "Hvornår tømmes skraldespanden?",
        "Venlig hilsen\nKim Rask",
    )
