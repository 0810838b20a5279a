#!/usr/bin/env bash
# The test suite, in both supported environments (created on first use, reused afterwards):
#   .venv       llamafactory 0.9.5 + trl 0.24 + transformers 4.57  (the whole suite)
#   .venv-trl1  the newest trl 1.x + its transformers, no LLaMA-Factory (the same suite; LLaMA-Factory tests skip)
# Extra arguments go to both pytest runs, e.g. `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
ENV_GB=8  # disk one environment takes (measured: 6.7 GB and 6.2 GB)

quiet_pip() {  # pip install, without the noise about the machine's local package mirrors
  "$1/bin/pip" install --quiet "${@:2}" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

ensure_env() {  # ensure_env VENV CHECK PIP_ARGS...
  local venv=$1 check=$2
  shift 2
  if ! "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
    local free_gb=$(($(df -Pk . | awk 'NR == 2 {print $4}') / 1024 / 1024))
    if ((free_gb < ENV_GB)); then  # say so before pip fails halfway with "No space left on device"
      echo "error: creating $venv needs about $ENV_GB GB of disk (torch alone is 5.5 GB); $free_gb GB free in $PWD" >&2
      exit 1
    fi
    echo "== installing $venv ($*)"
    local start=$SECONDS
    "$PYTHON" -m venv "$venv"
    quiet_pip "$venv" "$@"
    echo "== $venv ready in $((SECONDS - start)) s"
  fi
}

ensure_env .venv "import univg_plugin, llamafactory, pytest, hypothesis, importlinter" -e ".[llamafactory,test,dev]"
ensure_env .venv-trl1 "import univg_plugin, pytest, hypothesis, importlinter, trl; assert trl.__version__.startswith('1.')" \
  -e ".[test]" "trl>=1.16,<2"

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache  # the architecture contracts in pyproject.toml

echo "== tests: LLaMA-Factory environment"
.venv/bin/python -m pytest "$@"
echo "== tests: newest-TRL environment"
.venv-trl1/bin/python -m pytest -p no:cacheprovider "$@"
