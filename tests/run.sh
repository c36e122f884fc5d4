#!/usr/bin/env bash
# Installs everything the test suite needs and runs all of it: a virtual environment with the server
# and the test tools (.venv), GIMP 3 for the end-to-end tests (natively on Debian 13, in a cached
# Debian 13 chroot on Debian 12), then ruff, mypy (its settings are in pyproject.toml) and pytest. Extra
# arguments go to pytest; without any, a second leg first runs the unit tests on the lowest versions
# pyproject.toml admits (.venv-lowest).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" >/dev/null 2>&1; then
    echo "tests/run.sh: installing python3-venv" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test,jax,cluster,video]'
echo "tests/run.sh: $(.venv/bin/python --version);" \
    "$(.venv/bin/python -m pip list 2>/dev/null | grep -iE '^(tensorflow|keras|jax|numpy|ml.dtypes) ' | tr -s ' ' | paste -sd, -)"

# Without root or GIMP the end-to-end tests skip with the reason; under CI they fail instead.
sh tests/e2e/provide_gimp.sh || [ -z "${CI:-}" ]

.venv/bin/ruff check .
.venv/bin/mypy

if [ $# -eq 0 ]; then
    # The lower bounds are true: every direct dependency at the lowest version pyproject admits (uv's
    # lowest-direct resolution; without the jax extra, whose oldest release needs newer NumPy and TensorFlow),
    # running the engine's, the wire's, the plug-in's and the installer's unit tests.
    [ -x .venv-lowest/bin/python ] || python3 -m venv .venv-lowest
    .venv/bin/uv pip install -q --python .venv-lowest/bin/python --resolution lowest-direct -e '.[test]'
    echo "tests/run.sh: lowest versions:" \
        "$(.venv/bin/uv pip list --python .venv-lowest/bin/python 2>/dev/null |
            grep -iE '^(tensorflow|keras|numpy|ml.dtypes|pillow|pyzmq|platformdirs|tqdm|pytest|scikit.image) ' |
            tr -s ' ' | paste -sd, -)"
    .venv-lowest/bin/python -m pytest -q -p no:cacheprovider tests/unit
fi
exec .venv/bin/python -m pytest "$@"
