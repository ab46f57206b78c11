"""Files of mails → streams of ``LabelledMail`` for training and evaluation.

``read_labelled`` looks at what the path is: an .eml or .msg file, an mbox, a folder with one sub-folder per
queue (how a mailbox export looks), JSON Lines in the ``mail_da/dev.jsonl`` format, or a CSV with subject,
body and queue columns (as the ticket data sets). Everything is read one mail at a time.

A mail that cannot be read stops the stream with ``InvalidInput`` naming the file and position: these files
are training data, and a silently skipped mail would change what a model learns without anyone noticing.
"""

from __future__ import annotations

import csv
import json
import mailbox
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from services.common.errors import InvalidInput
from services.mailsort.parse import MailParseError, parse_fields, parse_message, parse_outlook
from services.mailsort.types import LabelledMail, ParsedMail

MAIL_SUFFIXES = (".eml", ".msg")
_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_SUPPORTED = ".eml, .msg, .mbox, .jsonl, .csv eller en mappe med en undermappe pr. kø"


def read_labelled(path: Path, *, queue_field: str | None = "queue") -> Iterator[LabelledMail]:
    """The mails in ``path`` with their queues (None where the format has none: .eml, .msg, mbox).

    ``queue_field`` names the JSONL field or CSV column holding the queue; None reads a JSONL/CSV file as
    unlabelled. A missing path or unknown format raises ``InvalidInput`` at once; a bad mail or line raises it
    while streaming, with the file and position.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"Filen eller mappen findes ikke: {path}")
    return _reader_for(path)(path, queue_field)


def _reader_for(path: Path) -> Callable[[Path, str | None], Iterator[LabelledMail]]:
    suffix = path.suffix.lower()
    if path.is_dir():
        return _read_folder
    if suffix == ".eml":
        return _read_eml
    if suffix == ".msg":
        return _read_msg
    if suffix in _JSONL_SUFFIXES:
        return _read_jsonl
    if suffix == ".csv":
        return _read_csv
    if suffix == ".mbox" or _starts_like_mbox(path):
        return _read_mbox
    raise InvalidInput(f"{path.name}: ukendt format. Kai kan læse {_SUPPORTED}.")


def _starts_like_mbox(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(5) == b"From "


# --- single mails, mbox and folders ------------------------------------------------------------------------


def _parse_file(path: Path, label: str) -> ParsedMail:
    """One .eml or .msg file; a parse error names the file."""
    try:
        if path.suffix.lower() == ".msg":
            return parse_outlook(path)
        return parse_message(path.read_bytes())
    except MailParseError as err:
        raise InvalidInput(f"{label}: {err.message}") from err


def _read_eml(path: Path, queue_field: str | None) -> Iterator[LabelledMail]:
    yield LabelledMail(mail=_parse_file(path, path.name), queue=None, source_id=path.name)


def _read_msg(path: Path, queue_field: str | None) -> Iterator[LabelledMail]:
    yield LabelledMail(mail=_parse_file(path, path.name), queue=None, source_id=path.name)


def _read_mbox(path: Path, queue_field: str | None) -> Iterator[LabelledMail]:
    if path.stat().st_size and not _starts_like_mbox(path):
        # mailbox would silently skip everything before the first "From " line: an .eml named .mbox, say.
        raise InvalidInput(f"{path.name}: ikke en mbox-fil (den skal begynde med en linje 'From …').")
    return _mbox_mails(path)


def _mbox_mails(path: Path) -> Iterator[LabelledMail]:
    # mailbox keeps only each message's offsets; get_bytes reads one message at a time from the file.
    box = mailbox.mbox(path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            source_id = f"{path.name}#{number}"
            try:
                mail = parse_message(box.get_bytes(key))
            except MailParseError as err:
                raise InvalidInput(f"{path.name}, mail nr. {number}: {err.message}") from err
            yield LabelledMail(mail=mail, queue=None, source_id=source_id)
    finally:
        box.close()


def _mail_files(folder: Path) -> Iterator[Path]:
    """.eml/.msg files under ``folder`` in a stable order, skipping hidden files and folders."""
    for path in sorted(folder.rglob("*")):
        hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
        if path.is_file() and path.suffix.lower() in MAIL_SUFFIXES and not hidden:
            yield path


def _read_folder(root: Path, queue_field: str | None) -> Iterator[LabelledMail]:
    """Mails in ``root/<queue>/…``: the queue is the top sub-folder; files directly in root have none."""
    found = False
    for path in _mail_files(root):
        found = True
        relative = path.relative_to(root)
        queue = relative.parts[0] if len(relative.parts) > 1 else None
        yield LabelledMail(mail=_parse_file(path, str(relative)), queue=queue, source_id=relative.as_posix())
    if not found:
        raise InvalidInput(f"{root.name}: mappen indeholder ingen .eml- eller .msg-filer.")


# --- JSON Lines and CSV rows --------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _queue(value: Any) -> str | None:
    text = _text(value).strip()
    return text or None


def _read_jsonl(path: Path, queue_field: str | None) -> Iterator[LabelledMail]:
    with path.open(encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path.name}, linje {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise InvalidInput(f"{where}: ikke gyldig JSON ({err.msg}).") from err
            if not isinstance(row, dict):
                raise InvalidInput(f"{where}: forventede et JSON-objekt med subject og body.")
            missing = [name for name in ("subject", "body", queue_field) if name and name not in row]
            if missing:
                fields = ", ".join(f"'{name}'" for name in missing)
                raise InvalidInput(f"{where}: feltet {fields} mangler.")
            mail = parse_fields(
                _text(row.get("from")),
                _text(row.get("to")),
                _text(row["subject"]),
                _text(row["body"]),
            )
            queue = _queue(row[queue_field]) if queue_field else None
            yield LabelledMail(
                mail=mail, queue=queue, source_id=_text(row.get("id")) or f"{path.name}:{number}"
            )


def _delimiter(header_line: str) -> str:
    """Comma, or what a Danish Excel writes (semicolon) or a tab, whichever the header line has most of."""
    return max((",", ";", "\t"), key=header_line.count)


def _unescape_newlines(body: str) -> str:
    # Some exported data sets (the ticket CSVs among them) hold line breaks as the two characters "\n";
    # split_body works on lines, so turn them back when the body has no real line break at all.
    return body.replace("\\n", "\n") if "\n" not in body and "\\n" in body else body


def _not_utf8(path: Path) -> InvalidInput:
    return InvalidInput(f"{path.name}: filen er ikke UTF-8. Gem den som 'CSV UTF-8' og prøv igen.")


def _columns_phrase(names: list[str]) -> str:
    quoted = ", ".join(f"'{name}'" for name in names)
    return f"kolonnen {quoted}" if len(names) == 1 else f"kolonnerne {quoted}"


def _csv_layout(path: Path, queue_field: str | None) -> tuple[str, dict[str, str]]:
    """Delimiter and columns (lower-cased name → name in the file); an error names the columns there are."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            header_line = f.readline()
    except UnicodeDecodeError as err:
        raise _not_utf8(path) from err
    delimiter = _delimiter(header_line)
    names = next(csv.reader([header_line], delimiter=delimiter), [])
    columns = {name.strip().lower(): name for name in names if name.strip()}
    missing = [name for name in ("subject", "body", queue_field) if name and name.lower() not in columns]
    if missing:
        have = ", ".join(columns.values()) or "ingen"
        raise InvalidInput(f"{path.name}: {_columns_phrase(missing)} mangler. Filen har kolonnerne: {have}.")
    return delimiter, columns


def _read_csv(path: Path, queue_field: str | None) -> Iterator[LabelledMail]:
    delimiter, columns = _csv_layout(path, queue_field)  # checked now, not at the first mail
    return _csv_rows(path, queue_field, delimiter, columns)


def _csv_rows(
    path: Path, queue_field: str | None, delimiter: str, columns: dict[str, str]
) -> Iterator[LabelledMail]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        try:
            for number, row in enumerate(reader, start=1):
                values = {name: _text(row.get(original)) for name, original in columns.items()}
                mail = parse_fields(
                    values.get("from", ""),
                    values.get("to", ""),
                    values["subject"],
                    _unescape_newlines(values["body"]),
                )
                queue = _queue(values[queue_field.lower()]) if queue_field else None
                yield LabelledMail(
                    mail=mail, queue=queue, source_id=values.get("id") or f"{path.name}:{number}"
                )
        except csv.Error as err:
            raise InvalidInput(f"{path.name}, linje {reader.line_num}: ugyldig CSV ({err}).") from err
        except UnicodeDecodeError as err:
            raise _not_utf8(path) from err
