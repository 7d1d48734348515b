# Two commands for a newcomer:
#   make run    install everything, build the default model from the committed corpus if there is none, serve
#   make test   install everything (with test tools) and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-test model benchmark benchmark-load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

model: install
	@test -f models/CURRENT || $(BIN)/python -m training train

run: model
	$(BIN)/python -m service serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest

benchmark: model
	$(BIN)/python scripts/benchmark.py

benchmark-load: model
	$(BIN)/python scripts/load_benchmark.py

clean:
	rm -rf $(VENV) models/*/ models/CURRENT var reports
