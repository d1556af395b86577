# The two commands a person needs: `make run` and `make test`. Each sets itself up.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench stress serve clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh "$(VENV)"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/imageshelf $(ARGS)

serve: $(STAMP)
	$(VENV)/bin/imageshelf serve $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check $(wildcard app server tests benchmarks)
	$(VENV)/bin/ruff format --check $(wildcard app server tests benchmarks)

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict app/library server
	$(VENV)/bin/mypy app/ui app/__main__.py

test: $(STAMP)
	$(VENV)/bin/ruff check $(wildcard app server tests benchmarks)
	$(VENV)/bin/ruff format --check $(wildcard app server tests benchmarks)
	$(VENV)/bin/mypy --strict app/library server
	$(VENV)/bin/mypy app/ui app/__main__.py
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks.run $(ARGS)

# Hostile load (issue 11); the 10-minute soak: make stress ARGS="--soak 600"
stress: $(STAMP)
	$(PY) -m benchmarks.stress $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
