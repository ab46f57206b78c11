"""The real Redis and PostgreSQL servers some tests need (.ci/services-setup.sh starts them in CI).

Locally a missing server skips those tests with the reason; in CI (``CI`` set) it fails them, so a missing
install step cannot hide behind a skip.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

# Database 15 keeps the tests away from a developer's own data in database 0; each pytest-xdist worker
# ("gw0", "gw1", …) counts down from it, so one worker's flush never empties another's queues.
_XDIST_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
TEST_REDIS_URL = os.environ.get("KAI_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _XDIST_WORKER}")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (the socket is closed again)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unavailable(what: str, reason: str) -> None:
    """Skip locally, fail in CI."""
    message = f"{what} is not reachable ({reason}); run .ci/services-setup.sh"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def create_database(server: URL, name: str, template: str | None = None) -> URL:
    """Create database ``name`` on the PostgreSQL server of ``server`` (a copy of ``template``); its URL."""
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        # FILE_COPY: ten times faster than the default WAL_LOG for a small template (PostgreSQL ≥ 15).
        suffix = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    engine.dispose()
    return server.set(database=name)


def drop_database(server: URL, name: str) -> None:
    """Drop database ``name``, closing its connections."""
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@contextmanager
def running_kai(kai: Path, env: dict[str, str], log: Path, timeout: float = 60) -> Iterator[tuple[str, int]]:
    """``kai serve`` in its own process session on a free port: its base URL and pid, stopped afterwards.

    ``log`` receives its output; a server that exits or does not answer /healthz in ``timeout`` s fails the
    test with that log."""
    port = free_port()
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(kai), "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield url, server.pid
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def peak_rss_mib(pid: int) -> float:
    """A process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")
