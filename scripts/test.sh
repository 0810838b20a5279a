#!/usr/bin/env bash
# The test suite, in four environments (created on first use, reused afterwards):
#   .venv        llamafactory 0.9.5 + trl 0.24 + transformers 4.57 + deepspeed 0.19.8  (the whole suite; its first
#                ZeRO-3 test builds DeepSpeed's shm_comm_op extension, ~110 s, cached in ~/.cache/torch_extensions)
#   .venv-trl1   the newest trl 1.x + its transformers, no LLaMA-Factory (the same suite; LLaMA-Factory tests left out)
#   .venv-core   `pip install univg-plugin[test]` alone: no torch, transformers, trl or datasets (the core tests)
#   .venv-vlmr1  the core beside VLM-R1's pins, transformers 4.49.0 and trl 0.17.0, with the local torch (the core
#                tests, VLM-R1's conventions included)
# In the last two, conftest.py leaves out what needs the trainer, generation or LLaMA-Factory and says so in one line.
# Extra arguments go to every pytest run, e.g. `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

quiet_pip() {  # pip install, without the noise about the machine's local package mirrors
  "$1/bin/pip" install --quiet "${@:2}" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

ensure_env() {  # ensure_env VENV GB CHECK PIP_ARGS...: GB is the disk it takes (measured, rounded up)
  local venv=$1 gb=$2 check=$3
  shift 3
  if ! "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
    local free_gb=$(($(df -Pk . | awk 'NR == 2 {print $4}') / 1024 / 1024))
    if ((free_gb < gb)); then  # say so before pip fails halfway with "No space left on device"
      echo "error: creating $venv needs about $gb GB of disk (torch alone is 5.5 GB); $free_gb GB free in $PWD" >&2
      exit 1
    fi
    echo "== installing $venv ($*)"
    local start=$SECONDS
    "$PYTHON" -m venv "$venv"
    quiet_pip "$venv" "$@"
    echo "== $venv ready in $((SECONDS - start)) s"
  fi
}

# The browser tests drive Debian's Chromium through Playwright (whose own browser download is never used).
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "== installing chromium (apt-get) for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: /usr/bin/chromium is missing and cannot be installed here: the browser tests will be skipped" >&2
  fi
fi

TOOLS="import univg_plugin, pytest, hypothesis, importlinter, playwright"
VERSIONS="from importlib.metadata import version as v"
# Disk each takes, measured: 6.7, 6.2, 0.4 and 6.1 GB.
ensure_env .venv 8 "$TOOLS, llamafactory, deepspeed" -e ".[llamafactory,test,dev,deepspeed]"
ensure_env .venv-trl1 8 "$TOOLS; $VERSIONS; assert v('trl').startswith('1.')" -e ".[trl,eval,test]" "trl>=1.16,<2"
ensure_env .venv-core 1 "$TOOLS" -e ".[test]"
ensure_env .venv-vlmr1 8 "$TOOLS; $VERSIONS; assert (v('transformers'), v('trl'), v('torch')) == ('4.49.0', '0.17.0', '2.14.1')" \
  -e ".[test]" "torch==2.14.1" "transformers==4.49.0" "trl==0.17.0"

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache  # the architecture contracts in pyproject.toml

echo "== tests: LLaMA-Factory environment"
.venv/bin/python -m pytest "$@"
echo "== tests: newest-TRL environment"
.venv-trl1/bin/python -m pytest -p no:cacheprovider "$@"
echo "== tests: the core alone"
.venv-core/bin/python -m pytest -p no:cacheprovider "$@"
echo "== tests: the core beside VLM-R1's transformers 4.49.0 and trl 0.17.0"
.venv-vlmr1/bin/python -m pytest -p no:cacheprovider "$@"
