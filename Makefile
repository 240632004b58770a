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
	$(VENV)/bin/ruff check reconciler tests tools bench
	$(VENV)/bin/ruff format --check reconciler tests tools bench
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest

demo: $(STAMP)
	$(PY) -m reconciler.demo

# 100 seeded applies through injected faults; prints runs, faults, converged, duplicates, leaks.
soak: $(STAMP)
	$(PY) tools/soak.py --runs 100

# 2,000 technicians, 10,000 machines, 10 ms latency: requests, wall time against its floor,
# CPU and peak memory of plan/apply at --concurrency 16 and 1 (docs/performance.md).
bench: $(STAMP)
	$(PY) -m bench.run --out bench-results.json
	$(PY) -m bench.fleet --out bench-fleet.json

# Regenerate schemas/*.json from the code (a test fails when a committed one is stale).
schemas: $(STAMP)
	$(PY) -m reconciler.schemas schemas

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
