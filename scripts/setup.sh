# Sourced by scripts/demo, scripts/test and .ci/run: sets up, once, what they
# need on a fresh machine that has only Rust and Python 3. Each step is
# skipped when what it makes is already there.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { echo "== $*" >&2; }

is_root() { [ "$(id -u)" = 0 ]; }

# The machine's PostgreSQL server binaries: pg_config's, or Debian's.
machine_server() {
    local bindir
    bindir=$(pg_config --bindir 2>/dev/null) && [ -x "$bindir/initdb" ] && [ -x "$bindir/pg_ctl" ] && return 0
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

# Server binaries for the throwaway servers the demo and the tests start:
# the machine's; else, as root with apt, Debian's package; else PostgreSQL
# 17.5 (the portal's) from the npm registry, named by COOWNERSHIP_PG_BINDIR.
ensure_server() {
    if [ -n "${COOWNERSHIP_PG_BINDIR:-}" ] || [ -n "${DATABASE_URL:-}" ] || machine_server; then
        return 0
    fi
    if is_root && command -v apt-get >/dev/null; then
        say "installing Debian's PostgreSQL server binaries"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >&2
        apt-get install -y -q postgresql >&2
    elif command -v npm >/dev/null; then
        say "installing PostgreSQL 17.5's server binaries from the npm registry"
        COOWNERSHIP_PG_BINDIR=$("$repo/scripts/install-postgres" 17)
        export COOWNERSHIP_PG_BINDIR
    else
        echo "No PostgreSQL server binaries, and neither apt (as root) nor npm to install them:" >&2
        echo "install Debian's postgresql package, or Node.js and npm, or set DATABASE_URL." >&2
        exit 2
    fi
}

# PostgreSQL refuses to run as root: as root, the harness runs the server as
# the `postgres` user, which Debian's package makes and the npm one does not.
ensure_postgres_user() {
    if is_root && ! id postgres >/dev/null 2>&1; then
        say "creating the postgres user the throwaway servers run as"
        useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
    fi
}

# /usr/bin/time: the hostile-input test reads the CLI's peak memory from it.
ensure_time() {
    [ -x /usr/bin/time ] && return 0
    if is_root && command -v apt-get >/dev/null; then
        say "installing time"
        apt-get install -y -q time >&2 || { apt-get update -q >&2 && apt-get install -y -q time >&2; }
    else
        echo "The tests need /usr/bin/time (Debian: apt-get install time)." >&2
        exit 2
    fi
}

# A virtual environment under the build directory with the pinned Python
# tools (scripts/requirements-test.txt); reinstalled when the pins change.
# Exports COOWNERSHIP_PYTHON.
ensure_venv() {
    local venv=${COOWNERSHIP_VENV:-$repo/target/coownership-venv}
    local pins="$repo/scripts/requirements-test.txt"
    if [ ! -x "$venv/bin/python" ] || ! cmp -s "$pins" "$venv/.pins"; then
        say "setting up the Python tools in $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --upgrade pip >&2
        "$venv/bin/pip" install --quiet -r "$pins" >&2
        cp "$pins" "$venv/.pins"
    fi
    export COOWNERSHIP_PYTHON="$venv/bin/python"
    export COOWNERSHIP_VENV="$venv"
}
