# The two commands in README.md: `make appendix` (setup + demo appendix) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PARAMS ?= params/*.yaml
STAMP  := $(VENV)/.installed

.PHONY: appendix test lint demo-data install benchmark clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	-git rev-parse --git-dir >/dev/null 2>&1 && $(BIN)/nbstripout --install
	touch $(STAMP)

install: $(STAMP)

data/demo/.synthetic-demo: $(STAMP)
	$(BIN)/smp demo-data --out data/demo

demo-data: data/demo/.synthetic-demo

appendix: demo-data
	$(BIN)/smp appendix --params $(PARAMS)

test: $(STAMP)
	$(BIN)/ruff check smp_analysis tests benchmarks
	$(BIN)/python -m pytest -q

benchmark: demo-data
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) data/demo reports/*.html reports/*/
