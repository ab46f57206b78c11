"""The minutes draft on labelled meetings: decisions, actions, owners, deadlines and agenda items, each
meeting drafted with weights fitted without it (``python -m evaluation.bench.minutes_bench --part draft``).

1. Leave-one-meeting-out over the bundled meetings (``services/minutes/pipeline/draft/data``): every fit
   chooses its own regularisation, features and thresholds by leave-one-out *within* its nine meetings, so
   no choice ever sees the meeting it is scored on. Reported overall and per writer group (a, b).
2. Transfer between the two groups of meetings (a-* and b-* may be two writers): fit on a, score b, and back.
3. The rule-only draft kai shipped before (commit ``BASELINE_COMMIT``) on the same meetings, exported from
   git and run in a child process (it needs no fitting).
4. Drafting time of a two-hour meeting (about 1,500 segments, the bundled meetings' turns repeated under a
   five-item agenda) with the shipped weights: ``build_minutes_draft`` in this process, and the whole
   ``kai minutes draft --json`` command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

from evaluation.bench._common import REPO_ROOT
from evaluation.minutes_scoring import score_meetings

BASELINE_COMMIT = "749955a"  # main before issue 13: the cue-rule draft
TWO_HOURS_SEGMENTS = 1500

_BASELINE_SCRIPT = r"""
import json, re, sys
from datetime import date
from services.minutes.pipeline.draft import build_minutes_draft
from services.minutes.pipeline.types import Segment, Transcript

out = []
for path in sys.argv[1:]:
    m = json.load(open(path, encoding="utf-8"))
    segments = [Segment(id=i, start=i * 10.0, end=i * 10 + 9.0, text=s["text"], speaker=s["speaker"])
                for i, s in enumerate(m["segments"])]
    transcript = Transcript(language="da", language_probability=1.0, duration=len(segments) * 10.0,
                            segments=segments)
    draft = build_minutes_draft(transcript, title=m["title"], meeting_date=date.fromisoformat(m["date"]),
                                participants=[p["name"] for p in m["participants"]], agenda=m["agenda"])
    iso = re.compile(r"\d{4}-\d\d-\d\d$")
    out.append({"sections": [
        {"number": s.number, "segment_ids": s.segment_ids,
         "decisions": [{"segment": int(d.start // 10), "text": d.text} for d in s.decisions],
         "actions": [{"segment": int(a.start // 10), "who": a.who,
                      "deadline": a.deadline if a.deadline and iso.match(a.deadline) else None}
                     for a in s.actions]}
        for s in draft.sections]})
print(json.dumps(out))
"""


def _scores(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    return score_meetings(pairs).scores()


def baseline_scores(paths: list[Path]) -> dict[str, Any]:
    """The scores of the rule-only draft at ``BASELINE_COMMIT``, or why they could not be computed."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", BASELINE_COMMIT, "services"],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        return {"error": f"git archive {BASELINE_COMMIT} failed: {type(exc).__name__}"}
    with tempfile.TemporaryDirectory(prefix="kai-baseline-") as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        result = subprocess.run(
            [sys.executable, "-c", _BASELINE_SCRIPT, *map(str, paths)],
            capture_output=True,
            text=True,
            env=os.environ | {"PYTHONPATH": tmp},
            cwd=tmp,
            check=False,
        )
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1:]}
    drafts = json.loads(result.stdout)
    gold = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    return {"commit": BASELINE_COMMIT, **_scores(list(zip(gold, drafts, strict=True)))}


def _two_hour_meeting(meetings: list[Any]) -> tuple[Any, list[str], list[str]]:
    """About two hours of turns (the bundled meetings' segments, repeated), the first meeting's agenda."""
    from services.minutes.pipeline.types import Segment, Transcript

    turns = [s for m in meetings for s in m.data["segments"]]
    segments = []
    while len(segments) < TWO_HOURS_SEGMENTS:
        for s in turns[: TWO_HOURS_SEGMENTS - len(segments)]:
            i = len(segments)
            segments.append(
                Segment(id=i, start=i * 4.8, end=i * 4.8 + 4.5, text=s["text"], speaker=s["speaker"])
            )
    transcript = Transcript(
        language="da", language_probability=1.0, duration=segments[-1].end, segments=segments
    )
    participants = sorted({s.speaker for s in segments if s.speaker})
    return transcript, participants, list(meetings[0].agenda)


def draft_timing(meetings: list[Any], repetitions: int = 3) -> dict[str, Any]:
    from services.minutes.pipeline.draft import build_minutes_draft, shipped_models

    transcript, participants, agenda = _two_hour_meeting(meetings)
    shipped_models()  # loaded once per process, as in kai
    seconds = []
    for _ in range(repetitions):
        started = time.perf_counter()
        build_minutes_draft(
            transcript,
            title="t",
            meeting_date=meetings[0].meeting_date,
            participants=participants,
            agenda=agenda,
        )
        seconds.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory(prefix="kai-draft-") as tmp:
        source, agenda_file = Path(tmp) / "møde.json", Path(tmp) / "dagsorden.txt"
        source.write_text(
            json.dumps({"segments": [{"speaker": s.speaker, "text": s.text} for s in transcript.segments]})
        )
        agenda_file.write_text("\n".join(agenda), encoding="utf-8")
        kai = Path(sys.executable).with_name("kai")
        command = [str(kai), "minutes", "draft", str(source), "--agenda", str(agenda_file), "--json"]
        command += ["--participants", ",".join(participants), "--date", str(meetings[0].meeting_date)]
        started = time.perf_counter()
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            env=os.environ | {"PYTHONPATH": str(REPO_ROOT)},
        )
        command_seconds = time.perf_counter() - started
    return {
        "segments": len(transcript.segments),
        "audio_hours": round(transcript.duration / 3600, 2),
        "agenda_items": len(agenda),
        "build_seconds": [round(s, 3) for s in seconds],
        "build_seconds_max": round(max(seconds), 3),
        "command_seconds": round(command_seconds, 2),
        "command_ok": done.returncode == 0,
        "target_seconds": 5.0,
    }


def run(data_dir: Path | None = None) -> dict[str, Any]:
    from services.minutes.pipeline.draft.train import DATA_DIR, cross_validate, load_labelled

    folder = data_dir or DATA_DIR
    meetings = load_labelled(folder)
    started = time.perf_counter()
    lomo = cross_validate(meetings)
    lomo_seconds = time.perf_counter() - started
    group_a = [i for i, m in enumerate(meetings) if "-a-" in m.id]
    group_b = [i for i, m in enumerate(meetings) if "-b-" in m.id]

    def pairs(drafted: list[tuple[Any, dict[str, Any]]], ids: set[str] | None = None) -> list[Any]:
        return [(m.data, d) for m, d in drafted if ids is None or m.id in ids]

    report: dict[str, Any] = {
        "meetings": [m.id for m in meetings],
        "data": str(folder),
        "leave_one_meeting_out": _scores(pairs(lomo)),
        "leave_one_meeting_out_seconds": round(lomo_seconds, 1),
        "leave_one_meeting_out_a": _scores(pairs(lomo, {meetings[i].id for i in group_a})),
        "leave_one_meeting_out_b": _scores(pairs(lomo, {meetings[i].id for i in group_b})),
    }
    if group_a and group_b:
        report["train_a_test_b"] = _scores(pairs(cross_validate(meetings, folds=[(group_a, group_b)])))
        report["train_b_test_a"] = _scores(pairs(cross_validate(meetings, folds=[(group_b, group_a)])))
    report["rule_only_baseline"] = baseline_scores(sorted(folder.glob("mtg-*.json")))
    report["timing_two_hours"] = draft_timing(meetings)
    return report


SUMMARY_FIGURES = (
    (
        "decisions F1 (P / R)",
        lambda s: (
            f"{s['decisions']['f1']:.2f} ({s['decisions']['precision']:.2f} / {s['decisions']['recall']:.2f})"
        ),
    ),
    (
        "actions F1 (P / R)",
        lambda s: (
            f"{s['actions']['f1']:.2f} ({s['actions']['precision']:.2f} / {s['actions']['recall']:.2f})"
        ),
    ),
    ("owner right (of found actions)", lambda s: f"{s['owner_accuracy']:.2f}"),
    ("deadline right (of found actions)", lambda s: f"{s['deadline_accuracy']:.2f}"),
    (
        "segments under the right item (agenda talk; all)",
        lambda s: f"{s['agenda_item_accuracy']:.2f}; {s['agenda_item_accuracy_all']:.2f}",
    ),
    (
        "not-decisions reported",
        lambda s: "{reported} of {total} ({share:.0%})".format(**s["not_decisions"]),
    ),
)
COLUMNS = (
    ("LOMO", "leave_one_meeting_out"),
    ("LOMO a", "leave_one_meeting_out_a"),
    ("LOMO b", "leave_one_meeting_out_b"),
    ("a→b", "train_a_test_b"),
    ("b→a", "train_b_test_a"),
    ("rules (before)", "rule_only_baseline"),
)


def summary_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, show in SUMMARY_FIGURES:
        row = [label]
        for _, key in COLUMNS:
            scores = report.get(key, {})
            row.append(show(scores) if "decisions" in scores else "–")
        rows.append(row)
    timing = report["timing_two_hours"]
    rows.append(
        [
            f"draft of a 2-hour meeting ({timing['segments']} segments): build; whole command",
            f"{timing['build_seconds_max']:.2f} s; {timing['command_seconds']:.1f} s",
            *["" for _ in COLUMNS[1:]],
        ]
    )
    return rows


def print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    table = Table(title="Minutes draft on labelled meetings (each scored by weights fitted without it)")
    table.add_column("figure")
    for name, _ in COLUMNS:
        table.add_column(name, justify="right")
    for row in summary_rows(report):
        table.add_row(*row)
    console.print(table)
