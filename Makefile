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

.PHONY: lab test test-lib test-notebooks test-browser browser-deps test-offline lint typecheck install \
        clean exercises check grade bench-grading bench-memory reset hub-link

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing requirements into $(VENV) (first run only; takes a few minutes)..."
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -c "import course_lib, numpy, nbval, jupyterlab"
	@touch $(STAMP)

# The repository is the server's root, so notebooks/, exercises/ and solutions/ can all be
# opened; lesson 01 opens first. JupyterLab refuses to start as root unless told to.
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(FIRST_NOTEBOOK)

# The whole suite: library tests, then every lesson and solution under nbval.
test: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest tests -q
	$(if $(strip $(NOTEBOOKS)),$(TEST_ENV) $(BIN)/python -m pytest $(NBVAL_FLAGS) -q $(NOTEBOOKS))

# Only the library's tests (fast).
test-lib: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest tests -q

# The course in a real JupyterLab in Chromium (Playwright). Screenshots: build/screenshots/.
test-browser: browser-deps
	COURSE_TEST_BROWSER=1 PYTHONHASHSEED=0 $(BIN)/python -m pytest tests/browser -q -s

# Playwright from PyPI drives Debian's Chromium (Playwright's own browser download cannot be
# used everywhere). Without a Chromium the browser tests skip and say why.
browser-deps: $(STAMP)
	@$(BIN)/python -c "import playwright" 2>/dev/null || \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-browser.txt
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && apt-get install -y -qq chromium; \
		else echo "No Chromium found: install it (Debian/Ubuntu: sudo apt-get install chromium)"; fi; }

# Every lesson and solution, top to bottom, with the network cut off (a new network namespace
# with only loopback, which the kernels need).
test-offline: $(STAMP)
	@if unshare --map-root-user --net true 2>/dev/null; then \
		unshare --map-root-user --net sh -c 'ip link set lo up && \
			test "$$(ip -o link | wc -l)" = 1 && echo "network cut off: only loopback" && \
			$(TEST_ENV) $(BIN)/python -m pytest tests/test_run_all.py -q'; \
	else echo "test-offline skipped: this machine cannot create a network namespace"; fi

test-notebooks: $(STAMP)
	$(if $(strip $(NOTEBOOKS)),$(TEST_ENV) $(BIN)/python -m pytest $(NBVAL_FLAGS) -q $(NOTEBOOKS),@echo "no notebooks yet")

lint: $(STAMP)
	$(BIN)/ruff check .

# Static types of the library learners import (configuration in pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/mypy course_lib

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
# Without bubblewrap it stops and prints the command that installs it (SANDBOX=rlimits grades with
# the weaker fallback instead; the README says what that does not protect).
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo 'usage: make grade SUBMISSIONS="dir-or-files" [OUT=grades.csv] [WRITTEN=written.csv] [FEEDBACK=dir] [SHEET=id] [SANDBOX=rlimits]'; exit 2; }
	@test "$(SANDBOX)" = rlimits || command -v bwrap >/dev/null || { echo "make grade: bubblewrap is not installed; run: $(if $(filter 0,$(shell id -u)),,sudo )apt-get install -y bubblewrap   (Fedora: $(if $(filter 0,$(shell id -u)),,sudo )dnf install -y bubblewrap), then make grade again; or SANDBOX=rlimits for the weaker fallback"; exit 2; }
	$(BIN)/python -m course_tools.grade --out $(or $(OUT),grades.csv) --written $(or $(WRITTEN),written.csv) $(if $(FEEDBACK),--feedback $(FEEDBACK)) $(if $(SHEET),--sheet $(SHEET)) $(if $(SANDBOX),--sandbox $(SANDBOX)) -- $(SUBMISSIONS)

# Grading throughput: 30 submissions of one sheet, against one graded alone in the same process.
bench-grading: $(STAMP)
	$(BIN)/python benchmarks/grading_benchmark.py

# Peak memory of one learner's kernel per lesson (to size a hub), against an idle kernel.
bench-memory: $(STAMP)
	$(BIN)/python benchmarks/kernel_memory.py

# Put a notebook back to the course's version; the learner's file is kept in backups/ first.
reset:
	@test -n "$(NB)" || { echo "usage: make reset NB=exercises/05_rmsprop.ipynb"; exit 2; }
	@$(PYTHON) scripts/reset_notebook.py "$(NB)"

# Links that open the course on a JupyterHub (nbgitpuller) and on Binder.
hub-link:
	@test -n "$(REPO)" || { echo "usage: make hub-link REPO=https://github.com/ORG/REPO [HUB=https://hub.example.edu] [BRANCH=main]"; exit 2; }
	@$(PYTHON) scripts/hub_link.py --repo "$(REPO)" $(if $(HUB),--hub "$(HUB)") --branch "$(or $(BRANCH),main)"

clean:
	rm -rf $(VENV) build *.egg-info .hypothesis
