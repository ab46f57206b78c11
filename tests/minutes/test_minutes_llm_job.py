"""With KAI_LLM_URL set, the API's transcription job lets the model propose decisions and actions too (as
`kai minutes draft` does); a proposal is kept only when the segment it cites bears it out."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fake_llm import FakeLlm, running_fake_llm
from fastapi.testclient import TestClient

from audio_fixtures import SHARED_DATA
from services.app import create_app
from services.common.config import Settings

pytestmark = pytest.mark.slow

DANISH_WAV = SHARED_DATA / "audio_da" / "u0013002.wav"
PROPOSER_PROMPT = "Hver linje er [segmentnummer]"
LINE = re.compile(r"^\[(\d+)\] [^:]*: (.*)$", re.MULTILINE)


def _answer(request: dict[str, Any]) -> str:
    """As a model would: the proposer gets the last line it was shown as a decision, others a summary."""
    system, user = request["messages"][0]["content"], request["messages"][-1]["content"]
    if PROPOSER_PROMPT not in system:
        return "Mødet drøftede sagen."
    lines = LINE.findall(user)
    segment, text = lines[-1]
    made_up = {"text": "Rådhuset males lilla", "segment": int(segment)}  # said nowhere: must be dropped
    return json.dumps({"decisions": [{"text": text, "segment": int(segment)}, made_up], "actions": []})


@pytest.fixture
def fake_llm() -> Iterator[FakeLlm]:
    with running_fake_llm() as fake:
        fake.answer = _answer
        yield fake


def test_the_job_drafts_with_the_llm_proposer(
    settings: Settings, api_headers: dict[str, str], fake_llm: FakeLlm
) -> None:
    settings = settings.model_copy(update={"llm_url": fake_llm.url})
    with TestClient(create_app(settings), headers=api_headers) as client:
        with DANISH_WAV.open("rb") as handle:
            created = client.post(
                "/api/minutes/meetings", files={"file": (DANISH_WAV.name, handle)}, data={"language": "da"}
            )
        assert created.status_code == 202, created.text
        meeting_id = created.json()["id"]
        deadline = time.monotonic() + 240
        while client.get(f"/api/minutes/meetings/{meeting_id}").json()["job"]["status"] not in (
            "done",
            "failed",
        ):
            assert time.monotonic() < deadline, "the job did not finish"
            time.sleep(0.3)
        result = client.get(f"/api/minutes/meetings/{meeting_id}/result").json()

    asked = [r for r in fake_llm.requests if PROPOSER_PROMPT in r["json"]["messages"][0]["content"]]
    assert asked, "the job never asked the model for decisions and actions"
    shown = LINE.findall(asked[-1]["json"]["messages"][-1]["content"])
    segment = int(shown[-1][0])
    decisions = [d for s in result["minutes"]["sections"] for d in s["decisions"]]
    assert any(d["segment"] == segment for d in decisions), decisions
    assert not any("lilla" in d["text"] for d in decisions)
