# shellcheck shell=bash
# Shared set-up for scripts/demo.sh and scripts/test.sh; source it, don't run it.
#   cd to the repo root, make or reuse .venv, install the package into it (only when
#   pyproject.toml changed since the last install), and put .venv/bin first on PATH.
# Honours XLSALES_PYTHON (interpreter used to create the venv; default python3.11, else python3 >= 3.11).

export CALLER_PWD="$PWD"  # where the user ran the script from
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
VENV="$ROOT/.venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

say() { printf '[xlsales] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

_apt_updated=""
apt_install() {  # apt_install PKG... — root only; runs apt-get update once per script run
    if [ -z "$_apt_updated" ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed"
        _apt_updated=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
        || die "apt-get install $* failed"
}

pick_python() {  # prints an interpreter >= 3.11
    local c
    for c in ${XLSALES_PYTHON:-} python3.11 python3; do
        if command -v "$c" >/dev/null 2>&1 \
            && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

make_venv() {
    local py
    if ! py="$(pick_python)"; then
        if is_root && command -v apt-get >/dev/null; then
            apt_install python3.11 python3.11-venv
            py="$(pick_python)" || die "no Python >= 3.11 even after installing python3.11"
        else
            die "Python 3.11 or newer is needed (Debian: sudo apt-get install python3.11 python3.11-venv)"
        fi
    fi
    # Debian splits venv/ensurepip out of the interpreter package.
    if ! "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        local ver
        ver="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        if is_root && command -v apt-get >/dev/null; then
            apt_install "python${ver}-venv"
        else
            die "$py has no venv/ensurepip; install it (Debian: sudo apt-get install python${ver}-venv) and re-run"
        fi
    fi
    say "creating .venv with $py"
    rm -rf "$VENV"
    "$py" -m venv "$VENV" || { rm -rf "$VENV"; die "python -m venv failed"; }
}

# ensure_venv [EXTRA] — .venv exists, works, and has `pip install -e .[EXTRA]` for this pyproject.toml.
ensure_venv() {
    local extra="${1:-}" spec="." stamp hash
    [ -n "$extra" ] && spec=".[$extra]"
    if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
        || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        make_venv
    fi
    hash="$(cat pyproject.toml "${BASH_SOURCE[0]}" | "$VENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
    stamp="$VENV/.xlsales-installed-${extra:-base}"
    # The test install is a superset of the base one.
    if { [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ] \
        || { [ -z "$extra" ] && [ "$(cat "$VENV/.xlsales-installed-test" 2>/dev/null)" = "$hash" ]; }; } \
        && "$VENV/bin/python" -c 'import xlsales' >/dev/null 2>&1; then
        :
    else
        say "pip install -e '$spec' (first run or pyproject.toml changed)"
        local f
        for f in "$VENV"/.xlsales-installed-*; do  # stamps of an older pyproject.toml no longer hold
            if [ -e "$f" ] && [ "$(cat "$f")" != "$hash" ]; then rm -f "$f"; fi
        done
        "$VENV/bin/python" -m pip install -q -e "$spec" || die "pip install -e '$spec' failed"
        printf '%s\n' "$hash" >"$stamp"
    fi
    export PATH="$VENV/bin:$PATH" VIRTUAL_ENV="$VENV"
}
