"""Browser-test fixtures: the real app served by uvicorn on a free local port, and headless Chromium."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from browser import CHROMIUM, CHROMIUM_ARGS, REPO, LiveServer
from services.app import create_app
from services.common.config import Settings
from services.common.db import Database, open_database

# The shared model cache prepared by `make models` (as in tests/conftest.py).
MODEL_CACHE = REPO / "var" / "models"

STARTUP_TIMEOUT_S = 30.0


def _bound_socket() -> socket.socket:
    # Binding port 0 here and handing the socket to uvicorn avoids a race for the "free" port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the live server stopped during startup (see the log above)")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the live server did not start within {STARTUP_TIMEOUT_S:.0f} s")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app (lifespan, job runner, templates) in a background thread, shared by the session."""
    data_dir: Path = tmp_path_factory.mktemp("live") / "var"
    settings = Settings(data_dir=data_dir, model_cache_dir=MODEL_CACHE, max_upload_mb=20)
    sock = _bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    # uvicorn installs no signal handlers outside the main thread, so a plain thread is enough.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True)
    thread.start()
    db: Database | None = None
    try:
        _wait_started(server, thread)
        db = open_database(settings.resolved_database_url)
        yield LiveServer(url=f"http://127.0.0.1:{port}", settings=settings, db=db)
    finally:
        if db is not None:
            db.dispose()
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)
        sock.close()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run .ci/browser-setup.sh (apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium, started once per session."""
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page in a fresh context (no cookies from other tests), with the live server as base URL."""
    context = browser.new_context(
        base_url=live_server.url, locale="da-DK", viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
