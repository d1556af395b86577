# The two commands a person needs: `make run` and `make test`. Each sets itself up.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# What the checks read. The code lives in app/ and server/; mypy reads it through the
# imageshelf/ links so that every module has its one import name (imageshelf/__init__.py).
LINTED := app server imageshelf/__init__.py imageshelf/__main__.py tests benchmarks
TYPED := imageshelf/__init__.py imageshelf/__main__.py imageshelf/app imageshelf/server

.PHONY: run test lint typecheck bench stress serve clean setup bundle bundle-test wheel

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh "$(VENV)"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/imageshelf $(ARGS)

serve: $(STAMP)
	$(VENV)/bin/imageshelf serve $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict $(TYPED)

test: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy --strict $(TYPED)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

# The wheel (and sdist) a user installs: dist/imageshelf-*.whl
wheel: $(STAMP)
	$(PY) -m build --outdir dist .

# A one-folder PyInstaller bundle, dist/imageshelf/ (about a minute; not part of `make test`).
bundle: $(STAMP)
	$(PY) -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['bundle'], sep='\n')" \
		| xargs -d '\n' $(PY) -m pip install -q
	PYTHONPATH=$(CURDIR) $(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build/pyinstaller packaging/imageshelf.spec

# Starts the bundle's window (offscreen) and `serve`, and talks to both (a few seconds).
bundle-test: bundle
	$(PY) packaging/smoke_test.py dist/imageshelf/imageshelf

bench: $(STAMP)
	$(PY) -m benchmarks.run $(ARGS)

# Hostile load (issue 11); the 10-minute soak: make stress ARGS="--soak 600"
stress: $(STAMP)
	$(PY) -m benchmarks.stress $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
