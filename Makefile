# abtool developer commands. Everything installs itself into .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck bench bench-large dist clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The committed sample: a healthy shadow candidate (examples/policy.toml passes on it).
sample_logs/shadow.parquet: | $(STAMP)
	$(BIN)/abtool simulate shadow --rows 20000 --hours 36 --seed 7 --out $@

# Its twin whose shadow disagrees in Brazil (generated, not committed).
sample_logs/shadow_bad_br.parquet: | $(STAMP)
	$(BIN)/abtool simulate shadow --rows 20000 --hours 36 --seed 7 --bad-segment BR --out $@

# The demo report says NO_GO (exit 1) naming Brazil; any other exit code fails the target.
# The same report is also written as a self-contained HTML page with its plots.
demo: $(STAMP) sample_logs/shadow_bad_br.parquet
	$(BIN)/abtool shadow-report sample_logs/shadow_bad_br.parquet; test $$? -eq 1
	$(BIN)/abtool shadow-report sample_logs/shadow_bad_br.parquet --format html \
		--output sample_logs/report.html; test $$? -eq 1
	@echo "HTML report: $(CURDIR)/sample_logs/report.html"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy abtool

# The browser tests need Chromium: installed here where missing (as root, with apt-get).
test: lint typecheck
	sh tests/browser/install_chromium.sh
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --rows 1000000 10000000 --write-results

# Adds the Spark engine (local[2]) at 10M and 50M rows, one run each (it takes a while).
bench-large: $(STAMP)
	$(BIN)/python -m benchmarks.run --rows 1000000 10000000 50000000 100000000 \
		--peers-up-to 50000000 --write-results --spark-rows 10000000 50000000 --spark-repeat 1

# The wheel and sdist, built in an isolated environment: `pip install dist/*.whl` anywhere.
DIST ?= dist
dist: $(STAMP)
	rm -rf $(DIST)
	$(BIN)/python -m build --outdir $(DIST) .

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
