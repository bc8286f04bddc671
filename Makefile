# ehc-triage: `make demo` runs the service on its bundled sample mailbox; `make test` runs the tests.
# Both work on a fresh Debian machine with Python 3.11 (as root, so apt-get can install test servers).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
MODEL  := classifier/model/CURRENT
CORPUS := classifier/data/labels.jsonl $(wildcard classifier/data/emails/*/*.eml) $(wildcard classifier/*.py) \
          $(wildcard classifier/data/real/labels.jsonl) $(wildcard classifier/data/real/texts/*/*)

.PHONY: install dev model demo test test-fast test-deps bench clean screenshots

install: $(BIN)/ehc-triage

$(BIN)/ehc-triage: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

dev: $(VENV)/.dev-installed

# One pip run for the project and its dev extras (a fresh clone's `make test` no longer installs the
# project twice); it also stands for `install`, whose script it creates.
$(VENV)/.dev-installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/ehc-triage $@

model: $(MODEL)

$(MODEL): $(BIN)/ehc-triage $(CORPUS)
	$(BIN)/ehc-triage train

# Reads the sample mailbox, then serves the web app on it (Ctrl-C to stop); prints the address and a login.
demo: install model
	$(BIN)/ehc-triage demo --serve

# System packages the tests need: a real IMAP server (Dovecot), a real browser (Debian's chromium,
# driven by the playwright package from the dev extras; Playwright never downloads a browser of its own)
# and PostgreSQL (the tests start a private server of their own; Debian's cluster is not used).
test-deps: dev
	@{ test -x /usr/sbin/dovecot || command -v dovecot >/dev/null 2>&1; } || { \
	  echo "installing Debian's dovecot-imapd for the IMAP tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; }
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql for the several-workers tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# pytest exits 5 when it collected no tests: that is a failure here, never a pass. Two workers (pytest-xdist),
# each test file kept on one worker so its fixtures (servers, browser) start once: much of the suite waits on
# servers and subprocesses, so two cores run it in about two thirds of the time.
TEST_WORKERS ?= 2
test: test-deps model
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

# Refresh the README's screenshots (docs/screenshots/) from the browser walk of a caseworker's day.
screenshots: test-deps model
	EHC_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q tests/test_browser_day.py

test-fast: dev model
	$(BIN)/pytest -m "not slow"

bench: dev model
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench_web
	$(BIN)/python -m tests.bench_intake
	$(BIN)/python -m tests.bench_push
	$(BIN)/python -m tests.bench_faults

clean:
	rm -rf $(VENV) var classifier/model .pytest_cache
