"""The OpenAI-compatible chat client, against a fake server on 127.0.0.1 (the real LLM runs elsewhere)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fake_llm import FakeLlm, running_fake_llm

from servers import free_port
from services.common.config import Settings
from services.common.errors import ConfigurationError, KaiError
from services.common.llm import LlmClient, LlmError, completions_url
from services.minutes.pipeline.draft import llm_summarizer


@pytest.fixture
def fake_llm() -> Iterator[FakeLlm]:
    with running_fake_llm() as fake:
        yield fake


def _settings(url: str | None, **overrides: Any) -> Settings:
    return Settings(**{"llm_url": url, "llm_model": "gemma-3", "llm_timeout_seconds": 5.0, **overrides})


MESSAGES = [{"role": "system", "content": "Du er en hjælper."}, {"role": "user", "content": "Sig hej."}]


def test_chat_posts_an_openai_chat_request(fake_llm: FakeLlm) -> None:
    client = LlmClient(_settings(f"{fake_llm.url}/v1", llm_api_key="hemmelig"))

    assert client.chat(MESSAGES) == "Hej fra modellen."

    (request,) = fake_llm.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer hemmelig"
    assert request["json"]["model"] == "gemma-3"
    assert request["json"]["messages"] == MESSAGES
    assert request["json"]["stream"] is False


@pytest.mark.parametrize(
    ("suffix", "path"),
    [
        ("/v1/", "/v1/chat/completions"),
        ("/v1/chat/completions", "/v1/chat/completions"),
        ("", "/chat/completions"),  # the URL is the base as configured: no /v1 is added
    ],
)
def test_the_configured_url_is_the_api_base(fake_llm: FakeLlm, suffix: str, path: str) -> None:
    LlmClient(_settings(fake_llm.url + suffix)).chat(MESSAGES)

    assert fake_llm.requests[-1]["path"] == path
    assert "Authorization" not in fake_llm.requests[-1]["headers"]


def test_completions_url() -> None:
    assert completions_url(" http://llm:8080/v1/ ") == "http://llm:8080/v1/chat/completions"


def test_http_errors_become_llm_errors(fake_llm: FakeLlm) -> None:
    fake_llm.status, fake_llm.body = 500, b'{"error": "out of memory while reading: Sig hej."}'

    with pytest.raises(LlmError) as caught:
        LlmClient(_settings(f"{fake_llm.url}/v1")).chat(MESSAGES)

    assert caught.value.status_code == 502
    assert isinstance(caught.value, KaiError)
    assert "500" in caught.value.message
    assert "Sig hej" not in caught.value.message


def test_timeouts_become_llm_errors(fake_llm: FakeLlm) -> None:
    fake_llm.delay = 1.0
    client = LlmClient(_settings(f"{fake_llm.url}/v1", llm_timeout_seconds=0.2))

    started = time.monotonic()
    with pytest.raises(LlmError, match=r"0\.2 sekunder"):
        client.chat(MESSAGES)
    assert time.monotonic() - started < 0.9


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"choices": []}',
        b'{"choices": [{"message": {"role": "assistant"}}]}',
        b'{"choices": [{"message": {"role": "assistant", "content": "   "}}]}',
    ],
)
def test_unusable_answers_become_llm_errors(fake_llm: FakeLlm, body: bytes) -> None:
    fake_llm.body = body

    with pytest.raises(LlmError):
        LlmClient(_settings(f"{fake_llm.url}/v1")).chat(MESSAGES)


def test_unreachable_endpoint_becomes_an_llm_error() -> None:
    with pytest.raises(LlmError, match="kontakte"):
        LlmClient(_settings(f"http://127.0.0.1:{free_port()}/v1")).chat(MESSAGES)


def test_missing_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        LlmClient(_settings(None))


def test_llm_summarizer_end_to_end(fake_llm: FakeLlm) -> None:
    fake_llm.reply_with("Udvalget drøftede et merforbrug.\nDer blev lagt en handleplan.")
    summarize = llm_summarizer(LlmClient(_settings(f"{fake_llm.url}/v1")))

    summary = summarize(
        "Budgetopfølgning", ["Vi har et merforbrug på 3,2 millioner.", "Vi laver en handleplan."]
    )

    assert summary == ["Udvalget drøftede et merforbrug.", "Der blev lagt en handleplan."]
    user = fake_llm.requests[-1]["json"]["messages"][-1]["content"]
    assert "Budgetopfølgning" in user and "- Vi har et merforbrug på 3,2 millioner." in user
