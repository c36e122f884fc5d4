#!/usr/bin/env bash
# Installs everything the test suite needs and runs all of it: a virtual environment with the server
# and the test tools (.venv), GIMP 3 for the end-to-end tests (natively on Debian 13, in a cached
# Debian 13 chroot on Debian 12), then ruff, mypy (its settings are in pyproject.toml) and pytest. Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" >/dev/null 2>&1; then
    echo "tests/run.sh: installing python3-venv" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# Without root or GIMP the end-to-end tests skip with the reason; under CI they fail instead.
sh tests/e2e/provide_gimp.sh || [ -z "${CI:-}" ]

.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
