#!/usr/bin/env bash
# Set up, build a stereo example call from the real recording that ships in pyannote.audio,
# and turn it into Gong call metadata with a speakersTimeline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m diarize.example example
.venv/bin/gong-diarize timeline example/call.wav --call example/call.json \
    -o example/enriched.json --rttm example/call.rttm
echo "wrote example/enriched.json and example/call.rttm"
