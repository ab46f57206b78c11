"""A fake OpenAI-compatible chat endpoint on 127.0.0.1 for tests (the real LLM runs elsewhere)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeLlm:
    """What the fake endpoint answers, and the requests it got. ``answer``, when set, writes each reply's
    content from the request's JSON (e.g. by its system prompt) instead of ``body``."""

    url: str = ""
    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    answer: Callable[[dict[str, Any]], str] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)

    def reply_with(self, content: str) -> None:
        self.status = 200
        self.body = json.dumps(
            {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
        ).encode()


def _handler(fake: FakeLlm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            request = json.loads(raw)
            fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": request})
            time.sleep(fake.delay)
            body = fake.body
            if fake.answer is not None:
                message = {"role": "assistant", "content": fake.answer(request)}
                body = json.dumps({"choices": [{"index": 0, "message": message}]}).encode()
            try:
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_fake_llm() -> Iterator[FakeLlm]:
    """A fake endpoint answering "Hej fra modellen." until told otherwise (``reply_with``)."""
    fake = FakeLlm()
    fake.reply_with("Hej fra modellen.")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
