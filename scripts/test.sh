#!/usr/bin/env bash
# Usage: bash scripts/test.sh [pytest args]   (runs from the repo root: test paths are relative to it)
# Sets up .venv with the test extras, installs LibreOffice Calc, Noto CJK fonts and poppler-utils
# and PostgreSQL when missing (apt-get, as root), then runs ruff, mypy and pytest. LibreOffice and PostgreSQL tests
# must run, not skip.
set -euo pipefail
# shellcheck source=scripts/_env.sh
. "$(dirname "${BASH_SOURCE[0]}")/_env.sh"

ensure_venv test

have_pkg() {  # have_pkg PKG — installed per dpkg
    dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'
}

missing=()
if ! command -v soffice >/dev/null 2>&1 && ! command -v libreoffice >/dev/null 2>&1; then
    missing+=(libreoffice-calc libreoffice-core)
fi
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
# the ledger's PostgreSQL tests start a throwaway server (tests/pgserver.py): initdb and pg_ctl must exist
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    missing+=(postgresql)
fi
if command -v dpkg-query >/dev/null 2>&1; then
    have_pkg fonts-noto-cjk || missing+=(fonts-noto-cjk)
elif ! { command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh | grep -q .; }; then
    missing+=(fonts-noto-cjk)
fi
if [ ${#missing[@]} -gt 0 ]; then
    if is_root && command -v apt-get >/dev/null 2>&1; then
        apt_install "${missing[@]}"
    else
        die "missing ${missing[*]}; install them (Debian: sudo apt-get install --no-install-recommends ${missing[*]}) and re-run"
    fi
fi

export XLSALES_REQUIRE_LO=1
export XLSALES_REQUIRE_PG=1  # the ledger's PostgreSQL tests fail, not skip, when the server cannot run
export XLSALES_REQUIRE_CORPUS=1  # corpus tests fail, not skip, when shared/corpus/real-xlsx (or $XLSALES_CORPUS) is missing
say "ruff check xlsales tests bench; mypy (pyproject's [tool.mypy])"
lint=0
ruff check xlsales tests bench || lint=$?
mypy || lint=$?
say "pytest $*"
tests=0
python -m pytest "$@" || tests=$?  # 5 = no tests collected: a failure too
if [ "$tests" -eq 0 ] && [ "$lint" -ne 0 ]; then
    say "tests passed but ruff or mypy found problems (exit $lint)"
    exit "$lint"
fi
exit "$tests"
