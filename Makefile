# The three commands of the README. Everything runs from the venv that `make setup` builds.
PY := .venv/bin/python
PORT ?= 7860

.PHONY: setup run test test-scale lint typecheck pytest format lab bench lock clean

setup:
	bash scripts/setup.sh

run:
	$(PY) app.py

test: lint typecheck pytest

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck:
	$(PY) -m mypy

pytest:
	$(PY) -m pytest -q --ignore=tests/scale

# Several app instances on a throwaway PostgreSQL (docs/scaling.md); .ci/run runs it after `test`.
test-scale:
	$(PY) -m pytest -q tests/scale

format:
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# JupyterLab is not a runtime dependency: installed on demand, into the venv.
lab:
	$(PY) -m pip show jupyterlab >/dev/null 2>&1 || $(PY) -m pip install -q jupyterlab
	$(PY) -m jupyterlab --notebook-dir=notebooks --no-browser --port=8888

bench:
	$(PY) bench/kernels.py
	$(PY) bench/ptc.py
	$(PY) bench/catalog.py
	$(PY) bench/e2e.py
	$(PY) bench/llm_overhead.py

# Re-pin the lock file after changing pyproject.toml (exact versions, no index URL).
lock:
	$(PY) -m uv pip compile pyproject.toml --extra dev --no-emit-index-url --no-emit-find-links \
	  --python-version 3.11 -o requirements.lock

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache
