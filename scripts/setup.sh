#!/usr/bin/env bash
# Create .venv (if missing) and install gong-diarize with its test tools and the Ray extra
# (`batch --ray`; its tests start a local Ray) into it.
# The pip log goes to .venv/setup.log and is shown only if the install fails.
# Nothing outside .venv is touched unless --system is given: then (as root, with apt-get) it
# also installs Debian packages system-wide: espeak-ng and flite (more voices for the
# benchmark's generated calls) and strace (the privacy test watches native sockets with it).
# Without them those benchmark calls and that part of the test are skipped, with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
system=0
for arg in "$@"; do
    case "$arg" in
        --system) system=1 ;;
        *) echo "usage: bash scripts/setup.sh [--system]" >&2; exit 2 ;;
    esac
done
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv (first run: about 4 minutes, 6 GB for PyTorch)"
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
missing=()
for tool in espeak-ng flite strace; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$system" = 0 ]; then
        echo "optional, not installed: ${missing[*]} (benchmark voices; the privacy test's strace)."
        echo "  'sudo bash scripts/setup.sh --system' installs them system-wide with apt-get."
    elif [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "note: --system needs root and apt-get; not installed: ${missing[*]}" >&2
    else
        echo "installing system-wide with apt-get (--system): ${missing[*]}"
        if { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >>"$log" 2>&1; then
            echo "installed system-wide: ${missing[*]}"
        else
            echo "note: apt-get failed (log in $log); not installed: ${missing[*]}" >&2
        fi
    fi
fi
