# The two commands in README.md: `make appendix` (setup + demo appendix) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PARAMS ?= params/*.yaml
STAMP  := $(VENV)/.installed
# the store the shipped params/*.yaml read (written from the synthetic demo data)
DEMO_STORE := data/smp-demo.duckdb
LAB_PARAMS ?= params/2023-24.yaml

.PHONY: appendix pdf test lint demo-data demo-store lab install benchmark clean

# compileall: an editable install leaves the package uncompiled and, where
# PYTHONDONTWRITEBYTECODE is set, no process writes its bytecode, so every ingest and every
# build worker would compile it again (a third of a second); pip compiles a regular install.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m compileall -q smp_analysis
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	-git rev-parse --git-dir >/dev/null 2>&1 && $(BIN)/nbstripout --install
	touch $(STAMP)

install: $(STAMP)

data/demo/.synthetic-demo: $(STAMP)
	$(BIN)/smp demo-data --out data/demo

demo-data: data/demo/.synthetic-demo

# Bring the demo store up to date (what the notebooks read) without building an appendix.
demo-store: demo-data
	$(BIN)/smp appendix --params $(LAB_PARAMS) --store-only

# HTML, PDF and tables (CSV + workbook) of every params file
appendix: demo-data
	$(BIN)/smp appendix --params $(PARAMS) --pdf if-available

# JupyterLab on the chapter notebooks, reading the demo store (read-only: `make appendix`
# can run while it is open).
lab: demo-store
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

test: $(STAMP)
	$(BIN)/ruff check smp_analysis tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check smp_analysis tests benchmarks

benchmark: demo-data
	$(BIN)/python -m compileall -q smp_analysis
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) data/demo $(DEMO_STORE) $(DEMO_STORE:.duckdb=.parts) reports/*.html \
		reports/*.pdf reports/*.xlsx reports/*/
