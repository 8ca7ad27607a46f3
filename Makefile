# The two set-up commands of the README. Each installs what it needs, then runs.
#   make sandbox  - the bot, a Telegram emulator and a web page on 127.0.0.1; no token needed
#   make test     - the whole test suite (what CI runs, through .ci/run)
VENV := .venv

.PHONY: sandbox test

sandbox:
	scripts/os-packages font
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -q -e .
	$(VENV)/bin/league-bot sandbox

test:
	scripts/os-packages test
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -q -e '.[test]'
	$(VENV)/bin/python -m pytest -q
