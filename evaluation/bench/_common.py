"""Helpers the benchmark scripts share (the scripts import this, never each other's private helpers)."""

from __future__ import annotations

import socket
import subprocess
import time
import wave
from pathlib import Path

import httpx
import numpy as np

from services.common.config import shared_data_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = REPO_ROOT / "evaluation" / "results"
DATA = shared_data_dir()
# The chatbot's two independently written question sets (the synthetic ones ship with the collections).
CHATBOT_DEV_SET = DATA / "qa" / "dev.jsonl"
CHATBOT_HELDOUT_SET = Path(__file__).with_name("chatbot_heldout.jsonl")
# The shared Danish speech clips the recordings of the minutes and scale benchmarks loop.
CLIP_DIR = DATA / "audio_da"
SAMPLE_RATE = 16000
PAUSE_SECONDS = (0.3, 1.0)
NOISE_RMS = 1e-3  # a faint room-noise floor instead of digital silence


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(base_url: str, server: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    """Return once ``kai serve`` at ``base_url`` answers /healthz; raise if it exits or ``timeout`` s pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"kai serve exited with {server.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"kai serve did not answer within {timeout:.0f} s")


def load_clips(clip_dir: Path) -> list[np.ndarray]:
    """The shared clips as float32 mono 16 kHz, in name order."""
    from faster_whisper import decode_audio

    paths = sorted(clip_dir.glob("*.wav"))
    if not paths:
        raise SystemExit(f"No clips found in {clip_dir}")
    return [decode_audio(str(path), sampling_rate=SAMPLE_RATE) for path in paths]


def write_looped_speech(path: Path, clips: list[np.ndarray], seconds: float, *, seed: int = 0) -> float:
    """Write ``clips`` looped with random pauses as a 16-bit mono WAV of exactly ``seconds``; written piece by
    piece, so a long file never sits in memory. Returns the duration written."""
    rng = np.random.default_rng(seed)
    total = round(seconds * SAMPLE_RATE)
    written = 0
    index = 0
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)

        def put(samples: np.ndarray) -> None:
            noisy = samples + rng.normal(0.0, NOISE_RMS, len(samples)).astype(np.float32)
            out.writeframes((np.clip(noisy, -1.0, 1.0) * 32767).astype("<i2").tobytes())

        while written < total:
            pause = np.zeros(round(rng.uniform(*PAUSE_SECONDS) * SAMPLE_RATE), dtype=np.float32)
            clip = clips[index % len(clips)]
            index += 1
            piece = np.concatenate([pause, clip]) if written + len(pause) + len(clip) <= total else pause
            piece = piece[: total - written]  # the tail is padded with pause, never a cut clip
            put(piece)
            written += len(piece)
    return written / SAMPLE_RATE
