# Everything installs into .venv from requirements-lock.txt (pinned, tested versions; torch is the CPU build).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint docs bench tensorboard screenshots clean floors py312

$(STAMP): pyproject.toml requirements-lock.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-lock.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

## demo: train the seed's misconfigured schedule, show the warning, write TensorBoard logs to runs/
demo: $(STAMP)
	$(PY) examples/demo.py

## test: lint, type-check, build the docs strictly and run the whole test suite (what CI runs), one worker per core
test: $(STAMP) lint docs
	$(PY) -m pytest -n auto --durations=15

## test-fast: the unit and fit tiers only (no subprocesses: DDP, package build, mypy, benchmarks)
test-fast: $(STAMP)
	$(PY) -m pytest -n auto -m "not system" --durations=15

## docs: the documentation site from docs/ (mkdocs + mkdocstrings), strict: a broken link or reference fails
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --quiet --site-dir site

lint: $(STAMP)
	$(PY) -m ruff check lightning_lrmon tests examples benchmarks scripts
	$(PY) -m ruff format --check lightning_lrmon tests examples benchmarks scripts
	$(PY) -m mypy lightning_lrmon

## bench: the benchmark scripts at full size (numbers quoted in the README)
bench: $(STAMP)
	LRMON_EXAMPLES=1000 $(PY) -m pytest -q tests/unit/test_simulation.py tests/unit/test_streaming.py
	$(PY) benchmarks/simulate.py
	$(PY) benchmarks/overhead.py
	$(PY) benchmarks/scale.py
	$(PY) benchmarks/startup.py
	$(PY) benchmarks/tensorboard_files.py

tensorboard: $(STAMP)
	$(VENV)/bin/tensorboard --logdir runs --host 127.0.0.1

## screenshots: re-make docs/img/*.png (needs Debian's chromium: apt-get install chromium)
screenshots: $(STAMP)
	$(PY) scripts/screenshots.py

clean:
	rm -rf runs .pytest_cache .mypy_cache .ruff_cache

## floors: the suite on the oldest declared versions (requirements-floors.txt) in .venv-floors (downloads ~3 GB)
FLOORS := .venv-floors
floors:
	$(PYTHON) -m venv $(FLOORS)
	$(FLOORS)/bin/python -m pip install -q --upgrade pip
	$(FLOORS)/bin/python -m pip install -q -r requirements-floors.txt
	$(FLOORS)/bin/python -m pip install -q --no-deps --no-build-isolation -e .
	$(FLOORS)/bin/python -m pip freeze --exclude-editable > $(FLOORS)/freeze.txt
	$(FLOORS)/bin/python -m pytest -p no:cacheprovider

## py312: the suite on Python 3.12 (pyenv) with the locked versions but torch 2.13.0 from PyPI, in .venv-py312
PY312 ?= $(shell pyenv root 2>/dev/null)/versions/$(shell pyenv versions --bare 2>/dev/null | grep '^3\.12' | tail -1)/bin/python
py312:
	$(PY312) -m venv .venv-py312
	.venv-py312/bin/python -m pip install -q --upgrade pip
	.venv-py312/bin/python -m pip install -q -r requirements-lock.txt
	.venv-py312/bin/python -m pip install -q --no-deps --no-build-isolation -e .
	.venv-py312/bin/python -m pytest -p no:cacheprovider
