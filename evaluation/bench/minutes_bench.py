"""Benchmark of the minutes pipeline on real Danish speech (``make bench``).

1. Throughput: kai's ``transcribe_recording`` without diarization against plain ``WhisperModel.transcribe``
   with the same model object and the same decoding settings, alternated in one process; both start from the
   file (decoding included). Target: kai/raw throughput ≥ 0.90.
2. Diarization cost: kai with the speaker encoder against kai without, on the same audio.
3. Peak RSS of kai's full path (no diarization) on a short and a long recording, each in a fresh subprocess.
   Target: long peak ≤ (short peak + the extra decoded audio) × 1.15.

The recordings loop the shared clips in ``../shared/data/audio_da`` (13 clips, 76 s) with seeded pauses.
Results: a printed table and ``evaluation/results/minutes_bench.json`` (``minutes_bench_quick.json`` with
``--quick``).

4. The minutes draft on the labelled meetings, cross-validated by whole meeting, beside the rule-only draft it
   replaced, and the time to draft a two-hour meeting (``--part draft``; see ``minutes_draft``); results in
   ``evaluation/results/minutes_bench_draft.json``.

    python -m evaluation.bench.minutes_bench [--repetitions 2] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluation.bench._common import (
    CLIP_DIR,
    NOISE_RMS,
    PAUSE_SECONDS,
    RESULTS_DIR,
    SAMPLE_RATE,
    load_clips,
    write_looped_speech,
)
from services.common.stamps import machine_info

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from resemblyzer import VoiceEncoder

    from services.common.config import Settings
    from services.minutes.pipeline.transcribe import TranscriptionOptions

DECODED_BYTES_PER_SECOND = SAMPLE_RATE * 4  # float32 mono, as the pipeline holds decoded audio
LANGUAGE = "da"
THROUGHPUT_TARGET = 0.90
RSS_TOLERANCE = 1.15


# ------------------------------------------------------------------------------------------ runners


@dataclass
class RunResult:
    variant: str  # "raw", "kai" or "kai+diarization"
    repetition: int
    audio_seconds: float
    wall_seconds: float
    segments: int
    words: int
    text: str = field(repr=False)
    load_before: float  # 1-minute load average when the run started
    load_after: float

    @property
    def throughput(self) -> float:
        """Audio seconds per wall second."""
        return self.audio_seconds / self.wall_seconds

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["text"]
        data["throughput"] = round(self.throughput, 3)
        return data


def run_raw(path: Path, model: WhisperModel, options: TranscriptionOptions) -> tuple[int, str]:
    """Plain faster-whisper from the file: decode_audio, then the generator consumed fully."""
    from faster_whisper import decode_audio

    segments, _ = model.transcribe(decode_audio(str(path)), language=LANGUAGE, **options.decode_kwargs())
    texts = [segment.text.strip() for segment in segments]
    texts = [text for text in texts if text]  # kai drops empty segments too
    return len(texts), " ".join(texts)


def run_kai(
    path: Path,
    model: WhisperModel,
    options: TranscriptionOptions,
    chunk_seconds: float,
    encoder: VoiceEncoder | None = None,
) -> tuple[int, str]:
    from services.minutes.pipeline.meeting import transcribe_recording

    transcript = transcribe_recording(
        path, model, options, chunk_seconds=chunk_seconds, speaker_encoder=encoder
    )
    return len(transcript.segments), " ".join(segment.text for segment in transcript.segments)


def timed(
    variant: str, repetition: int, audio_seconds: float, run: Callable[[], tuple[int, str]]
) -> RunResult:
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    n_segments, text = run()
    wall = time.perf_counter() - started
    return RunResult(
        variant=variant,
        repetition=repetition,
        audio_seconds=audio_seconds,
        wall_seconds=round(wall, 3),
        segments=n_segments,
        words=len(text.split()),
        text=text,
        load_before=round(load_before, 2),
        load_after=round(os.getloadavg()[0], 2),
    )


def warm_up(path: Path, model: WhisperModel, options: TranscriptionOptions, encoder: VoiceEncoder) -> None:
    """One short untimed pass of each engine, so first-call set-up does not land in a timed run."""
    from faster_whisper import decode_audio

    from services.minutes.pipeline.diarize import speaker_windows

    audio = decode_audio(str(path))[: 30 * SAMPLE_RATE]
    segments, _ = model.transcribe(audio, language=LANGUAGE, **options.decode_kwargs())
    for _ in segments:
        pass
    list(speaker_windows(audio, 0.0, encoder))  # a generator: consume it


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(reference, hypothesis)) if reference.strip() else 0.0


# ------------------------------------------------------------------------------------------ RSS child


@dataclass
class RssResult:
    audio_seconds: float
    wall_seconds: float  # transcription only, model load excluded
    segments: int
    rss_after_load_mib: float  # VmRSS once the model is loaded
    load_peak_mib: float  # VmHWM once the model is loaded (loading briefly holds more than the model needs)
    transcription_peak_mib: float | None  # VmHWM from after the load to the end (None without /proc)
    peak_rss_mib: float  # the process's own peak over its whole life
    ru_maxrss_mib: float  # getrusage at the end; on Linux it also counts the launching parent's peak

    @property
    def throughput(self) -> float:
        return self.audio_seconds / self.wall_seconds


def ru_maxrss_mib() -> float:
    """getrusage's peak RSS (KiB on Linux, bytes on macOS). After fork + exec it is at least the parent's peak
    at the time of the fork, so it overstates a child's own peak when the parent is bigger."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def proc_status_mib(key: str) -> float | None:
    """``VmRSS``/``VmHWM`` of this process from /proc/self/status (Linux), or None where there is none."""
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024  # kB
    return None


def reset_peak_rss() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux ≥ 4.0); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def rss_child(path: Path) -> None:
    """Run in a fresh process: kai's full path without diarization on ``path``; prints one JSON line."""
    from models.registry import load_whisper
    from services.common.config import Settings
    from services.minutes.pipeline.transcribe import TranscriptionOptions

    settings = Settings()
    model = load_whisper(settings)
    after_load = proc_status_mib("VmRSS") or ru_maxrss_mib()
    load_peak = proc_status_mib("VmHWM") or ru_maxrss_mib()
    can_reset = reset_peak_rss()
    started = time.perf_counter()
    n_segments, _ = run_kai(path, model, TranscriptionOptions(language=LANGUAGE), settings.chunk_seconds)
    wall = time.perf_counter() - started
    end_peak = proc_status_mib("VmHWM")
    transcription_peak = end_peak if can_reset else None
    process_peak = ru_maxrss_mib() if end_peak is None else max(load_peak, end_peak)
    with wave.open(str(path), "rb") as handle:
        audio_seconds = handle.getnframes() / handle.getframerate()
    result = RssResult(
        audio_seconds=audio_seconds,
        wall_seconds=round(wall, 3),
        segments=n_segments,
        rss_after_load_mib=round(after_load, 1),
        load_peak_mib=round(load_peak, 1),
        transcription_peak_mib=None if transcription_peak is None else round(transcription_peak, 1),
        peak_rss_mib=round(process_peak, 1),
        ru_maxrss_mib=round(ru_maxrss_mib(), 1),
    )
    print(json.dumps(asdict(result)), flush=True)


def measure_rss(path: Path) -> RssResult:
    """Peak RSS of kai's pipeline on ``path`` in a fresh interpreter."""
    command = [sys.executable, "-m", "evaluation.bench.minutes_bench", "--rss-child", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"RSS child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return RssResult(**json.loads(done.stdout.strip().splitlines()[-1]))


# ------------------------------------------------------------------------------------------- report


@dataclass
class Comparison:
    numerator: str
    denominator: str
    mean_num: float  # audio seconds per wall second: total audio over total wall time
    mean_den: float
    ratio_of_means: float  # throughput(num) / throughput(den), from total audio over total wall time
    ratio_of_best: float  # best run of each


def mean_throughput(runs: list[RunResult]) -> float:
    return sum(r.audio_seconds for r in runs) / sum(r.wall_seconds for r in runs)


def best_throughput(runs: list[RunResult]) -> float:
    return max(r.throughput for r in runs)


def compare(runs: list[RunResult], numerator: str, denominator: str) -> Comparison:
    num = [r for r in runs if r.variant == numerator]
    den = [r for r in runs if r.variant == denominator]
    return Comparison(
        numerator=numerator,
        denominator=denominator,
        mean_num=round(mean_throughput(num), 3),
        mean_den=round(mean_throughput(den), 3),
        ratio_of_means=round(mean_throughput(num) / mean_throughput(den), 4),
        ratio_of_best=round(best_throughput(num) / best_throughput(den), 4),
    )


def speech_setup(settings: Settings) -> dict[str, Any]:
    """The machine and the speech stack the figures were measured with."""
    import ctranslate2
    import faster_whisper

    from models.registry import whisper_compute_type, whisper_model_dir, whisper_model_name

    return machine_info(settings.device) | {
        "faster_whisper": faster_whisper.__version__,
        "ctranslate2": ctranslate2.__version__,
        "whisper_model": whisper_model_name(settings),
        "whisper_model_dir": str(whisper_model_dir(settings)),
        "compute_type": whisper_compute_type(settings),
        "cpu_threads": settings.cpu_threads,
        "beam_size_setting": settings.beam_size,
        "chunk_seconds": settings.chunk_seconds,
    }


def print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 120)
    runs = Table(title="Minutes pipeline — timed runs (one process, same model object)")
    for column in (
        "#",
        "variant",
        "rep",
        "audio s",
        "wall s",
        "audio s / wall s",
        "segments",
        "words",
        "load",
    ):
        runs.add_column(column, justify="left" if column == "variant" else "right")
    for number, run in enumerate(report["runs"], start=1):
        runs.add_row(
            str(number),
            run["variant"],
            str(run["repetition"]),
            f"{run['audio_seconds']:.0f}",
            f"{run['wall_seconds']:.1f}",
            f"{run['throughput']:.2f}",
            str(run["segments"]),
            str(run["words"]),
            f"{run['load_before']:.2f}→{run['load_after']:.2f}",
        )
    console.print(runs)

    summary = Table(title="Minutes pipeline — figures and targets")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    summary.add_column("target", justify="right")
    summary.add_column("result")
    for row in report["table"]:
        style = {"PASS": "green", "FAIL": "bold red"}.get(row[3], "")
        summary.add_row(row[0], row[1], row[2], f"[{style}]{row[3]}[/]" if style else row[3])
    console.print(summary)
    console.print(f"RSS: {report['rss']['note']}.")
    console.print(f"Results written to {report['output']}")


def rss_check(short_peak: float, long_peak: float, extra_decoded_mib: float) -> dict[str, Any]:
    limit = (short_peak + extra_decoded_mib) * RSS_TOLERANCE
    return {
        "short_mib": short_peak,
        "long_mib": long_peak,
        "limit_mib": round(limit, 1),
        "pass": long_peak <= limit,
    }


def summarize_rss(
    short: RssResult, long: RssResult, extra_decoded_mib: float, chunk_seconds: float
) -> dict[str, Any]:
    """The issue's check on each process's whole-life peak, and the same check on the transcription phase
    alone (the model load's own peak is then left out, which makes the check sharper)."""
    checks = {"process_peak": rss_check(short.peak_rss_mib, long.peak_rss_mib, extra_decoded_mib)}
    if short.transcription_peak_mib is not None and long.transcription_peak_mib is not None:
        checks["transcription_peak"] = rss_check(
            short.transcription_peak_mib, long.transcription_peak_mib, extra_decoded_mib
        )
    # stream_audio_chunks only cuts a recording longer than chunk_seconds plus its 20 s search window
    chunks_long = long.audio_seconds > chunk_seconds + min(20.0, chunk_seconds / 2)
    note = (
        f"the {long.audio_seconds / 60:g} min recording is cut into chunks of about {chunk_seconds:g} s"
        if chunks_long
        else f"both recordings fit in one {chunk_seconds:g} s chunk, so this measures how one faster-whisper "
        "call's memory grows with its input, not kai's chunked streaming (set KAI_CHUNK_SECONDS to compare)"
    )
    return {
        "chunk_seconds": chunk_seconds,
        "note": note,
        "short": asdict(short),
        "long": asdict(long),
        "short_throughput": round(short.throughput, 3),
        "long_throughput": round(long.throughput, 3),
        "extra_decoded_bytes": round(extra_decoded_mib * 2**20),
        "extra_decoded_mib": round(extra_decoded_mib, 1),
        "tolerance": RSS_TOLERANCE,
        "checks": checks,
    }


def pass_fail(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def summary_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, PASS/FAIL) rows of the printed summary."""
    throughput = report["throughput"]
    diarization = report["diarization"]
    rss = report["rss"]
    short_min, long_min = report["audio"]["short_seconds"] / 60, report["audio"]["long_seconds"] / 60
    rows = [
        (
            f"raw faster-whisper, audio s / wall s ({short_min:g} min)",
            f"{throughput['mean_den']:.2f}",
            "",
            "",
        ),
        (
            f"kai, no diarization, audio s / wall s ({short_min:g} min)",
            f"{throughput['mean_num']:.2f}",
            "",
            "",
        ),
        (
            "throughput kai / raw (mean; best-of)",
            f"{throughput['ratio_of_means']:.3f}; {throughput['ratio_of_best']:.3f}",
            f"≥ {THROUGHPUT_TARGET:.2f}",
            pass_fail(report["targets"]["throughput_ratio"]),
        ),
        ("kai text vs raw text (WER, first runs)", f"{report['kai_vs_raw_wer']:.4f}", "", ""),
        (
            f"kai + diarization, audio s / wall s ({short_min:g} min)",
            f"{diarization['mean_num']:.2f}",
            "",
            "",
        ),
        ("diarization time ratio (with / without)", f"{diarization['time_ratio']:.3f}", "", ""),
        ("diarization extra s per audio hour", f"{diarization['extra_seconds_per_audio_hour']:.0f}", "", ""),
        (
            f"extra decoded audio ({long_min - short_min:g} min float32 16 kHz)",
            f"{rss['extra_decoded_mib']:.1f} MiB",
            "",
            "",
        ),
    ]
    names = {"process_peak": "peak RSS, whole process", "transcription_peak": "peak RSS, transcription phase"}
    for key, check in rss["checks"].items():
        rows.append((f"{names[key]}, {short_min:g} min", f"{check['short_mib']:.1f} MiB", "", ""))
        rows.append(
            (
                f"{names[key]}, {long_min:g} min",
                f"{check['long_mib']:.1f} MiB",
                f"≤ {check['limit_mib']:.1f} MiB",
                pass_fail(check["pass"]),
            )
        )
    rows += [
        (
            f"RSS after model load ({short_min:g}; {long_min:g} min)",
            f"{rss['short']['rss_after_load_mib']:.0f}; {rss['long']['rss_after_load_mib']:.0f} MiB",
            "",
            "",
        ),
        (
            f"ru_maxrss at end ({short_min:g}; {long_min:g} min)",
            f"{rss['short']['ru_maxrss_mib']:.0f}; {rss['long']['ru_maxrss_mib']:.0f} MiB",
            "",
            "",
        ),
        (
            f"kai audio s / wall s in RSS children ({short_min:g}; {long_min:g} min)",
            f"{rss['short_throughput']:.2f}; {rss['long_throughput']:.2f}",
            "",
            "",
        ),
    ]
    return rows


# --------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.bench.minutes_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repetitions", type=int, default=2, help="timed runs of each variant (default 2)")
    parser.add_argument(
        "--quick", action="store_true", help="2 and 6 minutes of audio instead of 10 and 60, for a fast try"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the pauses and the noise floor")
    parser.add_argument("--output", type=Path, default=None, help="JSON path (default: evaluation/results/)")
    parser.add_argument(
        "--part",
        choices=("all", "asr", "draft"),
        default="all",
        help="asr: transcription throughput and memory; draft: the minutes draft on labelled meetings "
        "(evaluation/bench/minutes_draft.py, about 3 minutes); all: both (default)",
    )
    parser.add_argument("--rss-child", type=Path, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def timed_runs(
    path: Path, audio_seconds: float, settings: Settings, options: TranscriptionOptions, repetitions: int
) -> list[RunResult]:
    """raw, kai, kai+diarization, raw, kai, ... on ``path``, one process, one model object."""
    from models.registry import load_speaker_encoder, load_whisper

    print(f"Loading models ({settings.device}) …", flush=True)
    model = load_whisper(settings)
    encoder = load_speaker_encoder(settings)
    warm_up(path, model, options, encoder)
    plans: dict[str, Callable[[], tuple[int, str]]] = {
        "raw": lambda: run_raw(path, model, options),
        "kai": lambda: run_kai(path, model, options, settings.chunk_seconds),
        "kai+diarization": lambda: run_kai(path, model, options, settings.chunk_seconds, encoder),
    }
    runs: list[RunResult] = []
    for repetition in range(1, repetitions + 1):
        for variant, plan in plans.items():
            print(f"run {len(runs) + 1}: {variant} #{repetition} on {audio_seconds:.0f} s …", flush=True)
            runs.append(timed(variant, repetition, audio_seconds, plan))
            print(f"  {runs[-1].wall_seconds:.1f} s, {runs[-1].throughput:.2f} audio s / s", flush=True)
    return runs


def summarize_diarization(runs: list[RunResult], audio_seconds: float) -> dict[str, Any]:
    with_ = [r.wall_seconds for r in runs if r.variant == "kai+diarization"]
    without = [r.wall_seconds for r in runs if r.variant == "kai"]
    mean_with, mean_without = sum(with_) / len(with_), sum(without) / len(without)
    return {
        **asdict(compare(runs, "kai+diarization", "kai")),
        "time_ratio": round(mean_with / mean_without, 4),
        "extra_seconds_per_audio_hour": round((mean_with - mean_without) / audio_seconds * 3600, 1),
    }


def run_benchmark(args: argparse.Namespace, command: str) -> dict[str, Any]:
    from services.common.config import Settings
    from services.minutes.pipeline.transcribe import TranscriptionOptions

    short_minutes, long_minutes = (2.0, 6.0) if args.quick else (10.0, 60.0)
    output = args.output or RESULTS_DIR / ("minutes_bench_quick.json" if args.quick else "minutes_bench.json")
    settings = Settings()
    options = TranscriptionOptions(language=LANGUAGE)
    started_at = dt.datetime.now(dt.UTC)
    clips = load_clips(CLIP_DIR)

    with tempfile.TemporaryDirectory(prefix="kai-bench-") as tmp:
        short_path = Path(tmp) / f"speech_{short_minutes:g}min.wav"
        long_path = Path(tmp) / f"speech_{long_minutes:g}min.wav"
        short_seconds = write_looped_speech(short_path, clips, short_minutes * 60, seed=args.seed)
        long_seconds = write_looped_speech(long_path, clips, long_minutes * 60, seed=args.seed)
        # Memory first, while this process is still small (a child's ru_maxrss starts at its parent's peak).
        print(f"RSS child on {short_seconds:.0f} s …", flush=True)
        rss_short = measure_rss(short_path)
        print(f"RSS child on {long_seconds:.0f} s …", flush=True)
        rss_long = measure_rss(long_path)
        runs = timed_runs(short_path, short_seconds, settings, options, args.repetitions)

    throughput = compare(runs, "kai", "raw")
    extra_decoded_mib = (long_seconds - short_seconds) * DECODED_BYTES_PER_SECOND / 2**20
    rss = summarize_rss(rss_short, rss_long, extra_decoded_mib, settings.chunk_seconds)
    first_raw = next(r for r in runs if r.variant == "raw")
    first_kai = next(r for r in runs if r.variant == "kai")
    report: dict[str, Any] = {
        "benchmark": "minutes_bench",
        "command": command,
        "started_at": started_at.isoformat(timespec="seconds"),
        "wall_seconds_total": round((dt.datetime.now(dt.UTC) - started_at).total_seconds(), 1),
        "machine": speech_setup(settings),
        "audio": {
            "source": str(CLIP_DIR),
            "clips": len(clips),
            "clip_seconds_total": round(sum(len(c) for c in clips) / SAMPLE_RATE, 2),
            "pause_seconds": list(PAUSE_SECONDS),
            "noise_rms": NOISE_RMS,
            "seed": args.seed,
            "format": "WAV, PCM 16-bit, mono, 16 kHz",
            "short_seconds": short_seconds,
            "long_seconds": long_seconds,
        },
        "options": {"language": LANGUAGE, **options.decode_kwargs()},
        "repetitions": args.repetitions,
        "runs": [r.to_json() for r in runs],
        "throughput": asdict(throughput),
        "kai_vs_raw_wer": round(word_error_rate(first_raw.text, first_kai.text), 4),
        "diarization": summarize_diarization(runs, short_seconds),
        "rss": rss,
        "targets": {
            "throughput_ratio": throughput.ratio_of_means >= THROUGHPUT_TARGET,
            "rss_growth": rss["checks"]["process_peak"]["pass"],
            **(
                {"rss_growth_transcription_phase": rss["checks"]["transcription_peak"]["pass"]}
                if "transcription_peak" in rss["checks"]
                else {}
            ),
        },
        "output": str(output),
    }
    report["table"] = [list(row) for row in summary_rows(report)]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.rss_child is not None:
        rss_child(args.rss_child)
        return
    if args.repetitions < 1:
        raise SystemExit("--repetitions must be at least 1")
    command = " ".join(
        ["python -m evaluation.bench.minutes_bench", *(sys.argv[1:] if argv is None else argv)]
    )
    if args.part in ("all", "asr"):
        print_report(run_benchmark(args, command))
    if args.part in ("all", "draft"):
        run_draft_benchmark(command)


def run_draft_benchmark(command: str) -> dict[str, Any]:
    from evaluation.bench import minutes_draft

    started_at = dt.datetime.now(dt.UTC)
    report = {
        "benchmark": "minutes_bench --part draft",
        "command": command,
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": machine_info(),
        **minutes_draft.run(),
    }
    report["wall_seconds_total"] = round((dt.datetime.now(dt.UTC) - started_at).total_seconds(), 1)
    report["table"] = minutes_draft.summary_rows(report)
    output = RESULTS_DIR / "minutes_bench_draft.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    minutes_draft.print_report(report)
    print(f"Written to {output}")
    return report


if __name__ == "__main__":
    main()
