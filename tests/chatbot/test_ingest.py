"""Document loaders: each format yields the right title, headings and text; bad input is an IngestError."""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from services.chatbot.chunking import chunk_document
from services.chatbot.ingest import LOADERS, EmptyDocument, IngestError, load_document
from services.chatbot.types import SourceDocument
from services.common.config import shared_data_dir

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = shared_data_dir()
LAW_FILE = SHARED_DATA / "law" / "retsinformation_2025_282.json"
OS2_DOCS = SHARED_DATA / "it_help_da" / "os2borgerpc_docs"


def _section(document: SourceDocument, *path: str) -> str:
    """Text of the section with exactly this heading path (fails the test when there is none)."""
    found = [s.text for s in document.sections if s.heading_path == list(path)]
    assert found, f"no section {list(path)} in {[s.heading_path for s in document.sections]}"
    return found[0]


def _all_text(document: SourceDocument) -> str:
    return "\n".join(s.text for s in document.sections)


# --- generated DOCX and PDF ------------------------------------------------------------------------------


def _write_docx(path: Path, *, title: str | None = "Vejledning til Teams") -> Path:
    document = docx.Document()
    if title:
        document.add_paragraph(title, style="Title")
    document.add_paragraph("Kort indledning før første overskrift.")
    document.add_heading("Møder", level=1)
    document.add_paragraph("Opret et møde i kalenderen og inviter deltagerne.")
    document.add_heading("Lyd og billede", level=2)
    document.add_paragraph("Vælg højttaler før mødet.", style="List Bullet")
    document.add_paragraph("Test mikrofonen.", style="List Bullet")
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "Flettet celle"
    table.cell(0, 2).text = "Headset"
    for column, text in enumerate(["Æble", "Blåbær", "Øl"]):
        table.cell(1, column).text = text
    document.add_heading("Chat", level=1)
    # A content control (w:sdt), as Word templates use for fill-in fields.
    paragraph = document.add_paragraph("Tekst i et indholdskontrolelement om chat.")
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    paragraph._p.addprevious(sdt)
    sdt.append(content)
    content.append(paragraph._p)
    document.save(str(path))
    return path


def _write_pdf(path: Path, pages: list[list[str]], title: str | None = None) -> Path:
    """A PDF whose pages hold the given lines in Helvetica (WinAnsi, so æøå survive), or blank pages."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    for lines in pages:
        page = writer.add_blank_page(595, 842)
        if not lines:
            continue
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 770 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("cp1252"))
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        page.replace_contents(stream)
    if title:
        writer.add_metadata({"/Title": title})
    with path.open("wb") as out:
        writer.write(out)
    return path


# --- HTML ------------------------------------------------------------------------------------------------


def test_html_sections_headings_anchors_and_text() -> None:
    document = load_document(FIXTURES / "printervejledning.html")
    assert document.kind == "guide"
    assert document.title == "Printere på rådhuset"
    assert [s.heading_path for s in document.sections] == [
        ["Printere"],
        ["Printere", "Tilføj en printer"],
        ["Printere", "Tilføj en printer", "Fejl ved udskrift"],
        ["Printere", "Printeroversigt"],
    ]
    assert [s.anchor for s in document.sections] == ["printere", "tilfoej-printer", "fejl", ""]
    assert "kan printe på fællesprinterne i stueetagen" in _section(document, "Printere")
    steps = _section(document, "Printere", "Tilføj en printer")
    assert "1. Klik på Printere & scannere.\n2. Vælg Tilføj enhed.\nVent på søgningen." in steps
    trouble = _section(document, "Printere", "Tilføj en printer", "Fejl ved udskrift")
    assert "- Tjek papirbakken.\n- Genstart printeren." in trouble
    assert "lpstat -p\nlpq -P rådhus-1" in trouble  # <pre> keeps its lines
    table = _section(document, "Printere", "Printeroversigt")
    assert table == "Etage | Printer\nStue | Rådhus-1 (farve)\n1. sal | Rådhus-2"
    text = _all_text(document)
    for furniture in ("Skjult scripttekst", "font-family", "Menupunkt", "topbanner", "sidefod", "kommentar"):
        assert furniture not in text


def test_html_without_title_or_headings(tmp_path: Path) -> None:
    page = tmp_path / "side.htm"
    page.write_text("<h2>Wi-<b>fi</b></h2><p>Netværket hedder <b>HTK-Gæst</b>.</p>", encoding="utf-8")
    assert load_document(page).title == "Wi-fi"
    page.write_text("<div>Kun én linje tekst om VPN.</div>", encoding="utf-8")
    document = load_document(page)
    assert document.title == "side"
    assert [(s.heading_path, s.text) for s in document.sections] == [(["side"], "Kun én linje tekst om VPN.")]
    page.write_text("<html><head><title>Tom</title></head><body><nav>Menu</nav></body></html>")
    with pytest.raises(EmptyDocument, match=r"side\.htm"):
        load_document(page)


# --- Markdown --------------------------------------------------------------------------------------------


def test_markdown_setext_fences_front_matter_and_tables() -> None:
    document = load_document(FIXTURES / "tricky.md")
    assert document.title == "Skærm og lyd"  # from the front matter, not the first heading
    assert [s.heading_path for s in document.sections] == [
        ["Skærm og lyd"],
        ["Skærmopløsning"],
        ["Skærmopløsning", "Lyd"],
        ["Skærmopløsning", "Lyd", "Fejlfinding på lyd"],
    ]
    assert [s.anchor for s in document.sections][1:] == ["skærmopløsning", "lyd", "fejlfinding-på-lyd"]
    assert _section(document, "Skærm og lyd") == "Indledende tekst før første overskrift."
    screen = _section(document, "Skærmopløsning")
    assert "Opløsningen ændres under Indstillinger → Skærm. Se guiden for detaljer." in screen
    assert "Husk at gemme ændringerne." in screen
    sound = _section(document, "Skærmopløsning", "Lyd")
    # Headings inside code fences are code, kept verbatim, not section breaks.
    assert "# Ikke en overskrift, men en kommentar\npactl set-sink-volume @DEFAULT_SINK@ 50%" in sound
    assert "## Heller ikke en overskrift" in sound
    trouble = _section(document, "Skærmopløsning", "Lyd", "Fejlfinding på lyd")
    assert "Problem | Løsning\nIngen lyd | Tjek kablet\nStøj | Skift port" in trouble
    assert "- Første punkt\n- Andet punkt med kode" in trouble
    text = _all_text(document)
    for markup in ("nav_exclude", "---", "===", "```", "~~~", "{:", "](", "billede.png", "**"):
        assert markup not in text


def test_markdown_front_matter_only_is_empty(tmp_path: Path) -> None:
    # Front matter closed at the very end of the file, without a newline (as OS2borgerPC's index pages).
    page = tmp_path / "index.md"
    page.write_bytes(b'---\ntitle: "Oversigt"\nnav_order: 12\n---')
    with pytest.raises(EmptyDocument, match=r"index\.md"):
        load_document(page)


def test_markdown_crlf_and_cp1252(tmp_path: Path) -> None:
    page = tmp_path / "windows.md"
    page.write_bytes("# Åbningstider\r\n\r\nSupporten har åbent kl. 8–16.\r\n".encode("cp1252"))
    document = load_document(page)
    assert document.title == "Åbningstider"
    assert _section(document, "Åbningstider") == "Supporten har åbent kl. 8–16."


# --- DOCX ------------------------------------------------------------------------------------------------


def test_docx_headings_lists_tables_and_content_controls(tmp_path: Path) -> None:
    document = load_document(_write_docx(tmp_path / "teams.docx"))
    assert document.title == "Vejledning til Teams"
    assert [s.heading_path for s in document.sections] == [
        ["Vejledning til Teams"],
        ["Møder"],
        ["Møder", "Lyd og billede"],
        ["Chat"],
    ]
    assert _section(document, "Vejledning til Teams") == "Kort indledning før første overskrift."
    assert _section(document, "Møder") == "Opret et møde i kalenderen og inviter deltagerne."
    assert _section(document, "Møder", "Lyd og billede") == (
        "- Vælg højttaler før mødet.\n- Test mikrofonen.\n\nFlettet celle | Headset\nÆble | Blåbær | Øl"
    )
    assert _section(document, "Chat") == "Tekst i et indholdskontrolelement om chat."


def test_docx_title_falls_back_to_first_heading(tmp_path: Path) -> None:
    document = load_document(_write_docx(tmp_path / "uden_titel.docx", title=None))
    assert document.title == "Møder"
    assert document.sections[0].heading_path == ["Møder"]  # the intro is filed under the title


# --- PDF -------------------------------------------------------------------------------------------------


def test_pdf_sections_per_page(tmp_path: Path) -> None:
    pdf = _write_pdf(
        tmp_path / "print.pdf",
        [
            ["Printvejledning", "Sådan tilføjer du en printer på rådhuset."],
            [],
            ["Blå printer (Øst) på 2. sal"],
        ],
        title="Vejledning i print",
    )
    document = load_document(pdf)
    assert document.title == "Vejledning i print"
    assert [(s.heading_path, s.anchor) for s in document.sections] == [
        (["Side 1"], "page=1"),
        (["Side 3"], "page=3"),
    ]
    assert document.sections[0].text == "Printvejledning\nSådan tilføjer du en printer på rådhuset."
    assert document.sections[1].text == "Blå printer (Øst) på 2. sal"


def test_pdf_title_ignores_file_name_metadata(tmp_path: Path) -> None:
    pdf = _write_pdf(
        tmp_path / "x.pdf", [["", "Vejledning i scanning", "Læg papiret i."]], "Microsoft Word - x.docx"
    )
    assert load_document(pdf).title == "Vejledning i scanning"


def test_encrypted_pdf(tmp_path: Path) -> None:
    plain = _write_pdf(tmp_path / "plain.pdf", [["Tekst bag en adgangskode"]])
    for user_password, name in (("hemmelig", "laast.pdf"), ("", "kun_ejer.pdf")):
        writer = PdfWriter(clone_from=PdfReader(plain))
        writer.encrypt(user_password=user_password, owner_password="ejer", algorithm="RC4-128")
        writer.write(tmp_path / name)
    with pytest.raises(IngestError, match=r"laast\.pdf: .*adgangskode"):
        load_document(tmp_path / "laast.pdf")
    # Encrypted only against editing (no user password): readable like any other PDF.
    assert load_document(tmp_path / "kun_ejer.pdf").sections[0].text == "Tekst bag en adgangskode"


def test_pdf_without_pages_is_damaged_not_empty(tmp_path: Path) -> None:
    PdfWriter().write(tmp_path / "ingen_sider.pdf")
    with pytest.raises(IngestError, match=r"ingen_sider\.pdf") as raised:
        load_document(tmp_path / "ingen_sider.pdf")
    assert type(raised.value) is IngestError


def test_scanned_pdf_is_empty(tmp_path: Path) -> None:
    pdf = _write_pdf(tmp_path / "skannet.pdf", [[], []])
    with pytest.raises(EmptyDocument, match=r"skannet\.pdf.*tekstlag"):
        load_document(pdf)


# --- plain text ------------------------------------------------------------------------------------------


def test_text_title_and_paragraphs() -> None:
    document = load_document(FIXTURES / "moedelokaler.txt")
    assert document.title == "Mødelokaler og skærme"
    assert [(s.heading_path, s.text) for s in document.sections] == [
        (
            ["Mødelokaler og skærme"],
            "Alle mødelokaler har en skærm med HDMI.\nKablet ligger i skuffen.\n\n"
            "Ring til IT-supporten på 4321, hvis skærmen ikke virker.",
        )
    ]


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig", "utf-16"])
def test_text_encodings_keep_danish_letters(tmp_path: Path, encoding: str) -> None:
    note = tmp_path / "note.txt"
    note.write_bytes("\n\nÆndring af løn\n\nSådan ændrer du din løn i ØS – spørg HR.\n".encode(encoding))
    document = load_document(note)
    assert document.title == "Ændring af løn"
    assert document.sections[0].text == "Sådan ændrer du din løn i ØS – spørg HR."


def test_text_long_first_line_is_not_a_title(tmp_path: Path) -> None:
    note = tmp_path / "lang.txt"
    prose = "Denne fil begynder med en lang sætning uden overskrift, " * 4
    note.write_text(prose + "\n\nAnden del.\n", encoding="utf-8")
    document = load_document(note)
    assert document.title == "lang"
    assert document.sections[0].text.startswith("Denne fil begynder")


# --- chunks ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["printervejledning.html", "tricky.md", "moedelokaler.txt"])
def test_guide_chunks_carry_heading_paths(name: str) -> None:
    document = load_document(FIXTURES / name)
    chunks = chunk_document(document)
    assert chunks
    headings = {" › ".join(s.heading_path) for s in document.sections}
    assert {chunk.heading for chunk in chunks} == headings
    for chunk in chunks:
        assert chunk.source == name
        assert chunk.text.strip()
        assert chunk.heading in chunk.context


def test_html_chunk_titles_name_the_heading_path() -> None:
    chunks = chunk_document(load_document(FIXTURES / "printervejledning.html"))
    assert "Printere på rådhuset – Printere › Tilføj en printer" in {chunk.title for chunk in chunks}


# --- errors ----------------------------------------------------------------------------------------------


def _random_bytes(size: int = 4096) -> bytes:
    return random.Random(282).randbytes(size)


@pytest.mark.parametrize("suffix", [".pdf", ".docx", ".txt", ".md", ".html", ".json"])
def test_binary_garbage_is_an_ingest_error(tmp_path: Path, suffix: str) -> None:
    garbage = tmp_path / f"skrald{suffix}"
    garbage.write_bytes(_random_bytes())
    with pytest.raises(IngestError, match=f"skrald\\{suffix}") as raised:
        load_document(garbage)
    assert type(raised.value) is IngestError  # damaged, not merely empty: a folder ingest must not skip it


@pytest.mark.parametrize("suffix", [".txt", ".md", ".html"])
def test_binary_without_nul_bytes_is_an_ingest_error(tmp_path: Path, suffix: str) -> None:
    garbage = tmp_path / f"skrald{suffix}"
    garbage.write_bytes(bytes(b % 255 + 1 for b in _random_bytes()))  # control characters, but no NUL
    with pytest.raises(IngestError, match="binær"):
        load_document(garbage)


def test_zip_that_is_not_a_docx(tmp_path: Path) -> None:
    fake = tmp_path / "arkiv.docx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("noter.txt", "ikke et Word-dokument")
    fake.write_bytes(buffer.getvalue())
    with pytest.raises(IngestError, match=r"arkiv\.docx.*Word"):
        load_document(fake)


def test_truncated_pdf(tmp_path: Path) -> None:
    whole = _write_pdf(tmp_path / "hel.pdf", [["Tekst på siden"]]).read_bytes()
    broken = tmp_path / "halv.pdf"
    broken.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(IngestError, match=r"halv\.pdf"):
        load_document(broken)


def test_unsupported_empty_and_missing_files(tmp_path: Path) -> None:
    old_word = tmp_path / "gammel.doc"
    old_word.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(IngestError, match=r"gammel\.doc.*understøttes ikke.*\.docx"):
        load_document(old_word)
    with pytest.raises(IngestError, match="uden endelse"):
        load_document(tmp_path / "README")
    empty = tmp_path / "tom.md"
    empty.write_bytes(b"")
    with pytest.raises(IngestError, match=r"tom\.md: filen er tom"):
        load_document(empty)
    with pytest.raises(IngestError, match=r"findes\.txt: filen findes ikke"):
        load_document(tmp_path / "findes.txt")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n   \n\t\n", encoding="utf-8")
    with pytest.raises(EmptyDocument, match=r"blank\.txt"):
        load_document(blank)


def test_every_guide_suffix_has_a_loader() -> None:
    assert {".json", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf", ".txt"} <= set(LOADERS)


# --- Retsinformation JSON --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2, 3]", "ikke en Retsinformation-lov"),
        ('{"title": "Lov"}', "ikke en Retsinformation-lov"),
        ('{"title": "Lov", "provisions": []}', "ikke en Retsinformation-lov"),
        (
            '{"provisions": [{"section": "1", "content": "  "}, {"section": "", "content": "§ 1. x"}]}',
            "ingen §§",
        ),
        ('{"provisions": ["§ 1. Tekst", null, 7]}', "ingen §§"),
        ('{"provisions": [', "ugyldig JSON"),
    ],
)
def test_invalid_retsinformation_json(tmp_path: Path, content: str, message: str) -> None:
    law = tmp_path / "lov.json"
    law.write_text(content, encoding="utf-8")
    with pytest.raises(IngestError, match=f"lov\\.json: {message}"):
        load_document(law)


def test_minimal_retsinformation_json(tmp_path: Path) -> None:
    law = tmp_path / "lov.json"
    law.write_text(
        json.dumps(
            {
                "id": "2024:7",
                "title": "Bekendtgørelse af lov om prøver",
                "short_name": "LBK H#X",
                "issued_date": "2024-01-02",
                "url": "https://www.retsinformation.dk/eli/lta/2024/7/xml",
                "provisions": [{"section": "2", "content": "§ 2. Første. Stk. 2. Andet."}, "støj"],
            }
        ),
        encoding="utf-8",
    )
    document = load_document(law)
    assert (document.title, document.citation_suffix, document.url) == (
        "Lov om prøver",
        "LBK nr. 7 af 02/01/2024",
        "https://www.retsinformation.dk/eli/lta/2024/7",
    )
    assert [p.pieces for p in document.provisions] == [["§ 2. Første.", "Stk. 2. Andet."]]


# --- the shipped data ------------------------------------------------------------------------------------


def test_shipped_law_barnets_lov() -> None:
    document = load_document(LAW_FILE)
    assert document.kind == "law"
    assert document.title == "Barnets lov"
    assert document.citation_suffix == "LBK nr. 282 af 17/03/2025"
    assert document.url == "https://www.retsinformation.dk/eli/lta/2025/282"
    section_47 = next(p for p in document.provisions if p.section == "47")
    assert len(section_47.pieces) >= 4
    assert section_47.pieces[0].startswith("§ 47.")
    assert section_47.pieces[3].startswith("Stk. 4.")
    chunks = {chunk.id: chunk for chunk in chunk_document(document)}
    stk4 = chunks["retsinformation_2025_282.json#47-4"]
    assert stk4.title == "Barnets lov § 47, stk. 4 (LBK nr. 282 af 17/03/2025)"
    assert (stk4.section, stk4.stk) == ("47", 4)
    assert stk4.text.startswith("Stk. 4.")
    assert stk4.url == "https://www.retsinformation.dk/eli/lta/2025/282"


def test_shipped_os2borgerpc_guides_load_or_are_empty() -> None:
    files = sorted(OS2_DOCS.glob("*.md"))
    assert len(files) > 40
    loaded, empty = [], []
    for file in files:
        try:
            loaded.append(load_document(file, f"os2borgerpc_docs/{file.name}"))
        except EmptyDocument:
            empty.append(file.name)
    assert all("index" in name for name in empty if name != "scripts_opgradering.md"), empty
    assert {"bruger_index.md", "drift_index.md", "udvikling_index.md"} <= set(empty)
    assert len(loaded) >= 40
    for document in loaded:
        assert document.kind == "guide" and document.title and document.sections
        for section in document.sections:
            assert section.heading_path and all(section.heading_path) and section.text.strip()
            for markup in ("nav_exclude:", "```", "{: ", "]("):
                assert markup not in section.text, (document.source, markup)
        assert all(chunk.heading for chunk in chunk_document(document))
    titles = {document.source: document.title for document in loaded}
    assert titles["os2borgerpc_docs/bruger_administrationssiden_computere.md"] == "Computere"
    assert titles["os2borgerpc_docs/drift_sonderborg.md"] == "Erfaringer fra Sønderborg Kommune"
