#!/usr/bin/env bash
# Usage: bash scripts/demo.sh [DIR]
# Sets up .venv (first run only) and writes the demo workbooks into DIR, replacing it.
# DIR is relative to where you run this from; the default is demo/ in the repo root.
set -euo pipefail
# shellcheck source=scripts/_env.sh
. "$(dirname "${BASH_SOURCE[0]}")/_env.sh"

dir="${1:-demo}"  # we are in the repo root now; a DIR given is taken from where the user stood
if [ $# -gt 0 ]; then case "$dir" in /*) ;; *) dir="$CALLER_PWD/$dir" ;; esac; fi
ensure_venv ""  # base install, no extras
exec xlsales demo "$dir" --force
