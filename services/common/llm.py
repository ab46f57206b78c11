"""A small client for an OpenAI-compatible chat endpoint (llama.cpp server, vLLM, Ollama, ...).

``KAI_LLM_URL`` is the API base *including* the version path, e.g. ``http://llm.local:8080/v1``; the client
posts to ``{llm_url}/chat/completions`` and never adds ``/v1`` itself (servers that answer without it, such
as llama.cpp, work when the URL is given without it). A URL that already ends in ``/chat/completions`` is used
as is. Error messages never carry the prompt or the answer, since both hold transcript text.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from services.common.config import Settings
from services.common.errors import ConfigurationError, KaiError

log = logging.getLogger(__name__)

_COMPLETIONS_PATH = "/chat/completions"


class LlmError(KaiError):
    """The language model could not be reached or gave an unusable answer."""

    status_code = 502


def completions_url(llm_url: str) -> str:
    """The chat-completions URL for a configured base URL (see the module docstring)."""
    base = llm_url.strip().rstrip("/")
    if base.endswith(_COMPLETIONS_PATH):
        return base
    return base + _COMPLETIONS_PATH


class LlmClient:
    """Posts chat messages to the configured endpoint and returns the answer's text."""

    def __init__(self, settings: Settings) -> None:
        if not settings.llm_url:
            raise ConfigurationError("Der er ikke sat en sprogmodel op (KAI_LLM_URL mangler).")
        self.url = completions_url(settings.llm_url)
        self.model = settings.llm_model
        self.timeout_seconds = settings.llm_timeout_seconds
        self._api_key = settings.llm_api_key

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def chat(self, messages: list[dict[str, str]], *, temperature: float = 0.2) -> str:
        """The assistant's reply to ``messages`` (OpenAI chat format); raises ``LlmError`` on any failure."""
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": temperature,
            "stream": False,
        }
        try:
            response = httpx.post(
                self.url, json=payload, headers=self._headers(), timeout=self.timeout_seconds
            )
        except httpx.TimeoutException as exc:
            raise LlmError(
                f"Sprogmodellen svarede ikke inden for {self.timeout_seconds:g} sekunder."
            ) from exc
        except httpx.HTTPError as exc:
            # The exception names the URL and the failure kind, never the payload.
            log.warning("LLM request failed: %s", type(exc).__name__)
            raise LlmError("Kunne ikke kontakte sprogmodellen.") from exc
        if response.status_code >= 400:
            log.warning("LLM endpoint answered HTTP %s", response.status_code)
            raise LlmError(f"Sprogmodellen svarede med en fejl (HTTP {response.status_code}).")
        return _reply_text(response)


def _reply_text(response: httpx.Response) -> str:
    """``choices[0].message.content`` of a chat-completions answer."""
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LlmError("Sprogmodellen gav et svar, som ikke kunne læses.") from exc
    if not isinstance(content, str) or not content.strip():
        raise LlmError("Sprogmodellen gav et tomt svar.")
    return content.strip()
