#!/usr/bin/env bash
# Installs and starts Debian's redis-server and PostgreSQL on loopback for the scale tests (tests/scale/) and the
# scale benchmark (which also needs wrk), and validates docker-compose.yml with Debian's docker-compose (no Docker
# engine runs here: validated, not run).
# Idempotent: installs only what is missing, starts only what is down, creates the test role and database once.
# The tests find them at KAI_TEST_REDIS_URL (default in tests/servers.py) and KAI_TEST_DATABASE_URL (Makefile).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "services-setup: need root or sudo" >&2; exit 1; }
    SUDO="sudo"
fi

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)  # the scale benchmark's load generator
if [ ${#missing[@]} -gt 0 ]; then
    LOG=$(mktemp)
    if ! { $SUDO apt-get update -qq \
        && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; \
        } >"$LOG" 2>&1; then
        cat "$LOG" >&2
        echo "services-setup: installing ${missing[*]} failed" >&2
        exit 1
    fi
    rm -f "$LOG"
fi

# Redis: loopback only, nothing persisted (the tests flush their own database number).
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    $SUDO redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no --daemonize yes >/dev/null
fi

# PostgreSQL: Debian's default cluster, listening on loopback; a password login for the tests.
cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
if [ -z "$cluster" ]; then
    $SUDO pg_createcluster 15 main >/dev/null
    cluster="15 main"
fi
# shellcheck disable=SC2086
if ! pg_lsclusters --no-header | awk 'NR==1 {print $4}' | grep -q online; then
    $SUDO pg_ctlcluster $cluster start
fi
as_postgres() { $SUDO -u postgres "$@"; }
if [ "$(id -u)" -eq 0 ]; then as_postgres() { su postgres -c "$(printf '%q ' "$@")"; }; fi
for _ in $(seq 30); do
    as_postgres psql -qAtc "SELECT 1" >/dev/null 2>&1 && break
    sleep 1
done
if [ "$(as_postgres psql -qAtc "SELECT 1 FROM pg_roles WHERE rolname = 'kai'")" != "1" ]; then
    as_postgres psql -qc "CREATE ROLE kai LOGIN PASSWORD 'kai' CREATEDB"
fi
# The tests drop their databases WITH (FORCE), which must also end an autovacuum worker busy in them.
as_postgres psql -qc "GRANT pg_signal_backend TO kai"
if [ "$(as_postgres psql -qAtc "SELECT 1 FROM pg_database WHERE datname = 'kai_test'")" != "1" ]; then
    as_postgres psql -qc "CREATE DATABASE kai_test OWNER kai"
fi

# docker-compose.yml must parse and resolve, with and without the CUDA worker (images are not pulled,
# nothing is started); the password is a placeholder, as a real one lives in the deployment's .env.
for profile in "" cuda; do
    POSTGRES_PASSWORD=validation-only docker-compose -f docker-compose.yml ${profile:+--profile "$profile"} \
        config --quiet
done
echo "services-setup: redis $(redis-server --version | awk '{print $3}'), postgresql ${cluster%% *}," \
    "docker-compose.yml valid"
