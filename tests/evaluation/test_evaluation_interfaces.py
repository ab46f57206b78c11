"""The evaluation contracts: `kai evaluate simulate/savings/report` and GET /api/evaluation/savings."""

from __future__ import annotations

import json
from pathlib import Path

from credentials import bearer_for
from fastapi.testclient import TestClient
from test_savings import SAVINGS_KEYS

from kai_cli import run_kai
from services.common import auth
from services.common.config import Settings


def test_simulate_savings_and_report_from_the_command_line(settings: Settings, tmp_path: Path) -> None:
    assert run_kai(settings, "evaluate", "simulate", "--year", "2026", "--scale", "0.05").returncode == 0
    measured = json.loads(run_kai(settings, "evaluate", "savings", "--json").stdout)
    simulated = json.loads(run_kai(settings, "evaluate", "savings", "--json", "--simulated").stdout)
    assert [row["year"] for row in simulated] == [2026, 2027, 2028, 2029]
    for row in simulated:
        assert list(row)[: len(SAVINGS_KEYS)] == SAVINGS_KEYS
        assert row["saved_dkk_low"] <= row["saved_dkk"] <= row["saved_dkk_high"]
        assert row["net_dkk"] == row["saved_dkk"] - row["investment_dkk"]
    assert simulated[0]["saved_dkk"] > 0
    assert all(row["saved_dkk"] == 0 for row in measured)  # simulated rows never count as measured

    out = tmp_path / "rapport"
    result = run_kai(settings, "evaluate", "report", "--out", str(out), "--simulated")
    assert result.returncode == 0, result.stderr
    assert "SIMULEREDE DATA" in (out / "report.html").read_text(encoding="utf-8")
    assert (out / "report.xlsx").stat().st_size > 0

    bad = run_kai(settings, "evaluate", "simulate", "--year", "1999")
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1


def test_savings_api_is_for_management(client: TestClient, settings: Settings) -> None:
    tokens = {
        role: bearer_for(settings, f"eval-{role.value}", role)
        for role in (auth.Role.LEDELSE, auth.Role.SAGSBEHANDLER)
    }
    assert client.get("/api/evaluation/savings", headers=tokens[auth.Role.SAGSBEHANDLER]).status_code == 403
    rows = client.get("/api/evaluation/savings", headers=tokens[auth.Role.LEDELSE]).json()
    assert [row["year"] for row in rows] == [2026, 2027, 2028, 2029]
    assert list(rows[0])[: len(SAVINGS_KEYS)] == SAVINGS_KEYS
    assert client.get("/api/evaluation/scorecard", headers=tokens[auth.Role.LEDELSE]).status_code == 404
