"""Scale benchmark (``python -m evaluation.bench.scale_bench``): transcription jobs per hour with 1 and 2
``kai worker`` processes, and chatbot requests per second with 1 and 2 ``kai serve`` API workers under ``wrk``
on loopback.

1. Jobs: K 5-minute Danish recordings (the minutes bench's looped clips) are uploaded through the real API
   (``TestClient``, ``KAI_REDIS_URL`` set, so the API only enqueues), then N ``kai worker --burst`` processes
   run them: jobs per hour from the first job's claim to the last one's finish (and, beside it, from the
   workers' start). Each configuration is N workers × T Whisper threads (``KAI_CPU_THREADS``); every job must
   end ``done`` after one attempt with exactly one ledger row.
2. Chatbot: ``kai serve --workers N`` on loopback, a caseworker's API token, ``wrk`` posting the dev and
   held-out questions in turn to ``POST /api/chat/ask`` for a fixed time after a warm-up, at a few connection
   counts. Every response must be 2xx and no socket may fail.

Both parts run on a PostgreSQL database created for the run (dropped after) and a ``redis-server`` of their
own; the costs each job and each request put on them are measured from ``pg_stat_database`` and Redis'
``INFO commandstats``, so the scaling to N machines can be argued from numbers. Results: a printed table and
``evaluation/results/scale_bench.json`` (``scale_bench_jobs.json`` / ``scale_bench_chat.json`` for one part).

    python -m evaluation.bench.scale_bench [--part jobs|chat] [--jobs 4] [--duration 30] [--connections 4,16]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select

from evaluation.bench._common import (
    CHATBOT_DEV_SET,
    CHATBOT_HELDOUT_SET,
    CLIP_DIR,
    REPO_ROOT,
    RESULTS_DIR,
    free_port,
    load_clips,
    wait_until_serving,
    write_looped_speech,
)
from services.chatbot.evaluation import read_questions
from services.common.config import Settings
from services.common.stamps import machine_info

KAI = Path(sys.executable).with_name("kai")
MODEL_CACHE_DIR = REPO_ROOT / "var" / "models"  # the repo's prepared models (Whisper, embedding cache)
POSTGRES_URL = os.environ.get(
    "KAI_BENCH_POSTGRES_URL", "postgresql+psycopg://kai:kai@127.0.0.1:5432/kai_test"
)
BENCH_DATABASE = "kai_scale_bench"
RECORDING_SECONDS = 300.0
WRK_THREADS = 1  # one load-generator thread keeps most of the 2 cores for the server under test
STATS_FLUSH_SECONDS = 11.0  # PostgreSQL flushes an idle backend's statistics within 10 s
JOB_TIMEOUT_SECONDS = 3600.0
MAX_UPLOAD_RETRIES = 3
# A run starts once the machine was at most this busy for 2 s (or --quiet-wait passed): the cores are shared.
QUIET_BUSY_SHARE = 0.15


# ------------------------------------------------------------------------------------- processes


@contextmanager
def process_group(
    command: list[str], env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` in its own process group; the whole group is stopped on leaving, error or not."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group (uvicorn's master and workers, an RQ worker and its work-horse), then SIGKILL."""
    for sig, grace in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def kai_env(settings: Settings, **extra: str) -> dict[str, str]:
    """What a ``kai`` process on another machine would get: the same database, storage, models and queue."""
    return os.environ | {
        "KAI_DATA_DIR": str(settings.data_dir),
        "KAI_DATABASE_URL": settings.resolved_database_url,
        "KAI_MODEL_CACHE_DIR": str(settings.model_cache_dir),
        "KAI_REDIS_URL": str(settings.redis_url),
        "KAI_JOB_QUEUE": settings.job_queue,
        **extra,
    }


# ------------------------------------------------------------------------------ shared servers


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def bench_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this run (role ``kai`` may create databases); dropped afterwards."""
    with psycopg.connect(libpq_url(POSTGRES_URL), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{BENCH_DATABASE}"
    finally:
        with psycopg.connect(libpq_url(POSTGRES_URL), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


@contextmanager
def private_redis(log_dir: Path) -> Iterator[str]:
    """A Redis server of the bench's own on loopback (as .ci/services-setup.sh runs it: nothing persisted), so
    its command counters see only kai's traffic, not that of tests running beside the bench."""
    port = free_port()
    command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    with process_group(command, dict(os.environ), log_dir / "redis.log") as server:
        url = f"redis://127.0.0.1:{port}/0"
        wait_for_redis(url, server, log_dir / "redis.log")
        yield url


def wait_for_redis(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while server.poll() is None and time.monotonic() < deadline:
        try:
            with Redis.from_url(url, socket_connect_timeout=1) as probe:
                probe.ping()
            return
        except RedisError:
            time.sleep(0.1)
    raise RuntimeError(f"redis-server did not start; see {log_path}")


@dataclass
class Servers:
    """The shared servers every kai process of the run talks to, as several machines would."""

    database_url: str
    redis_url: str
    redis: Redis


@dataclass
class ServerCounters:
    """Cumulative counters of the bench database and the Redis server at one moment."""

    db_commits: int
    db_active_ms: float  # time backends spent executing statements in the bench database
    db_rows_written: int  # inserted + updated + deleted
    db_rows_read: int  # returned + fetched
    redis_calls: int
    redis_usec: int  # time Redis spent executing commands

    def minus(self, earlier: ServerCounters) -> ServerCounters:
        return ServerCounters(**{k: v - getattr(earlier, k) for k, v in asdict(self).items()})


def read_counters(servers: Servers) -> ServerCounters:
    """Read from the maintenance database, so the reading itself does not count against the bench database."""
    with psycopg.connect(libpq_url(POSTGRES_URL), autocommit=True) as admin:
        row = admin.execute(
            "SELECT xact_commit, active_time, tup_inserted + tup_updated + tup_deleted, "
            "tup_returned + tup_fetched FROM pg_stat_database WHERE datname = %s",
            (BENCH_DATABASE,),
        ).fetchone()
    assert row is not None
    commands = servers.redis.info("commandstats").values()
    return ServerCounters(
        db_commits=int(row[0]),
        db_active_ms=float(row[1]),
        db_rows_written=int(row[2]),
        db_rows_read=int(row[3]),
        redis_calls=sum(int(c["calls"]) for c in commands),
        redis_usec=sum(int(c["usec"]) for c in commands),
    )


def per_unit(delta: ServerCounters, units: float) -> dict[str, float]:
    """Costs per job or per request."""
    return {
        "db_commits": round(delta.db_commits / units, 2),
        "db_active_ms": round(delta.db_active_ms / units, 3),
        "db_rows_written": round(delta.db_rows_written / units, 2),
        "db_rows_read": round(delta.db_rows_read / units, 1),
        "redis_calls": round(delta.redis_calls / units, 2),
        "redis_ms": round(delta.redis_usec / 1000 / units, 3),
    }


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


@dataclass
class CpuSample:
    """CPU seconds: the machine's busy and total (all cores, /proc/stat), this process's reaped children."""

    busy: float
    total: float
    children: float

    def minus(self, earlier: CpuSample) -> CpuSample:
        return CpuSample(
            self.busy - earlier.busy, self.total - earlier.total, self.children - earlier.children
        )

    @property
    def busy_share(self) -> float:
        return self.busy / self.total if self.total else 0.0


def cpu_sample() -> CpuSample:
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    hz = os.sysconf("SC_CLK_TCK")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSample((sum(ticks) - idle) / hz, sum(ticks) / hz, children.ru_utime + children.ru_stime)


def wait_for_quiet_machine(max_wait: float, busy_below: float = QUIET_BUSY_SHARE) -> float:
    """Wait until the other processes on this (shared) machine leave the cores nearly idle, so a run does not
    measure someone else's work; gives up after ``max_wait``. Returns the busy share of the last 2 s."""
    deadline = time.monotonic() + max_wait
    while True:
        before = cpu_sample()
        time.sleep(2.0)
        share = cpu_sample().minus(before).busy_share
        if share < busy_below or time.monotonic() >= deadline:
            return round(share, 3)


def group_cpu_seconds(group: int) -> float:
    """CPU seconds used so far by the live processes of a process group (uvicorn's master and workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------ part 1: jobs


@dataclass
class WorkerConfig:
    workers: int
    threads: int  # KAI_CPU_THREADS (and OMP_NUM_THREADS, for torch's speaker encoder) per worker

    @property
    def name(self) -> str:
        return f"{self.workers} × {self.threads}"  # workers × threads


@dataclass
class JobsResult:
    config: str
    workers: int
    threads: int
    jobs: int
    audio_seconds_each: float
    wall_seconds: float  # workers started → last worker exited (start-up included)
    startup_seconds: float  # workers started → first job claimed (imports, Redis)
    busy_seconds: float  # first job claimed → last job finished
    job_seconds: list[float]  # each job's claim → finish, in its work-horse (model load included)
    jobs_per_hour: float  # on busy_seconds: long-running workers pay their start-up once, not per batch
    jobs_per_hour_with_startup: float
    audio_hours_per_hour: float
    all_done_once: bool  # every job done, one attempt, exactly one ledger row
    upload_server_errors: int  # uploads answered 5xx and sent again (not part of the timed run)
    costs_per_job: dict[str, float]
    worker_cpu_seconds: float  # the workers and their work-horses
    busy_share_at_start: float  # of all cores, in the 2 s before the run (others' work; see --quiet-wait)
    machine_busy_share: float  # of all cores during the run, whoever used them
    other_cpu_seconds: float  # busy CPU not used by the workers: PostgreSQL, Redis, anything else running
    load_before: float
    load_after: float


def parse_configs(text: str) -> list[WorkerConfig]:
    """``"1x2,2x1"`` → workers × threads."""
    configs = []
    for item in text.split(","):
        workers, threads = item.lower().split("x")
        configs.append(WorkerConfig(int(workers), int(threads)))
    return configs


def upload_recordings(settings: Settings, recording: Path, count: int) -> tuple[list[str], int]:
    """Upload ``count`` copies through the API as a caseworker would (the API enqueues and runs nothing);
    the meeting ids and how many uploads failed with a server error and were sent again."""
    from fastapi.testclient import TestClient

    from services.app import create_app
    from services.common import auth
    from services.common.db import open_database

    db = open_database(settings.resolved_database_url)
    user = f"referent-{uuid.uuid4().hex[:6]}"
    auth.add_user(db, user, auth.Role.MEDARBEJDER)
    _, secret = auth.create_token(db, user, label="scale bench")
    db.dispose()
    meeting_ids, server_errors = [], 0
    headers = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(settings), headers=headers, raise_server_exceptions=False) as api:
        while len(meeting_ids) < count and server_errors <= MAX_UPLOAD_RETRIES:
            with recording.open("rb") as audio:
                response = api.post(
                    "/api/minutes/meetings",
                    files={"file": (recording.name, audio, "audio/wav")},
                    data={"title": f"Skalatest {len(meeting_ids) + 1}", "language": "da"},
                )
            if response.status_code >= 500:
                server_errors += 1  # counted and reported; this part measures the workers, not uploads
                continue
            response.raise_for_status()
            meeting_ids.append(response.json()["id"])
    if len(meeting_ids) < count:
        raise RuntimeError(f"{server_errors} uploads failed with a server error")
    return meeting_ids, server_errors


def run_workers(settings: Settings, config: WorkerConfig, log_dir: Path) -> float:
    """Start the burst workers together; seconds until the last one exits (each must exit 0)."""
    threads = str(config.threads)
    env = kai_env(settings, KAI_CPU_THREADS=threads, OMP_NUM_THREADS=threads, KAI_LOG_FORMAT="text")
    started = time.perf_counter()
    with ExitStack() as stack:
        workers = [
            stack.enter_context(
                process_group(
                    [str(KAI), "worker", "--burst", "--name", f"scale-{uuid.uuid4().hex[:6]}-{n}"],
                    env,
                    log_dir / f"worker-{config.workers}x{config.threads}-{n}.log",
                )
            )
            for n in range(config.workers)
        ]
        codes = [worker.wait(timeout=JOB_TIMEOUT_SECONDS) for worker in workers]
        wall = time.perf_counter() - started
    if any(codes):
        raise RuntimeError(f"a worker exited with {codes}; see the logs in {log_dir}")
    return wall


def job_outcomes(
    settings: Settings, meeting_ids: list[str]
) -> tuple[list[tuple[dt.datetime, dt.datetime]], bool]:
    """Each job's (claimed, finished) and whether all ended done after one attempt with one ledger row."""
    from services.common.db import Database
    from services.common.jobs import Job, JobStatus
    from services.common.ledger import Task, UsageEvent
    from services.minutes import store

    db = Database(settings.resolved_database_url)
    spans, all_ok = [], True
    try:
        with db.session() as session:
            for meeting_id in meeting_ids:
                job = session.get(Job, store.get_meeting(session, meeting_id).job_id)
                ledger_rows = session.scalar(
                    select(func.count())
                    .select_from(UsageEvent)
                    .where(UsageEvent.reference == meeting_id, UsageEvent.task == Task.TRANSCRIBE)
                )
                ok = (
                    job is not None
                    and job.status == JobStatus.DONE
                    and job.attempts == 1
                    and ledger_rows == 1
                )
                all_ok = all_ok and ok
                if job is not None and job.started_at and job.finished_at:
                    spans.append((job.started_at, job.finished_at))
    finally:
        db.dispose()
    return spans, all_ok and len(spans) == len(meeting_ids)


def bench_jobs_config(
    settings: Settings,
    config: WorkerConfig,
    recording: Path,
    audio_seconds: float,
    count: int,
    servers: Servers,
    quiet_wait: float,
) -> JobsResult:
    print(f"jobs: {config.name}: uploading {count} × {audio_seconds / 60:g} min …", flush=True)
    meeting_ids, upload_server_errors = upload_recordings(settings, recording, count)
    time.sleep(STATS_FLUSH_SECONDS)  # let the upload's statistics reach pg_stat_database first
    busy_at_start = wait_for_quiet_machine(quiet_wait)
    before, load_before, cpu_before = read_counters(servers), load_average(), cpu_sample()
    launched = dt.datetime.now(dt.UTC)
    wall = run_workers(settings, config, settings.data_dir)
    time.sleep(2.0)  # a work-horse's backend reports its statistics as it disconnects
    cpu = cpu_sample().minus(cpu_before)
    delta = read_counters(servers).minus(before)
    spans, all_ok = job_outcomes(settings, meeting_ids)
    first_claim, last_finish = min(s for s, _ in spans), max(f for _, f in spans)
    busy = (last_finish - first_claim).total_seconds()
    result = JobsResult(
        config=config.name,
        workers=config.workers,
        threads=config.threads,
        jobs=count,
        audio_seconds_each=audio_seconds,
        wall_seconds=round(wall, 1),
        startup_seconds=round((first_claim - launched).total_seconds(), 1),
        busy_seconds=round(busy, 1),
        job_seconds=[round((f - s).total_seconds(), 1) for s, f in spans],
        jobs_per_hour=round(count * 3600 / busy, 1),
        jobs_per_hour_with_startup=round(count * 3600 / wall, 1),
        audio_hours_per_hour=round(count * audio_seconds / busy, 2),
        all_done_once=all_ok,
        upload_server_errors=upload_server_errors,
        costs_per_job=per_unit(delta, count),
        worker_cpu_seconds=round(cpu.children, 1),
        busy_share_at_start=busy_at_start,
        machine_busy_share=round(cpu.busy_share, 3),
        other_cpu_seconds=round(cpu.busy - cpu.children, 1),
        load_before=load_before,
        load_after=load_average(),
    )
    print(
        f"  {result.jobs_per_hour} jobs/h, {result.audio_hours_per_hour} audio h/h, ok={all_ok}", flush=True
    )
    return result


def bench_jobs(args: argparse.Namespace, servers: Servers, scratch: Path) -> dict[str, Any]:
    recording = scratch / f"speech_{RECORDING_SECONDS / 60:g}min.wav"
    audio_seconds = write_looped_speech(recording, load_clips(CLIP_DIR), RECORDING_SECONDS, seed=args.seed)
    results = []
    for config in parse_configs(args.job_configs):
        settings = Settings(
            data_dir=scratch / f"jobs-{config.workers}x{config.threads}",
            database_url=servers.database_url,
            model_cache_dir=MODEL_CACHE_DIR,
            redis_url=servers.redis_url,
            job_queue=f"kai-scale-bench-{uuid.uuid4().hex[:8]}",
            log_level="WARNING",  # this process's own request log; the kai processes log as in production
        )
        settings.prepare_dirs()
        results.append(
            bench_jobs_config(settings, config, recording, audio_seconds, args.jobs, servers, args.quiet_wait)
        )
    baseline = results[0]
    return {
        "recording": {"seconds": audio_seconds, "source": str(CLIP_DIR), "seed": args.seed},
        "jobs_per_config": args.jobs,
        "submitted_through": "POST /api/minutes/meetings (TestClient; KAI_REDIS_URL set, the API enqueues)",
        "diarization": True,
        "configs": [asdict(r) for r in results],
        "ratios_to_first": {r.config: round(r.jobs_per_hour / baseline.jobs_per_hour, 3) for r in results},
    }


# ------------------------------------------------------------------------------------ part 2: chat


@dataclass
class LoadResult:
    api_workers: int
    connections: int
    seconds: float
    requests: int
    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    non_2xx_statuses: list[int]
    socket_errors: int  # connect, read, write and timeout errors together
    socket_error_kinds: dict[str, int]
    costs_per_request: dict[str, float]
    server_cpu_ms_per_request: float  # CPU time of the kai serve processes
    wrk_cpu_share: float  # of all cores, used by the load generator
    busy_share_at_start: float
    machine_busy_share: float
    other_cpu_seconds: float  # busy CPU used by neither kai serve nor wrk: PostgreSQL, anything else
    load_before: float
    load_after: float


WRK_SCRIPT = """-- POST /api/chat/ask with a caseworker's token, the questions in turn (from scale_bench.py)
local bodies = {%(bodies)s}
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(token)s"}
local threads = {}
function setup(thread) table.insert(threads, thread) end
local counter = 0
bad_statuses = ""
function request()
  counter = counter + 1
  return wrk.format("POST", "/api/chat/ask", headers, bodies[(counter %% #bodies) + 1])
end
function response(status, headers, body)
  if status < 200 or status > 299 then bad_statuses = bad_statuses .. " " .. status end
end
function done(summary, latency, requests)
  local bad = ""
  for _, thread in ipairs(threads) do bad = bad .. thread:get("bad_statuses") end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"non_2xx_statuses": "%%s", ' ..
    '"socket_errors": {"connect": %%d, "read": %%d, "write": %%d, "timeout": %%d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, bad, e.connect, e.read, e.write, e.timeout))
end
"""


def write_wrk_script(path: Path, questions: list[str], token: str) -> None:
    # json.dumps with ensure_ascii gives plain ASCII JSON, safe inside Lua's long brackets.
    bodies = ", ".join(f"[==[{json.dumps({'question': q})}]==]" for q in questions)
    path.write_text(WRK_SCRIPT % {"bodies": bodies, "token": token}, encoding="utf-8")


def run_wrk(base_url: str, script: Path, connections: int, seconds: float) -> dict[str, Any]:
    command = [
        "wrk",
        f"-t{min(WRK_THREADS, connections)}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
        base_url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 120)
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare_chat_data(settings: Settings) -> str:
    """The shipped collections built into the bench data dir (cached embeddings), and a caseworker's token."""
    from services.chatbot import service as chat_service
    from services.common import auth
    from services.common.db import open_database

    db = open_database(settings.resolved_database_url)
    try:
        chat_service.ensure_shipped_collections(db, settings)
        auth.add_user(db, "scale-bench", auth.Role.SAGSBEHANDLER)
        _, secret = auth.create_token(db, "scale-bench", label="scale bench")
    finally:
        db.dispose()
    return secret


def log_problems(log_path: Path, keep: int = 20) -> list[str]:
    """The last warnings and errors of a ``kai serve`` log (JSON lines): message, exception's last line."""
    problems = []
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # uvicorn's own start-up lines
        if record.get("level") in ("WARNING", "ERROR", "CRITICAL"):
            error = (record.get("exception") or "").strip().splitlines()[-1:]
            problems.append(" — ".join([record.get("message", "").strip(), *error])[:500])
    return problems[-keep:]


def bench_api_workers(
    settings: Settings, api_workers: int, script: Path, args: argparse.Namespace, servers: Servers
) -> tuple[list[LoadResult], list[str]]:
    """Load runs against ``kai serve --workers api_workers``, and the warnings and errors it logged."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [str(KAI), "serve", "--port", str(port), "--workers", str(api_workers)]
    results = []
    log_path = settings.data_dir / f"serve-{api_workers}.log"
    with process_group(command, kai_env(settings), log_path) as server:
        wait_until_serving(base_url, server)
        print(f"chat: {api_workers} API worker(s): warm-up {args.warmup:g} s …", flush=True)
        run_wrk(base_url, script, max(args.connections), args.warmup)  # loads the embedder in every worker
        for connections in args.connections:
            time.sleep(STATS_FLUSH_SECONDS)  # idle, so every backend has flushed its statistics
            busy_at_start = wait_for_quiet_machine(args.quiet_wait)
            before, load_before = read_counters(servers), load_average()
            cpu_before, server_cpu_before = cpu_sample(), group_cpu_seconds(server.pid)
            figures = run_wrk(base_url, script, connections, args.duration)
            cpu = cpu_sample().minus(cpu_before)
            server_cpu = group_cpu_seconds(server.pid) - server_cpu_before
            load_after = load_average()
            time.sleep(STATS_FLUSH_SECONDS)
            delta = read_counters(servers).minus(before)
            seconds = figures["duration_us"] / 1e6
            bad_statuses = [int(status) for status in figures["non_2xx_statuses"].split()]
            result = LoadResult(
                api_workers=api_workers,
                connections=connections,
                seconds=round(seconds, 2),
                requests=figures["requests"],
                requests_per_second=round(figures["requests"] / seconds, 2),
                p50_ms=round(figures["p50_us"] / 1000, 1),
                p90_ms=round(figures["p90_us"] / 1000, 1),
                p99_ms=round(figures["p99_us"] / 1000, 1),
                max_ms=round(figures["max_us"] / 1000, 1),
                non_2xx=len(bad_statuses),
                non_2xx_statuses=bad_statuses,
                socket_errors=sum(figures["socket_errors"].values()),
                socket_error_kinds=figures["socket_errors"],
                costs_per_request=per_unit(delta, max(figures["requests"], 1)),
                server_cpu_ms_per_request=round(server_cpu * 1000 / max(figures["requests"], 1), 1),
                wrk_cpu_share=round(cpu.children / cpu.total, 3),
                busy_share_at_start=busy_at_start,
                machine_busy_share=round(cpu.busy_share, 3),
                other_cpu_seconds=round(cpu.busy - server_cpu - cpu.children, 1),
                load_before=load_before,
                load_after=load_after,
            )
            print(
                f"  {connections} connections: {result.requests_per_second} req/s, p50 {result.p50_ms} ms, "
                f"p99 {result.p99_ms} ms, non-2xx {result.non_2xx}, socket errors {result.socket_errors}",
                flush=True,
            )
            results.append(result)
    return results, log_problems(log_path)


def bench_chat(args: argparse.Namespace, servers: Servers, scratch: Path) -> dict[str, Any]:
    settings = Settings(
        data_dir=scratch / "chat",
        database_url=servers.database_url,
        model_cache_dir=MODEL_CACHE_DIR,
        redis_url=servers.redis_url,  # `kai serve --workers 2` needs it; set for 1 worker too, alike
        job_queue=f"kai-scale-bench-{uuid.uuid4().hex[:8]}",
        log_level="WARNING",
    )
    settings.prepare_dirs()
    question_sets = (CHATBOT_DEV_SET, CHATBOT_HELDOUT_SET)
    questions = [q["question"] for path in question_sets for q in read_questions(path)]
    script = scratch / "ask.lua"
    write_wrk_script(script, questions, prepare_chat_data(settings))
    results, problems = [], {}
    for api_workers in (1, 2):
        runs, problems[str(api_workers)] = bench_api_workers(settings, api_workers, script, args, servers)
        results += runs
    one = {r.connections: r for r in results if r.api_workers == 1}
    return {
        "questions": len(questions),
        "question_sets": [str(CHATBOT_DEV_SET), str(CHATBOT_HELDOUT_SET)],
        "load_generator": f"wrk {WRK_THREADS} thread, --timeout 60s, on the same 2 cores as the server",
        "warmup_seconds": args.warmup,
        "duration_seconds": args.duration,
        "runs": [asdict(r) for r in results],
        "ratios_2_to_1": {
            str(r.connections): round(r.requests_per_second / one[r.connections].requests_per_second, 3)
            for r in results
            if r.api_workers == 2
        },
        "error_free": all(r.non_2xx == 0 and r.socket_errors == 0 for r in results),
        "server_log_problems": problems,  # by API workers: warnings and errors kai serve logged
    }


# ---------------------------------------------------------------------------------------- report


def server_versions(servers: Servers) -> dict[str, str]:
    with psycopg.connect(libpq_url(POSTGRES_URL), autocommit=True) as admin:
        postgres = admin.execute("SHOW server_version").fetchone()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "postgresql": str(postgres[0]) if postgres else "?",
        "redis": str(servers.redis.info("server")["redis_version"]),
        "wrk": (wrk.stdout or wrk.stderr).split("[")[0].strip(),
    }


def new_table(title: str, columns: list[str]) -> Any:
    from rich.table import Table

    table = Table(title=title)
    for number, column in enumerate(columns):
        table.add_column(column, justify="left" if number == 0 else "right")
    return table


def jobs_table(jobs: dict[str, Any]) -> Any:
    title = f"Transcription jobs ({jobs['jobs_per_config']} × {jobs['recording']['seconds']:g} s of speech)"
    columns = ["workers × threads", "jobs/h", "jobs/h incl. start", "audio h/h", "ratio", "job s", "ok"]
    table = new_table(title, [*columns, "DB ms/job", "commits/job", "Redis ms/job", "others' CPU s"])
    for row in jobs["configs"]:
        table.add_row(
            row["config"],
            f"{row['jobs_per_hour']:.1f}",
            f"{row['jobs_per_hour_with_startup']:.1f}",
            f"{row['audio_hours_per_hour']:.2f}",
            f"{jobs['ratios_to_first'][row['config']]:.2f}",
            ", ".join(f"{s:.0f}" for s in row["job_seconds"]),
            "yes" if row["all_done_once"] else "NO",
            f"{row['costs_per_job']['db_active_ms']:.1f}",
            f"{row['costs_per_job']['db_commits']:.0f}",
            f"{row['costs_per_job']['redis_ms']:.2f}",
            f"{row['other_cpu_seconds']:.0f}",
        )
    return table


def chat_table(chat: dict[str, Any]) -> Any:
    title = f"POST /api/chat/ask under wrk ({chat['duration_seconds']:g} s per run)"
    columns = ["API workers", "conns", "req/s", "ratio", "p50 ms", "p99 ms", "non-2xx", "socket err"]
    table = new_table(title, [*columns, "server CPU ms/req", "DB ms/req", "commits/req", "others' CPU s"])
    for row in chat["runs"]:
        ratio = chat["ratios_2_to_1"].get(str(row["connections"])) if row["api_workers"] == 2 else None
        table.add_row(
            str(row["api_workers"]),
            str(row["connections"]),
            f"{row['requests_per_second']:.1f}",
            "" if ratio is None else f"{ratio:.2f}",
            f"{row['p50_ms']:.0f}",
            f"{row['p99_ms']:.0f}",
            str(row["non_2xx"]),
            str(row["socket_errors"]),
            f"{row['server_cpu_ms_per_request']:.0f}",
            f"{row['costs_per_request']['db_active_ms']:.2f}",
            f"{row['costs_per_request']['db_commits']:.1f}",
            f"{row['other_cpu_seconds']:.1f}",
        )
    return table


def print_report(report: dict[str, Any]) -> None:
    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else 160)
    if jobs := report.get("jobs"):
        console.print(jobs_table(jobs))
    if chat := report.get("chat"):
        console.print(chat_table(chat))
    console.print(f"Results written to {report['output']}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.bench.scale_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--part", choices=("jobs", "chat"), default=None, help="run only one part")
    parser.add_argument(
        "--jobs", type=int, default=4, help="5-minute recordings per configuration (default 4)"
    )
    parser.add_argument(
        "--job-configs", default="1x2,2x1,2x2", help="workers×threads to measure, the first is the baseline"
    )
    parser.add_argument(
        "--duration", type=float, default=30.0, help="seconds of load per chat run (default 30)"
    )
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="seconds of unmeasured load first (default 5)"
    )
    parser.add_argument(
        "--connections", type=lambda s: [int(c) for c in s.split(",")], default=[4, 16], help="e.g. 4,16"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=300.0,
        help="seconds to wait at most, before each run, for other processes to leave the cores idle",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the recording's pauses and noise")
    parser.add_argument("--output", type=Path, default=None, help="JSON path (default: evaluation/results/)")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.duration <= 0:
        parser.error("--jobs must be ≥ 1 and --duration > 0")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    output = args.output or RESULTS_DIR / (
        f"scale_bench_{args.part}.json" if args.part else "scale_bench.json"
    )
    command = " ".join(["python -m evaluation.bench.scale_bench", *(sys.argv[1:] if argv is None else argv)])
    started_at = dt.datetime.now(dt.UTC)
    report: dict[str, Any] = {
        "benchmark": "scale_bench",
        "command": command,
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": machine_info(),
    }
    with (
        tempfile.TemporaryDirectory(prefix="kai-scale-") as tmp,
        bench_database() as database_url,
        private_redis(Path(tmp)) as redis_url,
        Redis.from_url(redis_url) as redis,
    ):
        servers = Servers(database_url, redis_url, redis)
        report["servers"] = server_versions(servers)
        if args.part in (None, "jobs"):
            report["jobs"] = bench_jobs(args, servers, Path(tmp))
        if args.part in (None, "chat"):
            report["chat"] = bench_chat(args, servers, Path(tmp))
    report["wall_seconds_total"] = round((dt.datetime.now(dt.UTC) - started_at).total_seconds(), 1)
    report["output"] = str(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_report(report)


if __name__ == "__main__":
    main()
