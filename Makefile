# The two set-up commands of the README. Each installs what it needs, then runs.
#   make sandbox  - the bot, a Telegram emulator and a web page on 127.0.0.1; no token needed
#   make test     - the checks and the whole test suite, on SQLite and then on PostgreSQL (a
#                   throw-away server the tests start: tests/pg_server.py); what CI runs, through .ci/run
VENV := .venv
# e.g. make sandbox SANDBOX_ARGS="--port 9000 --empty"
SANDBOX_ARGS ?=

.PHONY: sandbox test check

# The font is optional for the sandbox (without it, charts say how to install one): "-" goes on.
sandbox:
	-scripts/os-packages font
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -q -e .
	$(VENV)/bin/league-bot sandbox $(SANDBOX_ARGS)

test:
	scripts/os-packages test
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -q -e '.[test]'
	$(MAKE) check
	$(VENV)/bin/python -m pytest -q
	$(VENV)/bin/python -m pytest -q --db postgresql

# Lint and format, the layer contracts (ARCHITECTURE.md) and the types: a violation fails CI.
check:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
