VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo bench soak schemas lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check reconciler tests tools
	$(VENV)/bin/ruff format --check reconciler tests tools
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest

demo: $(STAMP)
	$(PY) -m reconciler.demo

# 100 seeded applies through injected faults; prints runs, faults, converged, duplicates, leaks.
soak: $(STAMP)
	$(PY) tools/soak.py --runs 100

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
