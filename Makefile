# fnn-course: the verbs people type. Every target works from a fresh clone: the virtual
# environment in .venv is created (or refreshed when pyproject.toml changes) on demand, with what
# that verb needs (students the course; instructor verbs and tests add their extras).
#
#   make lab                 students: open the course in JupyterLab on its start page (START.md)
#   make instructor          course staff: JupyterLab with nbgrader's Formgrader, Create Assignment, exchange
#   make test                run every test (library, doctests, notebooks, release, grading pipeline)
#   make lectures [NB=…]     re-execute the lecture notebooks in place (stored outputs)
#   make release             regenerate exercises/ from solutions/ with nbgrader; check nothing leaked
#   make autograde A=<id>    grade every submission under grading/submitted/*/<id>/ (fnngrade:
#                            sandboxed, parallel; WORKERS=n, ARGS='--force ...' pass options)
#   make autograde-plain A=<id>  the same with plain nbgrader autograde (serial, unsandboxed)
#   make feedback A=<id>     write HTML feedback for <id>'s graded submissions (no hidden tests, offline math)
#   make grades              export every grade to grading/grades.csv
#   make bench               run the benchmarks in benchmarks/ and print their tables
#   make site                build the course website into build/site/ (offline, warnings are errors)
#   make zh                  regenerate the 中文版 in zh/ from the English and i18n/zh/ (checks them first)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Each verb installs what it needs, once: students the course (pyproject.toml's dependencies), the
# instructor verbs also the [instructor] extra, the tests also [test]. A stamp per level; a change of
# pyproject.toml refreshes them.
STUDENT_STAMP := $(VENV)/.installed-student
STAMP         := $(VENV)/.installed-instructor
TEST_STAMP    := $(VENV)/.installed-test
SITE_STAMP    := $(VENV)/.installed-site
PIP_INSTALL   := $(BIN)/python -m pip install --disable-pip-version-check
JOBS   ?= 2
# The kernel every notebook names in its metadata (tests/test_kernelspec.py keeps the two equal):
# with another name or display name, JupyterLab rewrites the metadata when the kernel starts, and
# the notebook shows as modified although nobody touched it.
KERNEL_NAME    := python3
KERNEL_DISPLAY := Python 3 (ipykernel)
# nbgrader runs `alembic` from PATH, so the venv must come first on it
NBGRADER := PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader
KERNEL_JSON := $(VENV)/share/jupyter/kernels/$(KERNEL_NAME)/kernel.json
# jupyter-events asks for jsonschema[format-nongpl], which brings rfc3987-syntax. Importing it builds an
# Earley parser: 1.1 s of CPU in every process that imports nbformat (each nbgrader and fnngrade process,
# the Jupyter server, every test worker; a fnngrade run starts three). Nothing in the course validates IRIs
# and jsonschema skips a format it has no checker for, so the course's environment goes without it
# (README, "Where this departs").
DROP_SLOW_IMPORTS := $(BIN)/python -m pip uninstall --disable-pip-version-check -y -q rfc3987-syntax >/dev/null 2>&1 || true

.PHONY: zh
.PHONY: site lectures help lab instructor test test-fast release autograde autograde-plain feedback grades bench clean venv

help:
	@sed -n '1,/^$$/p' Makefile | sed -e '/^$$/d' -e 's/^# \{0,1\}//'

venv: $(STUDENT_STAMP) $(KERNEL_JSON)

$(STUDENT_STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "==> creating $(VENV) with $$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing the course into $(VENV): fnnlib, JupyterLab, nbgrader's Validate button, NumPy, SciPy,"
	@echo "    SymPy, scikit-learn, Matplotlib (pyproject.toml). The first time, pip fetches about 170 MB of packages."
	@$(PIP_INSTALL) -e .
	@$(DROP_SLOW_IMPORTS)
	@touch $@
	@echo "==> $(VENV) has the course"

# Instructor verbs (release, autograde, feedback, grades, make instructor): the [instructor] extra too.
# The kernel is registered first (order-only: a Makefile edit re-registers it without a reinstall).
$(STAMP): $(STUDENT_STAMP) | $(KERNEL_JSON)
	@echo "==> adding the instructor tools to $(VENV) (pyproject.toml [instructor])"
	@$(PIP_INSTALL) --quiet -e '.[instructor]'
	@$(DROP_SLOW_IMPORTS)
	@touch $@

$(TEST_STAMP): $(STAMP)
	@echo "==> adding the test tools to $(VENV) (pyproject.toml [test], and [site]: the tests build the website)"
	@$(PIP_INSTALL) --quiet -e '.[instructor,test,site]'
	@$(DROP_SLOW_IMPORTS)
	@touch $@

$(KERNEL_JSON): $(STUDENT_STAMP) Makefile
	@$(BIN)/python -m ipykernel install --sys-prefix --name "$(KERNEL_NAME)" --display-name "$(KERNEL_DISPLAY)" >/dev/null
	@echo "==> kernel '$(KERNEL_NAME)' ($(KERNEL_DISPLAY)) registered in $(VENV)/share/jupyter/kernels"

# JupyterLab in two modes, set by a config folder on JUPYTER_CONFIG_PATH (jupyter-config/README.md):
# students get nbgrader's Validate button only; course staff also the Formgrader, Create Assignment
# and the exchange's Assignment and Course lists. Both open the start page START.md (Markdown files
# open rendered: jupyter-config/lab-settings/overrides.json). LAB_ARGS passes more options.
LAB = $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/START.md \
	--LabApp.app_settings_dir="$(CURDIR)/jupyter-config/lab-settings" \
	$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)
MODE_CONFIG = JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter-config/$(1)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}"

# The start page in the student's language (python -m fnnlib.language zh|en; README, 中文版).
lab: $(STUDENT_STAMP) $(KERNEL_JSON)
	@start=START.md; if [ "$$($(BIN)/python -m fnnlib.language show 2>/dev/null)" = zh ] && [ -f zh/START.md ]; then start=zh/START.md; fi; \
	echo "==> starting JupyterLab on the start page $$start (Ctrl-C to stop); course staff: make instructor"; \
	$(call MODE_CONFIG,student) $(subst /lab/tree/START.md,/lab/tree/$$start,$(LAB))

instructor: $(STAMP) $(KERNEL_JSON)
	@mkdir -p grading
	@echo "==> starting JupyterLab for course staff (Ctrl-C to stop): Nbgrader menu > Formgrader;"
	@echo "    gradebook in grading/, nbgrader exchange in $${FNN_EXCHANGE:-grading/exchange} (docs/instructors.md)"
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(call MODE_CONFIG,instructor) $(LAB)

test: $(TEST_STAMP) $(KERNEL_JSON)
	@echo "==> running every test on $(JOBS) workers: library + doctests, lectures and solutions (nbval), release, grading pipeline"
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --dist loadscope \
		--nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-current-env \
		--doctest-modules fnnlib tests lectures solutions

# The edit loop (about a minute): the library, its doctests and the notebooks' static checks;
# not the tests marked `heavy` (tests/conftest.py: grading, nbgrader, browsers, the site build).
test-fast: $(TEST_STAMP) $(KERNEL_JSON)
	@echo "==> library tests, doctests and static notebook checks (no nbval, no grading, no browser): make test runs everything"
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --doctest-modules fnnlib tests -m "not heavy"

lectures: $(STAMP)
	@echo "==> executing every lecture in place (outputs stored, no timing metadata)"
	@for nb in $(or $(NB),lectures/[0-9][0-9]-*.ipynb); do echo "    $$nb"; \
		$(BIN)/python -c "import nbformat as n, sys; p = sys.argv[1]; nb = n.read(p, 4); \
		[c.metadata.pop('execution', None) for c in nb.cells]; n.write(nb, p)" "$$nb" || exit 1; \
		MPLBACKEND=module://matplotlib_inline.backend_inline $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False --ExecutePreprocessor.timeout=600 "$$nb" --log-level=WARN || exit 1; \
	done

release: $(STAMP)
	@mkdir -p grading
	@echo "==> regenerating exercises/ from solutions/ with nbgrader generate_assignment"
	@for d in solutions/*/; do a=$$(basename $$d); \
		echo "    $$a"; \
		$(NBGRADER) generate_assignment "$$a" --force --log-level=WARN || exit 1; \
	done
	@echo "==> checking that no rubric, model answer or hidden test reached exercises/ (tests/pipeline/test_leaks.py)"
	@MPLBACKEND=Agg $(BIN)/python -m pytest -q -p no:cacheprovider tests/pipeline/test_leaks.py -k release_shows || \
		{ echo "==> the release shows what only graders may see (listed above): fix solutions/ and run make release again"; exit 1; }
	@echo "==> done; 'git status exercises/' shows what changed"

# The Chinese edition: every translation current (tools/i18n.py check names what is not), then zh/
# written from the English files and the translations. Commit zh/ with the change, like exercises/.
zh: $(STAMP)
	@echo "==> checking the translations in i18n/zh/ against the English (stale, missing, math/code/links/numbers, glossary)"
	@$(BIN)/python tools/i18n.py check
	@echo "==> writing zh/ (lectures, releases, start page, README)"
	@$(BIN)/python tools/i18n.py generate

autograde: $(STAMP)
	@test -n "$(A)" || { echo "usage: make autograde A=<assignment id> [WORKERS=n] [ARGS='--force ...'], e.g. A=01-neuron-activations"; exit 2; }
	@mkdir -p grading
	@echo "==> grading every submission under grading/submitted/*/$(A)/ with fnngrade (sandboxed, $(if $(WORKERS),$(WORKERS) workers,one worker per core))"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m fnngrade autograde "$(A)" $(if $(WORKERS),--workers $(WORKERS)) $(ARGS)
	@echo "==> scores are in the gradebook, states in grading/states-$(A).csv; 'make feedback A=$(A)' writes feedback, 'make grades' exports CSV"

autograde-plain: $(STAMP)
	@test -n "$(A)" || { echo "usage: make autograde-plain A=<assignment id>"; exit 2; }
	@mkdir -p grading
	@echo "==> registering $(A) in the gradebook (generate_assignment into a scratch release)"
	@tmp=$$(mktemp -d) && $(NBGRADER) generate_assignment "$(A)" --force --log-level=WARN \
		--CourseDirectory.release_directory="$$tmp" && rm -rf "$$tmp"
	@echo "==> plain nbgrader autograde (serial, UNSANDBOXED: student code runs with your rights)"
	@$(NBGRADER) autograde "$(A)" --force || echo "==> nbgrader reported at least one submission it could not grade (see above); the others are graded"
	@echo "==> scores are in the gradebook; 'make feedback A=$(A)' writes feedback, 'make grades' exports CSV"

feedback: $(STAMP)
	@test -n "$(A)" || { echo "usage: make feedback A=<assignment id>"; exit 2; }
	@mkdir -p grading
	@$(NBGRADER) generate_feedback "$(A)" --force
	@echo "==> feedback HTML written under grading/feedback/<student>/$(A)/: one self-contained file per notebook,"
	@echo "    without the hidden tests (the lines of them that tracebacks quote are masked too), with each"
	@echo "    rubric under a label, and with MathJax inlined so formulas typeset offline (fnngrade/feedback.py)"

grades: $(STAMP)
	@mkdir -p grading
	@$(NBGRADER) export --to grading/grades.csv
	@echo "==> grades exported to grading/grades.csv"

# The course website (tools/site.py, site/): Sphinx + MyST-NB render the committed lectures, the
# student release and the guides into build/site/ (ignored by git), from stored outputs, offline.
$(SITE_STAMP): $(STUDENT_STAMP)
	@echo "==> adding the website tools to $(VENV) (pyproject.toml [site]: Sphinx, MyST-NB, sphinx-book-theme)"
	@$(PIP_INSTALL) --quiet -e '.[site]'
	@$(DROP_SLOW_IMPORTS)
	@touch $@

site: $(SITE_STAMP)
	@echo "==> building the course website into build/site/ (Sphinx, warnings are errors)"
	@$(BIN)/python tools/site.py

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "==> $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf grading .pytest_cache .hypothesis
	@echo "==> removed local grading state and caches (kept $(VENV))"
