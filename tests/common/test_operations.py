"""Operations: request ids, JSON logs without CPR numbers or raw paths, /readyz and /metrics (real app)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import make_url

from servers import drop_database, free_port, unavailable
from services.app import create_app
from services.chatbot import service as chat_service
from services.chatbot import store as chat_store
from services.common.config import Settings
from services.common.db import Database, utcnow
from services.common.jobs import Job, JobStatus
from services.common.observability.metrics import metrics_exposition
from services.mailsort import service as mail_service
from services.mailsort.store import MailStatus, RoutedMail
from services.minutes import job as minutes_job

REPO = Path(__file__).resolve().parents[2]
MEETING_ROUTE = "/api/minutes/meetings/{meeting_id}"
CPR = "010190-1234"  # a valid date (1 January 1990): the masking must catch it


def _json_lines(stderr: str) -> list[dict[str, object]]:
    """Every line the app logged; json.loads fails the test on any line that is not JSON."""
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def _sample(client: TestClient, name: str, **labels: str) -> float | None:
    """One sample's value from /metrics, None when it is not exposed."""
    response = client.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


# --- request ids and logs ---------------------------------------------------------------------------------


def test_request_id_is_echoed_when_sane_and_made_otherwise(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.2_B"}).headers["X-Request-ID"] == (
        "lb-7f3a.2_B"
    )
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/healthz").headers["X-Request-ID"]
    for insane in ("a b", "x" * 65, "<script>", "id;drop"):
        echoed = client.get("/healthz", headers={"X-Request-ID": insane}).headers["X-Request-ID"]
        assert echoed != insane and len(echoed) == 32
    # errors carry it too, so a user's report can be found in the logs
    assert client.get("/ingen/side").headers["X-Request-ID"]


def test_access_line_is_json_with_request_id_and_route_template_only(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = client.get(
        "/api/minutes/meetings/abc123?tekst=fortroligt", headers={"X-Request-ID": "req-access-1"}
    )
    assert response.status_code == 401
    access = [line for line in _json_lines(capsys.readouterr().err) if line["logger"] == "kai.access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-access-1"
    assert (line["method"], line["route"], line["status"]) == ("GET", MEETING_ROUTE, 401)
    assert isinstance(line["duration_ms"], float)
    assert {"timestamp", "level", "message"} <= line.keys()
    # neither the raw id nor the query string (it may hold text) is logged
    assert "abc123" not in json.dumps(line) and "fortroligt" not in json.dumps(line)


def test_app_log_records_carry_the_request_id_and_mask_cpr_numbers(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings)

    @app.get("/test/log")
    def write_logs() -> dict[str, str]:
        logger = logging.getLogger("kai.test")
        logger.warning("Borger %s ringede om sagen", CPR)
        try:
            raise ValueError(f"ukendt cpr {CPR.replace('-', '')}")
        except ValueError:
            logger.exception("Opslag fejlede", extra={"job_id": "job-42", "text": "dokumenttekst"})
        return {"status": "ok"}

    with TestClient(app) as client:
        capsys.readouterr()
        assert client.get("/test/log", headers={"X-Request-ID": "req-cpr-1"}).status_code == 200
        output = capsys.readouterr().err
    lines = [line for line in _json_lines(output) if line["logger"] == "kai.test"]
    assert [line["request_id"] for line in lines] == ["req-cpr-1", "req-cpr-1"]
    assert lines[0]["message"] == "Borger [CPR] ringede om sagen"
    assert lines[1]["job_id"] == "job-42"
    assert "ValueError: ukendt cpr [CPR]" in str(lines[1]["exception"])
    assert "text" not in lines[1]  # only known extra fields reach the log
    assert "1234" not in output and "dokumenttekst" not in output


def test_text_log_format(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    with TestClient(create_app(settings.model_copy(update={"log_format": "text"}))) as client:
        capsys.readouterr()
        client.get("/api/minutes/meetings/abc123", headers={"X-Request-ID": "req-text-1"})
        output = capsys.readouterr().err
    assert f"INFO kai.access [req-text-1]: GET {MEETING_ROUTE} 401" in output


# --- /readyz ---------------------------------------------------------------------------------------------


def test_readyz_names_missing_models_and_is_ready_once_they_are_prepared(
    db: Database, settings: Settings, client: TestClient
) -> None:
    fresh = client.get("/readyz")
    assert fresh.status_code == 503
    assert fresh.json()["failed"] == ["models"]
    assert "postsorteringsmodel" in fresh.json()["checks"]["models"]

    chat_service.ensure_shipped_collections(db, settings)
    mail_service.train_default_model(db, settings)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "disabled", "models": "ok"},
    }

    # e.g. the shared storage is not mounted on this machine
    shutil.rmtree(chat_store.index_dir(settings.resolved_storage_dir, "it-help"))
    broken = client.get("/readyz")
    assert broken.status_code == 503
    assert broken.json()["failed"] == ["models"]
    assert "it-help" in broken.json()["checks"]["models"]
    assert "barnets-lov" not in broken.json()["checks"]["models"]


def test_readyz_fails_when_the_database_does_not_answer(settings: Settings, client: TestClient) -> None:
    assert client.get("/readyz").json()["checks"]["database"] == "ok"
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        shutil.rmtree(settings.data_dir)  # the database file is gone ...
    else:
        drop_database(url.set(database="postgres"), str(url.database))  # gone (the PostgreSQL pass) ...
    client.app.state.db.engine.dispose()  # ... and so are the open connections (as after a restart)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert "database" in body["failed"]
    assert body["checks"]["database"].startswith("Databasen svarer ikke")
    assert client.get("/healthz").status_code == 200  # liveness does not depend on the database


def test_readyz_fails_when_redis_does_not_answer(settings: Settings) -> None:
    closed = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    with TestClient(create_app(closed)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "redis" in response.json()["failed"]
    assert response.json()["checks"]["redis"].startswith("Redis svarer ikke")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[str]:
    """A private redis-server on a free port (Debian's redis-server package)."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server", "not installed")
    port = free_port()
    process = subprocess.Popen(
        [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    connection = Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            connection.ping()
            break
        except RedisError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield url
    connection.close()
    process.terminate()
    process.wait(timeout=10)


def test_readyz_and_queue_length_with_a_live_redis(settings: Settings, redis_server: str) -> None:
    queued = settings.model_copy(update={"redis_url": redis_server, "job_queue": "kai-ops-test"})
    with TestClient(create_app(queued)) as client:
        assert client.get("/readyz").json()["checks"]["redis"] == "ok"
        # no worker runs: the job waits in the database and on the RQ queue
        client.app.state.runner.submit(minutes_job.JOB_KIND, {"meeting_id": "none"})
        assert _sample(client, "kai_job_queue_length", backend="redis") == 1
        assert _sample(client, "kai_job_queue_length", backend="database") == 1


# --- /metrics --------------------------------------------------------------------------------------------


def test_operations_endpoints_are_not_in_the_api_docs(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/readyz" not in paths and "/metrics" not in paths


def test_http_metrics_are_labelled_by_route_template(client: TestClient) -> None:
    labels = {"method": "GET", "route": MEETING_ROUTE, "status": "401"}
    before = _sample(client, "kai_http_requests_total", **labels) or 0.0
    client.get("/api/minutes/meetings/abc123")
    client.get("/api/minutes/meetings/def456")
    assert _sample(client, "kai_http_requests_total", **labels) == before + 2
    assert (_sample(client, "kai_http_request_duration_seconds_count", **labels) or 0) >= 2
    text = client.get("/metrics").text
    assert "abc123" not in text and "def456" not in text


def test_job_and_routing_metrics_come_from_the_database(db: Database, client: TestClient) -> None:
    now = utcnow()
    with db.session() as session:
        session.add_all(
            [
                Job(kind="ops-test", status=JobStatus.QUEUED),
                Job(kind="ops-test", status=JobStatus.QUEUED),
                Job(kind="ops-test", status=JobStatus.RUNNING, started_at=now),
                Job(
                    kind="ops-test",
                    status=JobStatus.DONE,
                    started_at=now - timedelta(seconds=90),
                    finished_at=now,
                ),
                Job(
                    kind="ops-test",
                    status=JobStatus.DONE,
                    started_at=now - timedelta(seconds=30),
                    finished_at=now,
                ),
                Job(
                    kind="ops-test",
                    status=JobStatus.FAILED,
                    started_at=now - timedelta(seconds=5),
                    finished_at=now,
                ),
                RoutedMail(queue="byggesag", status=MailStatus.AUTO, auto=True),
                RoutedMail(queue="byggesag", status=MailStatus.AUTO, auto=True),
                RoutedMail(queue="byggesag", status=MailStatus.CORRECTED, final_queue="skat"),
                RoutedMail(queue=None, status=MailStatus.REVIEW),
            ]
        )
    assert _sample(client, "kai_database_up") == 1
    assert _sample(client, "kai_jobs", kind="ops-test", status="queued") == 2
    assert _sample(client, "kai_jobs", kind="ops-test", status="running") == 1
    assert _sample(client, "kai_job_queue_length", backend="database") == 2
    assert _sample(client, "kai_job_duration_seconds_count", kind="ops-test", status="done") == 2
    assert _sample(client, "kai_job_duration_seconds_sum", kind="ops-test", status="done") == pytest.approx(
        120, abs=0.01
    )
    assert _sample(client, "kai_job_duration_seconds_count", kind="ops-test", status="failed") == 1
    assert _sample(client, "kai_job_duration_seconds_count", kind="ops-test", status="running") is None
    assert _sample(client, "kai_mail_routed", queue="byggesag", decision="auto") == 2
    assert _sample(client, "kai_mail_routed", queue="byggesag", decision="corrected") == 1
    assert _sample(client, "kai_mail_routed", queue="none", decision="review") == 1


def test_multiprocess_mode_adds_up_every_worker_process(
    db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two API worker processes count a request each; a scrape answered by either sees both."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    count_one = (
        "from services.common.observability.http import HTTP_REQUESTS; "
        "HTTP_REQUESTS.labels('GET', '/api/ops-test', '200').inc()"
    )
    env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(folder)}
    workers = [subprocess.Popen([sys.executable, "-c", count_one], cwd=REPO, env=env) for _ in range(2)]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    body, _ = metrics_exposition(db, settings)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }
    key = (
        "kai_http_requests_total",
        (("method", "GET"), ("route", "/api/ops-test"), ("status", "200")),
    )
    assert samples[key] == 2
    assert samples[("kai_database_up", ())] == 1  # the database figures are there in this mode too
