#!/usr/bin/env bash
# Create .venv (if missing) and install gong-diarize with its test tools and the Ray extra
# (`batch --ray`; its tests start a local Ray) into it.
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
        && .venv/bin/python -m pip install -e '.[dev,ray]'; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "setup failed; the whole log is in $log" >&2
    exit 1
fi
echo "installed gong-diarize into .venv"
# Optional: Debian's espeak-ng and flite give the benchmark's generated calls more voices
# (benchmarks/ skip those calls without them). Installed only when missing and when this
# runs as root with apt; never fails the set-up.
if ! command -v espeak-ng >/dev/null 2>&1 || ! command -v flite >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        if { apt-get update -qq && apt-get install -y -qq espeak-ng flite; } >>"$log" 2>&1; then
            echo "installed espeak-ng and flite (benchmark voices)"
        else
            echo "note: espeak-ng/flite not installed; benchmarks skip their TTS calls" >&2
        fi
    fi
fi
