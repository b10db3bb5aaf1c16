#!/usr/bin/env bash
# Create .venv (if missing) and install gong-diarize with its test tools into it.
# The pip log goes to .venv/setup.log and is shown only if the install fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv (first run: about 2 minutes, 6 GB for PyTorch)"
    "$PYTHON" -m venv .venv
fi
log=.venv/setup.log
if ! { .venv/bin/python -m pip install --upgrade pip \
        && .venv/bin/python -m pip install -e '.[dev]'; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "setup failed; the whole log is in $log" >&2
    exit 1
fi
echo "installed gong-diarize into .venv"
