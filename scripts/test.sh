#!/usr/bin/env bash
# The one test command of Borderlink (locally and in CI): installs what the tests need when it
# is missing, then checks formatting, lints with warnings denied, and runs every test of the
# workspace. One cargo build directory is shared by all steps.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() {
    printf '\n==> %s\n' "$*"
}

# Runs a command as root: directly when we are root, through sudo when it needs no password.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        return 1
    fi
}

section "Rust toolchain"
cargo --version
missing_components=()
cargo fmt --version >/dev/null 2>&1 || missing_components+=(rustfmt)
cargo clippy --version >/dev/null 2>&1 || missing_components+=(clippy)
if [ "${#missing_components[@]}" -gt 0 ]; then
    echo "installing missing components: ${missing_components[*]}"
    rustup component add "${missing_components[@]}"
fi
cargo fmt --version
cargo clippy --version

section "Browser for the console tests (Debian chromium, chromium-driver)"
# The browser test drives /usr/bin/chromium through /usr/bin/chromedriver; it fails (it never
# skips) when they are missing, so install them here.
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    echo "found /usr/bin/chromium and /usr/bin/chromedriver"
elif command -v apt-get >/dev/null 2>&1 \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver; then
    echo "installed chromium and chromium-driver"
else
    echo "warning: cannot install chromium and chromium-driver (needs apt-get and root or sudo);" >&2
    echo "         install them yourself or the browser test will fail" >&2
fi
/usr/bin/chromedriver --version 2>/dev/null || true

section "PostgreSQL server for the IoT event store tests (Debian postgresql)"
# The PostgreSQL event store's tests start a private cluster of their own (initdb into a
# temporary folder, on a free loopback port); they fail (never skip) without the server binaries.
if compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
    echo "found $(compgen -G '/usr/lib/postgresql/*/bin/postgres' | tail -1)"
elif command -v apt-get >/dev/null 2>&1 \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql; then
    echo "installed postgresql"
else
    echo "warning: cannot install postgresql (needs apt-get and root or sudo); the event store tests will fail" >&2
fi

section "Mosquitto broker for the IoT MQTT tests (Debian mosquitto)"
# The MQTT ingest tests start a private broker of their own (mosquitto.conf, password and ACL
# files in a temporary folder, on a free loopback port); they fail (never skip) without it.
if [ -x /usr/sbin/mosquitto ] && [ -x /usr/bin/mosquitto_passwd ]; then
    echo "found $(/usr/sbin/mosquitto -h 2>/dev/null | head -1)"
elif command -v apt-get >/dev/null 2>&1 \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mosquitto; then
    echo "installed mosquitto"
else
    echo "warning: cannot install mosquitto (needs apt-get and root or sudo); the MQTT ingest tests will fail" >&2
fi

section "Python venvs for the test oracles (schemathesis, duckdb, EPCIS event hash; in target/)"
# The API conformance test runs schemathesis against a demo node, and the pseudonymized-export
# test reads the Parquet files back with DuckDB's Python package; both fail (never skip) without
# them, so install them here, once, pinned, and reuse them afterwards.
if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
        && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv python3-pip \
        || echo "warning: cannot install python3-venv; the schemathesis and export tests will fail" >&2
fi
SCHEMATHESIS_VERSION=4.32.5
st_venv=target/st-venv
if ! "$st_venv/bin/st" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    python3 -m venv "$st_venv"
    "$st_venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$st_venv/bin/st" --version
BORDERLINK_SCHEMATHESIS="$(pwd)/$st_venv/bin/st"
export BORDERLINK_SCHEMATHESIS
DUCKDB_VERSION=1.4.2
py_venv=target/py-venv
if ! "$py_venv/bin/python" -c "import duckdb; assert duckdb.__version__ == '$DUCKDB_VERSION'" >/dev/null 2>&1; then
    python3 -m venv "$py_venv"
    "$py_venv/bin/pip" install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION"
fi
BORDERLINK_PYTHON="$(pwd)/$py_venv/bin/python"
export BORDERLINK_PYTHON
"$BORDERLINK_PYTHON" -c "import duckdb; print('duckdb', duckdb.__version__)"
# The EPCIS event hash IDs are checked against the reference implementation (MIT, PyPI).
EHG_VERSION=1.9.3
ehg_venv=target/ehg-venv
if ! "$ehg_venv/bin/pip" show epcis-event-hash-generator 2>/dev/null | grep -qx "Version: $EHG_VERSION"; then
    python3 -m venv "$ehg_venv"
    "$ehg_venv/bin/pip" install --quiet --disable-pip-version-check "epcis-event-hash-generator==$EHG_VERSION"
fi
BORDERLINK_EPCIS_ORACLE="$(pwd)/$ehg_venv/bin/python"
export BORDERLINK_EPCIS_ORACLE
"$ehg_venv/bin/pip" show epcis-event-hash-generator | grep -x "Version: .*"

section "Format (cargo fmt --all -- --check)"
cargo fmt --all -- --check

section "Lint (cargo clippy --workspace --all-targets -- -D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

# The slow fault tests of the replicated ledger (real processes: kill -9, partitions, snapshots)
# are #[ignore]d in a plain `cargo test`; the full suite runs them too.
section "Test (cargo test --workspace -- --include-ignored)"
cargo test --workspace -- --include-ignored

section "All checks passed"
