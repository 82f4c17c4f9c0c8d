# kanpaper: reproducible companion to "On the expressiveness and spectral bias of KANs".
# `make figures` and `make test` do all set-up themselves (a private .venv).

SHELL       := bash
comma       := ,
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON      ?= python3
VENV        ?= .venv
TORCH_SPEC  ?= torch==2.13.0
# LOCK=1 (default): install the exact versions, with hashes, that the committed results were made with
# (requirements.lock); LOCK=0: the latest versions pyproject.toml allows
LOCK        ?= 1
LOCK_FILE   := requirements.lock
EXTRAS      ?= notebooks,cluster,test
SCALE       ?= default
# where the experiments train (cpu, cuda, cuda:N) and, if set, the Dask scheduler their sweeps run on
DEVICE      ?= cpu
DASK_SCHEDULER ?=
TIMEOUT     ?= 7200
# make lab: where JupyterLab listens, and its token (unset: a random one, printed in the URL; none: no token)
LAB_IP      ?= 127.0.0.1
LAB_PORT    ?= 8888
LAB_TOKEN   ?=

NB_DIR      ?= notebooks
# default: the committed figures/ and a local cache; paper: figures/paper/ and the committed results archive
# results/paper/ (make figures SCALE=paper replots it without recomputing); smoke: scratch directories
FIGURES_DIR ?= $(if $(filter default,$(SCALE)),figures,$(if $(filter paper,$(SCALE)),figures/paper,build/figures/$(SCALE)))
CACHE_DIR   ?= $(if $(filter paper,$(SCALE)),results/paper,.cache/results)
RUN_DIR     ?= build/executed/$(SCALE)

BIN         := $(VENV)/bin
INSTALLED   := $(VENV)/.installed
NOTEBOOKS   := $(sort $(wildcard $(NB_DIR)/[0-9][0-9]_*.ipynb))
# every module of every wing: a change anywhere in the package reruns the notebooks
PACKAGE     := $(wildcard kanpaper/*.py kanpaper/*/*.py kanpaper/*/*.mplstyle kanpaper/*/*.cpp)
STAMPS      := $(patsubst $(NB_DIR)/%.ipynb,$(RUN_DIR)/%.ok,$(NOTEBOOKS))

# Kernels, figures and caches of the notebooks come from this checkout's venv.
export JUPYTER_PREFER_ENV_PATH := 1
export PYTHONHASHSEED := 0

.PHONY: help venv lock figures verify-archive estimate test browser-test lab bench bench-libraries pykan-first-extension refresh-notebooks clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'
	@echo "  variables: SCALE=smoke|default|paper (now $(SCALE)), DEVICE=cpu|cuda|cuda:N (now $(DEVICE)),"
	@echo "             DASK_SCHEDULER=tcp://host:8786 (sweeps on a Dask cluster; CACHE_DIR on a shared directory),"
	@echo "             TORCH_SPEC=$(TORCH_SPEC), PYTHON=$(PYTHON)"
	@echo "  make lab: LAB_IP=$(LAB_IP) LAB_PORT=$(LAB_PORT) LAB_TOKEN=<token>|none (unset: random), SCALE for the notebooks"

venv: $(INSTALLED) ## Create .venv and install kanpaper with everything it needs

# torch first (the pinned CPU build), then the build tools, then kanpaper without build isolation: setup.py
# compiles the fused CPU kernels against the torch just installed (about two minutes, once per install).
$(INSTALLED): pyproject.toml setup.py kanpaper/nn/kernels.cpp $(LOCK_FILE)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet "setuptools>=77" wheel ninja
	$(if $(filter 1,$(LOCK)),$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK_FILE))
	@echo "Installing kanpaper and building its fused CPU kernels (about two minutes)..."
	$(BIN)/python -m pip install --quiet --no-build-isolation -e ".[$(EXTRAS)]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (kanpaper)" >/dev/null
	$(BIN)/python -c "from kanpaper.nn import kernels; print('kernels:', f'built ({kernels.variant()})' if kernels.available() else 'unavailable, using the pure PyTorch layer')"
	@touch $@

# JupyterLab opens quiet: no prompt about Jupyter news over the notebook, no update check (settings overrides)
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_OVERRIDES): scripts/jupyterlab_overrides.json | $(INSTALLED)
	@mkdir -p $(dir $@)
	cp $< $@

# requirements.lock from the versions installed in .venv now (torch is pinned by TORCH_SPEC, installed first)
UV_VENV     ?= build/uv-venv
lock: ## Rewrite requirements.lock (hashes included) from the versions installed in .venv
	@test -x $(BIN)/python || { echo "make lock reads the versions installed in $(VENV): make venv first"; exit 1; }
	@test -x $(UV_VENV)/bin/uv || { $(PYTHON) -m venv $(UV_VENV) && $(UV_VENV)/bin/python -m pip install --quiet uv; }
	$(BIN)/python -m pip freeze --exclude-editable > build/installed.txt
	$(UV_VENV)/bin/uv pip compile pyproject.toml $(foreach e,$(subst $(comma), ,$(EXTRAS)),--extra $(e)) \
	    --generate-hashes --constraint build/installed.txt --no-emit-package torch \
	    $(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS)) \
	    --python-version $$($(BIN)/python -c "import platform; print(platform.python_version())") \
	    --no-header --quiet -o $(LOCK_FILE)

figures: $(STAMPS) ## Run every notebook headless (papermill) at SCALE and write figures/
	@echo "All $(words $(NOTEBOOKS)) notebooks ran at scale '$(SCALE)'; figures are in $(FIGURES_DIR)/."

verify-archive: $(INSTALLED) ## Replay the archive's cheapest run per experiment (ALL=1: every run; WHOLE=1: whole runs) bit for bit
	$(BIN)/python -m kanpaper.archive $(if $(filter 1,$(ALL)),--all) $(if $(filter 1,$(WHOLE)),--whole)

estimate: $(INSTALLED) ## Estimated wall time of every notebook at SCALE on DEVICE (measures step costs once per machine)
	$(BIN)/python -m kanpaper.estimate --scale $(SCALE) --device $(DEVICE)

# Every notebook's runs first, in one pool (longest first, no core idle between notebooks); the notebooks then
# read them from the results cache.
$(RUN_DIR)/runs.ok: $(PACKAGE) $(INSTALLED)
	@mkdir -p $(RUN_DIR)
	@rm -f $@
	$(BIN)/python -m kanpaper.run_notebooks --runs-only --scale $(SCALE) --cache-dir $(CACHE_DIR) \
	    --device $(DEVICE) --dask-scheduler "$(DASK_SCHEDULER)" $(NOTEBOOKS)
	@touch $@

$(RUN_DIR)/%.ok: $(NB_DIR)/%.ipynb $(PACKAGE) $(INSTALLED) $(RUN_DIR)/runs.ok
	@mkdir -p $(RUN_DIR)
	@rm -f $@
	$(BIN)/python -m kanpaper.run_notebooks --scale $(SCALE) --out-dir $(RUN_DIR) \
	    --figures-dir $(FIGURES_DIR) --cache-dir $(CACHE_DIR) --timeout $(TIMEOUT) \
	    --device $(DEVICE) --dask-scheduler "$(DASK_SCHEDULER)" $<
	@touch $@

# cffconvert checks CITATION.cff in the tests, from a venv of its own (it pins a jsonschema older than Jupyter's)
CFF_VENV    ?= build/cffconvert-venv
CFFCONVERT_SPEC ?= cffconvert==2.0.0

$(CFF_VENV)/.installed:
	@test -x $(CFF_VENV)/bin/python || $(PYTHON) -m venv $(CFF_VENV)
	$(CFF_VENV)/bin/python -m pip install --quiet "$(CFFCONVERT_SPEC)"
	@touch $@

PYTEST      := KANPAPER_SCALE=smoke KANPAPER_PROGRESS=lines KANPAPER_FIGURES=$(CURDIR)/build/test-figures KANPAPER_CACHE=$(CURDIR)/build/test-cache \
               KANPAPER_CHECKPOINTS=$(CURDIR)/build/test-checkpoints KANPAPER_CFFCONVERT=$(CURDIR)/$(CFF_VENV)/bin/cffconvert \
               $(BIN)/python -m pytest --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg \
               -p no:cacheprovider
# Tests whose numbers depend on rounding: rerun on other CPUs' code paths and on one thread.
NUMERICS    := tests/theory/test_conversions.py tests/nn/test_kernels.py tests/nn/test_splines.py tests/theory/test_hessian.py \
               $(wildcard $(NB_DIR)/0[1-4]_*.ipynb)

test: $(INSTALLED) $(LAB_OVERRIDES) $(CFF_VENV)/.installed ## Unit tests, every notebook (nbval, SCALE=smoke), the numerics on other CPU paths, a browser check
	rm -rf build/test-cache build/test-checkpoints
	$(PYTEST) tests notebooks
	@echo "== the runs make figures computes before the notebooks are the runs the notebooks asked for"
	$(BIN)/python -m kanpaper.run_notebooks --check-runs --scale smoke --cache-dir build/test-cache $(NOTEBOOKS)
	@echo "== numerics with PyTorch and MKL dispatch forced down to baseline x86-64 (SSE4.2, no AVX)"
	ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 $(PYTEST) -q $(NUMERICS)
	@echo "== numerics on one thread"
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PYTEST) -q $(NUMERICS)
	@echo "== notebooks 01 and 03 in JupyterLab in headless chromium"
	$(BIN)/python scripts/check_lab_in_browser.py

browser-test: $(INSTALLED) $(LAB_OVERRIDES) ## Run notebooks 01 and 03 in JupyterLab in headless chromium (skips, saying so, without it)
	$(BIN)/python scripts/check_lab_in_browser.py

bench: $(INSTALLED) ## Speed benchmark against pykan 0.2.5 (prints a table)
	$(BIN)/python benchmarks/bench_engine.py

# The libraries a user would pick instead, in a venv of their own (pykan 0.2.5 in .venv cannot share one with the
# latest pykan): pinned to the versions measured, override to compare others.
OTHER_VENV  ?= .venv-libraries
PYKAN_LATEST ?= pykan==0.2.8
JAXKAN_SPEC ?= jaxkan==0.3.7
INKAN_SPEC  ?= inkan==0.5.2
FLASHKAN_SPEC ?= flashkan==0.2.0

$(OTHER_VENV)/.installed:
	@test -x $(OTHER_VENV)/bin/python || $(PYTHON) -m venv $(OTHER_VENV)
	$(OTHER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OTHER_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)"
	$(OTHER_VENV)/bin/python -m pip install --quiet "$(PYKAN_LATEST)" "$(JAXKAN_SPEC)" "jax[cpu]" \
	    "$(INKAN_SPEC)" "$(FLASHKAN_SPEC)" scikit-learn pandas pyyaml sympy matplotlib tqdm
	@touch $@

bench-libraries: $(INSTALLED) $(OTHER_VENV)/.installed ## kanpaper against pykan 0.2.5, the latest pykan, jaxKAN, inKAN and FlashKAN on the paper's workloads
	$(BIN)/python benchmarks/bench_libraries.py --compare --other-python $(OTHER_VENV)/bin/python

# pykan 0.2.8 itself at the first grid extension of Figure 3's KANs, on the fields where the authors' training error
# jumps at step 101 (notebook 07, Section 8); each run is kept in the output as it finishes
PYKAN_FIELDS ?= 3,0.5 4,0.5 2,0.5 3,1.0 4,1.0 2,0.125
pykan-first-extension: $(INSTALLED) $(OTHER_VENV)/.installed ## pykan 0.2.8 itself at the first grid extension (results/pykan/first_extension.json; minutes a run)
	OMP_NUM_THREADS=1 $(OTHER_VENV)/bin/python scripts/pykan_first_extension.py --fields $(PYKAN_FIELDS)

refresh-notebooks: $(INSTALLED) ## Re-execute notebooks in place at SCALE (stored outputs readers see), then tidy them
	for nb in $(NOTEBOOKS); do \
	    KANPAPER_SCALE=$(SCALE) KANPAPER_PROGRESS=lines $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	        --ExecutePreprocessor.extra_arguments=--IPKernelApp.log_level=ERROR \
	        --ExecutePreprocessor.timeout=$(TIMEOUT) --ExecutePreprocessor.kernel_name=python3 "$$nb"; \
	done
	$(BIN)/python -m kanpaper.run_notebooks --clean $(NOTEBOOKS)

lab: $(INSTALLED) $(LAB_OVERRIDES) ## JupyterLab on the repository, opened at notebooks/ (headless; as root too)
	KANPAPER_SCALE=$(SCALE) $(BIN)/jupyter lab --no-browser --ServerApp.root_dir="$(CURDIR)" \
	    --ServerApp.ip=$(LAB_IP) --ServerApp.port=$(LAB_PORT) --LabApp.default_url=/lab/tree/notebooks \
	    $(if $(LAB_TOKEN),--IdentityProvider.token="$(patsubst none,,$(LAB_TOKEN))") \
	    $(if $(filter 0,$(shell id -u)),--allow-root)

clean: ## Remove executed notebooks, caches and test outputs (keeps .venv and figures/)
	rm -rf build .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
