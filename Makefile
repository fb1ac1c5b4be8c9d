# Every target creates .venv when it is missing, so a fresh clone needs only `make run` or `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= $(if $(MONITOR_CONFIG),$(MONITOR_CONFIG),config.toml)

.PHONY: run test demo bench lint typecheck chaos clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

config.toml:
	sed 's#sqlite:////var/lib/monitor/monitor.db#sqlite:///monitor.db#' config.example.toml > config.toml
	chmod 600 config.toml
	@echo "created config.toml from config.example.toml (edit it: rules, recipients)"

run: $(STAMP) $(if $(filter config.toml,$(CONFIG)),config.toml)
	$(BIN)/monitor --config $(CONFIG) run

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check monitor tests bench
	$(BIN)/mypy monitor

demo: $(STAMP)
	$(BIN)/monitor demo

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
