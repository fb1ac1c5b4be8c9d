# Every target creates .venv when it is missing, so a fresh clone needs only `make run` or `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= $(if $(MONITOR_CONFIG),$(MONITOR_CONFIG),config.toml)

.PHONY: run test demo bench lint typecheck chaos audit clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

config.toml:
	sed 's#sqlite:///var/lib/monitor/monitor.db#sqlite:///monitor.db#' config.example.toml > config.toml
	chmod 600 config.toml
	@echo "created config.toml from config.example.toml (edit it: rules, recipients)"

run: $(STAMP) $(if $(filter config.toml,$(CONFIG)),config.toml)
	$(BIN)/monitor --config $(CONFIG) run

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check monitor tests bench chaos
	$(BIN)/mypy monitor chaos

demo: $(STAMP)
	$(BIN)/monitor demo

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# The chaos suite: the daemon under server faults and SIGKILL restarts, then the exactly-once kill loop.
# `make chaos CHAOS_ARGS=--quick` for a short run; `--seed N` repeats one. `make test` runs a short form.
chaos: $(STAMP)
	$(BIN)/python -m chaos $(CHAOS_ARGS)

# Known vulnerabilities in the installed dependencies. pip-audit needs the PyPI/OSV database from the
# internet: offline, it says so and the target still succeeds (it is advice, not a gate for CI).
audit: $(STAMP)
	@$(BIN)/python -m pip_audit --version >/dev/null 2>&1 || $(BIN)/pip install -q pip-audit || \
		{ echo "audit: SKIPPED — pip-audit could not be installed (offline?)"; exit 0; }
	@$(BIN)/pip freeze --exclude-editable > $(VENV)/requirements.lock
	@$(BIN)/python -m pip_audit --strict --progress-spinner off -r $(VENV)/requirements.lock; rc=$$?; \
		if [ $$rc -eq 0 ]; then echo "audit: no known vulnerabilities"; \
		elif [ $$rc -eq 1 ] && ! $(BIN)/python -c "import urllib.request as u; u.urlopen('https://pypi.org/simple/', timeout=5)" 2>/dev/null; then \
			echo "audit: SKIPPED — the vulnerability database is not reachable (offline); nothing was checked"; \
		else exit $$rc; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
