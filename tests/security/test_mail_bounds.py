"""Security issue #11, findings 4 and 9: parsing any mail is bounded in time, memory and output.

Deeply nested HTML blockquotes (1,000 levels once took 10 s and stored 2 MB of text; 20,000 levels more than
ten minutes and 15 GB) and deeply nested multipart mail (1,000 levels: a RecursionError, answered 500) are
built here as real bytes and parsed by the real parser. Each measurement runs in its own process, so a
regression shows up as a timeout rather than a hung test run; the time and peak memory it prints (run
pytest with ``-s``) are reported, not asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from services.mailsort.parse import MAX_BODY_CHARS, MAX_MIME_DEPTH, parse_message

REPO = Path(__file__).resolve().parents[2]
HEADERS = b"From: Borger <borger@example.dk>\r\nTo: post@kommune.dk\r\nMIME-Version: 1.0\r\n"
URGENT = "Min far mangler insulin, og hjemmeplejen er ikke kommet i dag."

# Parse the mail in the file argv[1]: time and peak RSS first, then the same parse under tracemalloc. The peak
# RSS is this process's high-water mark (VmHWM): getrusage's ru_maxrss would carry over the pytest parent's.
_MEASURE = """
import json, sys, time, tracemalloc
from pathlib import Path
from services.mailsort.parse import parse_message

def peak_rss_mb():
    status = Path("/proc/self/status").read_text()
    return round(int(status.split("VmHWM:")[1].split()[0]) / 1024)

raw = Path(sys.argv[1]).read_bytes()
before = peak_rss_mb()
started = time.perf_counter()
mail = parse_message(raw)
seconds = time.perf_counter() - started
after = peak_rss_mb()
tracemalloc.start()
parse_message(raw)
traced = tracemalloc.get_traced_memory()[1] / 2**20
print(json.dumps({"bytes": len(raw), "seconds": round(seconds, 3), "rss_before_mb": before,
                  "peak_rss_mb": after, "traced_peak_mb": round(traced, 1), "text_chars": len(mail.text),
                  "new_text": mail.new_text[:200], "problems": mail.problems, "intact": mail.intact}))
"""


def _measure(raw: bytes, tmp_path: Path, name: str) -> dict[str, Any]:
    """Parse ``raw`` in a fresh interpreter (60 s at most) and return what it measured."""
    path = tmp_path / f"{name}.eml"
    path.write_bytes(raw)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    print(
        f"\n{name}: {figures['bytes']:,} bytes in {figures['seconds']} s; "
        f"peak RSS {figures['peak_rss_mb']} MB ({figures['rss_before_mb']} MB before parsing), "
        f"traced peak {figures['traced_peak_mb']} MB; {figures['text_chars']:,} characters of text"
    )
    return figures


def nested_blockquotes(levels: int) -> bytes:
    """An HTML mail whose reply chain is nested ``levels`` blockquotes deep, each level with its own line."""
    html = f"<p>{URGENT}</p>" + "".join(f"<blockquote>Svar {i}" for i in range(levels))
    html += "</blockquote>" * levels
    return HEADERS + b"Subject: Svar\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html.encode()


def nested_multipart(levels: int) -> bytes:
    """A mail of ``levels`` multipart/mixed parts, each inside the one before, the text in the innermost."""
    parts = [HEADERS, b"Subject: Dybt indlejret\r\n"]
    for i in range(levels):
        parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
    parts.append(b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + URGENT.encode() + b"\r\n")
    parts.extend(b"--b%d--\r\n" % i for i in reversed(range(levels)))
    return b"".join(parts)


def test_a_2000_level_blockquote_mail_is_parsed_with_bounded_text(tmp_path: Path) -> None:
    figures = _measure(nested_blockquotes(2000), tmp_path, "blockquote-2000")
    assert figures["new_text"].startswith(URGENT)
    assert figures["text_chars"] <= MAX_BODY_CHARS + 1000  # was 2 MB for 1,000 levels
    assert any("indlejret" in problem for problem in figures["problems"])


def test_a_20000_level_blockquote_mail_completes(tmp_path: Path) -> None:
    figures = _measure(nested_blockquotes(20_000), tmp_path, "blockquote-20000")
    assert figures["new_text"].startswith(URGENT)
    assert figures["text_chars"] <= MAX_BODY_CHARS + 1000
    assert any("indlejret" in problem for problem in figures["problems"])


def test_quote_levels_beyond_the_cap_keep_a_bounded_prefix() -> None:
    parsed = parse_message(nested_blockquotes(40))
    quoted = parsed.quoted_text.splitlines() + parsed.new_text.splitlines()
    assert "Svar 39" in parsed.text
    assert max(len(line) for line in quoted) < 100  # "> " at most a few times, not 40 times
    assert parsed.problems == []  # 40 levels: unusual, but within what is read


def test_a_1000_level_multipart_mail_is_parsed_with_a_problem(tmp_path: Path) -> None:
    figures = _measure(nested_multipart(1000), tmp_path, "multipart-1000")
    assert figures["intact"] is False
    assert any(str(MAX_MIME_DEPTH) in problem for problem in figures["problems"])
    assert "insulin" in figures["new_text"] or figures["text_chars"] > 0
    assert figures["text_chars"] <= MAX_BODY_CHARS + 1000


def test_multipart_within_the_depth_cap_is_read_as_usual() -> None:
    parsed = parse_message(nested_multipart(MAX_MIME_DEPTH - 1))
    assert parsed.intact and parsed.problems == []
    assert parsed.new_text == URGENT


def test_mails_with_too_many_parts_are_kept_for_a_person(tmp_path: Path) -> None:
    siblings = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(20_000))
    raw = HEADERS + b'Subject: Mange dele\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    figures = _measure(raw + siblings + b"--b--\r\n", tmp_path, "parts-20000")
    assert figures["intact"] is False and figures["problems"]


def test_header_and_line_floods_are_kept_for_a_person(tmp_path: Path) -> None:
    """The email package spends microseconds on every line and every header lookup scans every header: a
    5 MB header block took 6 s and 20 MB of empty lines 10 s. Such mails are read raw."""
    headers = HEADERS + b"Subject: Brevhoveder\r\n" + b"X:y\r\n" * 1_000_000 + b"\r\n" + URGENT.encode()
    figures = _measure(headers, tmp_path, "header-lines-1000000")
    assert figures["intact"] is False and any("brevhoved" in p for p in figures["problems"])
    lines = HEADERS + b"Subject: Linjer\r\n\r\n" + URGENT.encode() + b"\n" * 20_000_000
    figures = _measure(lines, tmp_path, "lines-20000000")
    assert figures["intact"] is False and any("linjer" in p for p in figures["problems"])
    assert figures["new_text"] == URGENT


def test_malformed_html_that_made_html_parser_quadratic_is_read_in_time(tmp_path: Path) -> None:
    """Tag soups on which the standard library's html.parser (and libxml2 on unmatched end tags below deep
    nesting) spend time quadratic in the input: each one under a megabyte, in one subprocess of 60 s."""
    soups = {
        "unclosed-start-tags": "<a" * 200_000,
        "attributes-without-end": "<x y " * 100_000,
        "processing-instructions": "<?" * 200_000,
        "deep-divs-unmatched-ends": "<div>" * 50_000 + "</span>" * 50_000,
    }
    body = "".join(f"<div>{name}</div>{soup}" for name, soup in soups.items())
    raw = HEADERS + b"Subject: Suppe\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body.encode()
    figures = _measure(raw, tmp_path, "html-tag-soup")
    assert figures["new_text"].startswith("unclosed-start-tags")
    assert figures["text_chars"] <= MAX_BODY_CHARS + 1000


def test_the_raw_api_keeps_a_1000_level_multipart_mail_for_a_person(
    client: TestClient, bearer: Callable[..., dict[str, str]]
) -> None:
    answer = client.post("/api/mail/route/raw", content=nested_multipart(1000), headers=bearer("staff"))
    assert answer.status_code == 200, answer.text
    routed = answer.json()
    assert routed["status"] == "review" and routed["auto"] is False
    assert routed["urgent"] is True  # read from the raw text the structure could not give
    assert any(str(MAX_MIME_DEPTH) in problem for problem in routed["problems"])
