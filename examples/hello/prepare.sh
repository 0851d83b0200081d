#!/bin/sh
# Produce the weights file the model loads (scripts/demo runs this before `cog lock`).
set -eu
cd "$(dirname "$0")"
python3 make_weights.py
