#!/usr/bin/env bash
# The GPU check (benchmarks/README.md): on an offline CUDA machine that has its own Python 3.12 and PyTorch 2.x,
# install the bundle that `make gpu-bundle` made (gpu-bundle/: wheels of what that machine lacks, and the two
# MovieLens data sets) beside that torch, never reinstalling it; then run
#   1. the gpu test tier on CUDA (tests/gpu and the gpu-marked training tests: CUDA against the CPU),
#   2. benchmark table A with the sequence models on CUDA,
#   3. chapter 04_2a with its gpu profile (tsrec/profiles.py),
#   4. SASRec of table A once more with bf16 autocast,
# and write benchmarks/gpu_results.md (date, GPU, torch, each step's status and seconds, the tables).
# Every step has a time limit and the whole run at most BUDGET_S seconds (8 minutes), whatever fails.
#
#   bash benchmarks/gpu_check.sh             # on the CUDA machine
#   bash benchmarks/gpu_check.sh --dry-run   # anywhere, on the CPU: the same steps at smoke settings; results
#                                            # to a temporary folder, never to benchmarks/gpu_results.md
# Environment: PYTHON (default python3; in a dry run .venv/bin/python when there is one), GPU_BUNDLE (default
# gpu-bundle), GPU_CHECK_DIR (logs, the executed chapter, the tables; default a new temporary folder),
# GPU_RESULTS (default benchmarks/gpu_results.md; in a dry run GPU_CHECK_DIR/gpu_results.md).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
DRY=0
case "${1:-}" in
  --dry-run) DRY=1 ;;
  "") ;;
  *) echo "usage: bash benchmarks/gpu_check.sh [--dry-run]" >&2; exit 2 ;;
esac
BUNDLE=$(realpath -m "${GPU_BUNDLE:-gpu-bundle}")
WORK=${GPU_CHECK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")}
mkdir -p "$WORK" && WORK=$(realpath "$WORK")
SITE=$(mktemp -d "${TMPDIR:-/tmp}/gpu-site.XXXXXX")
BUDGET_S=${BUDGET_S:-470}
START=$SECONDS
if [ "$DRY" = 1 ]; then
  if [ -x .venv/bin/python ]; then PY=${PYTHON:-.venv/bin/python}; else PY=${PYTHON:-python3}; fi
  DEVICE=cpu
  RESULTS=${GPU_RESULTS:-$WORK/gpu_results.md}
  export TSREC_THREADS=${TSREC_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
else
  PY=${PYTHON:-python3}
  DEVICE=cuda
  RESULTS=${GPU_RESULTS:-$REPO/benchmarks/gpu_results.md}
fi
export TSREC_DATA=$WORK/data TSREC_CACHE=$WORK/artifacts PYTHONHASHSEED=0 MPLBACKEND=Agg
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
STEPS=$WORK/steps.tsv
: > "$STEPS"
echo "gpu_check: $([ "$DRY" = 1 ] && echo 'dry run on the CPU' || echo 'CUDA'); logs in $WORK" >&2

# step NAME LIMIT_S COMMAND...: run it with the smaller of its limit and what is left of the budget; log, time it.
step() {
  local name=$1 limit=$2; shift 2
  local left=$((BUDGET_S - (SECONDS - START)))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -lt 5 ]; then
    printf '%s\tskipped (no time left)\t0\n' "$name" >> "$STEPS"; echo "== $name: skipped, no time left" >&2; return 1
  fi
  echo "== $name (at most ${limit} s)" >&2
  local t0=$SECONDS rc status
  timeout --kill-after=10 "$limit" bash -c '"$@"' step "$@" > "$WORK/$name.log" 2>&1   # a command or an exported function
  rc=$?
  case $rc in 0) status=ok ;; 124|137) status="timed out after ${limit} s" ;; *) status="failed (exit $rc)" ;; esac
  printf '%s\t%s\t%s\n' "$name" "$status" "$((SECONDS - t0))" >> "$STEPS"
  echo "   $status in $((SECONDS - t0)) s" >&2
  [ $rc = 0 ] || tail -n 15 "$WORK/$name.log" | sed 's/^/   | /' >&2
  return $rc
}

# 0. the bundle beside the machine's own torch
install_bundle() {
  ls "$BUNDLE"/wheels/*.whl > /dev/null 2>&1 && [ -d "$BUNDLE/data" ] || {
    echo "no bundle in $BUNDLE: run 'make gpu-bundle' on a machine with a network and copy gpu-bundle/ here"; return 1; }
  if ls "$BUNDLE"/wheels/torch-*.whl > /dev/null 2>&1; then echo "the bundle must not carry torch"; return 1; fi
  "$PY" -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, torch.__file__)" || return 1
  local pyv; pyv=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  if [ "$pyv" = 3.12 ]; then
    "$PY" -m pip install --quiet --no-index --no-deps --target "$SITE" "$BUNDLE"/wheels/*.whl || return 1
    echo "$SITE" > "$WORK/site-on-path"
  elif [ "$DRY" = 1 ]; then
    # a dry run on another Python: unpack the 3.12 wheels (checks they install as a set), run with $PY's own packages
    "$PY" -m pip install --quiet --no-index --no-deps --target "$SITE" --only-binary=:all: --python-version 3.12 \
      --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 --platform manylinux1_x86_64 "$BUNDLE"/wheels/*.whl || return 1
    echo "Python $pyv: the 3.12 wheels were unpacked, not put on the path"
  else
    echo "the bundle holds Python 3.12 wheels; $PY is Python $pyv (set PYTHON)"; return 1
  fi
  if ls -d "$SITE"/torch* > /dev/null 2>&1; then echo "a torch landed in $SITE"; return 1; fi
  mkdir -p "$TSREC_DATA" && cp -r "$BUNDLE"/data/. "$TSREC_DATA"/
  "$PY" -m tsrec data verify ml-100k ml-latest-small || return 1
  "$PY" -c "import torch, papermill, ipykernel, nbclient, pytest_socket, pandas, numpy
print('cuda', torch.cuda.is_available(), torch.version.cuda, '| pandas', pandas.__version__, '| numpy', numpy.__version__)
assert 'gpu-site' not in torch.__file__, torch.__file__"
}
# the report (benchmarks/gpu_report.py), then exit 0 only if every step passed
finish() {
  "$PY" benchmarks/gpu_report.py --work "$WORK" --out "$RESULTS" --device "$DEVICE" --seconds $((SECONDS - START)) \
    $([ "$DRY" = 1 ] && echo --dry-run)
  rm -rf "$SITE"
  echo "gpu_check: $(cut -f2 "$STEPS" | grep -c '^ok$') of $(wc -l < "$STEPS") steps ok in $((SECONDS - START)) s" \
    "-> $RESULTS" >&2
  awk -F'\t' '$2 != "ok" {bad = 1} END {exit bad}' "$STEPS"
  exit $?
}

export -f install_bundle
export PY DRY BUNDLE SITE WORK PYTHONPATH=$REPO
step bundle 90 install_bundle || finish
[ -s "$WORK/site-on-path" ] && export PYTHONPATH=$REPO:$(cat "$WORK/site-on-path")
if [ "$DRY" = 0 ] && ! "$PY" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
  echo "gpu_check: CUDA is not available to $PY; on a machine without a GPU run with --dry-run" >&2
  exit 1
fi

# 1. the gpu test tier
step gpu-tests 150 env TSREC_GPU_TEST_DEVICE=$DEVICE "$PY" -m pytest -q -p no:cacheprovider -m gpu tests/gpu tests/training

# 2. benchmark table A, sequence models on the device (one seed, at most 20 epochs and 15 s each; --quick in a dry run)
if [ "$DRY" = 1 ]; then A_ARGS=(--quick); else A_ARGS=(--seeds 0 --epochs 20 --max-seconds 15); fi
step table-a 180 "$PY" benchmarks/run.py --tables A --device "$DEVICE" "${A_ARGS[@]}" --out "$WORK/table-a.md"

# 3. one chapter with its gpu profile (in a dry run: smoke settings, on the CPU), with what is left of the budget
if [ "$DRY" = 1 ]; then CH_ARGS=(--smoke --device cpu); else CH_ARGS=(); fi
step chapter 240 "$PY" -m tsrec book run --chapter 04_2a --profile gpu "${CH_ARGS[@]}" --out "$WORK/chapter"

# 4. SASRec of table A once more with bf16 autocast (TrainConfig(amp=True)), if there is time
step table-a-amp 60 "$PY" benchmarks/run.py --tables A --models SASRec --device "$DEVICE" --amp "${A_ARGS[@]}" \
  --out "$WORK/table-a-amp.md"

finish
