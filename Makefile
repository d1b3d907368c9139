# Two commands on a fresh machine: `make lab` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FIRST_NOTEBOOK := notebooks/01_welcome.ipynb
NOTEBOOKS = $(wildcard notebooks/*.ipynb) $(wildcard solutions/*.ipynb)
# nbval: compare every cell's output (--nbval), in this interpreter, with a narrow sanitizer;
# a short cell timeout so a hung kernel fails fast instead of stalling the run.
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
               --nbval-cell-timeout=300
# Progress bars depend on timing; never show them in compared outputs.
TEST_ENV := COURSE_LIB_PROGRESS=0 MPLBACKEND=Agg PYTHONHASHSEED=0

.PHONY: lab test test-lib test-notebooks lint install clean exercises check grade bench-grading

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing requirements into $(VENV) (first run only; takes a few minutes)..."
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -c "import course_lib, numpy, nbval, jupyterlab"
	@touch $(STAMP)

# JupyterLab refuses to start as root unless told to (containers, CI machines).
lab: $(STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) \
		$(if $(wildcard $(FIRST_NOTEBOOK)),$(FIRST_NOTEBOOK),notebooks)

# The whole suite: library tests, then every lesson and solution under nbval.
test: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest tests -q
	$(if $(strip $(NOTEBOOKS)),$(TEST_ENV) $(BIN)/python -m pytest $(NBVAL_FLAGS) -q $(NOTEBOOKS))

# Only the library's tests (fast).
test-lib: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest tests -q

test-notebooks: $(STAMP)
	$(if $(strip $(NOTEBOOKS)),$(TEST_ENV) $(BIN)/python -m pytest $(NBVAL_FLAGS) -q $(NOTEBOOKS),@echo "no notebooks yet")

lint: $(STAMP)
	$(BIN)/ruff check .

# Regenerate exercises/ from solutions/ (never edit exercises/ by hand).
exercises: $(STAMP)
	$(BIN)/python -m course_tools.sheets build

# Check one exercise sheet: make check NB=exercises/04_adagrad.ipynb
# (exit status 0 when every checked exercise passed, 1 otherwise).
check: $(STAMP)
	@test -n "$(NB)" || { echo "usage: make check NB=exercises/04_adagrad.ipynb"; exit 2; }
	@$(TEST_ENV) $(BIN)/python -m course_tools.sheets report "$(NB)"

# Grade submissions: make grade SUBMISSIONS="submissions/*.ipynb" OUT=grades.csv FEEDBACK=feedback SHEET=04_adagrad
# (the submissions come after `--`, so a file named like an option is still a file)
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo 'usage: make grade SUBMISSIONS="dir-or-files" [OUT=grades.csv] [FEEDBACK=dir] [SHEET=id]'; exit 2; }
	$(BIN)/python -m course_tools.grade --out $(or $(OUT),grades.csv) $(if $(FEEDBACK),--feedback $(FEEDBACK)) $(if $(SHEET),--sheet $(SHEET)) -- $(SUBMISSIONS)

# Grading throughput: 30 submissions of one sheet, against one graded alone in the same process.
bench-grading: $(STAMP)
	$(BIN)/python benchmarks/grading_benchmark.py

clean:
	rm -rf $(VENV) build *.egg-info .hypothesis
