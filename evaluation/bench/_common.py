"""Helpers the benchmark scripts share (the scripts import this, never each other's private helpers)."""

from __future__ import annotations

import socket
from pathlib import Path

from services.common.config import shared_data_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = shared_data_dir()
# The chatbot's two independently written question sets (the synthetic ones ship with the collections).
CHATBOT_DEV_SET = DATA / "qa" / "dev.jsonl"
CHATBOT_HELDOUT_SET = Path(__file__).with_name("chatbot_heldout.jsonl")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
