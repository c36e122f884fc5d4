#!/usr/bin/env bash
# Reverie's GPU figures on the JAX backend, for a lent GPU machine (no TensorFlow there; JAX with CUDA is).
# Run from the repository root with the Keras wheels carried in .whl/ (see /work/.library/device/README.md).
#
# SECTIONS picks, in this order, some of (default: speed shapes throughput first-request):
#   speed          the default dream against the Keras example's loop (reverie bench), ~1.5 min
#   shapes         the compiled gradient alone for several tile shapes, deterministic kernels on and off, ~2 min
#   throughput     steps per second on BIG_SIZE, ~1 min
#   first-request  a fresh process's first dream after warm-up, empty then warm compile cache, ~1 min
#   determinism    the default dream again with deterministic kernels off, ~1 min
# BEFORE=path/to/server (an older checkout's server/ folder, carried along) runs speed and throughput
# with that code too, on the same machine: before/after ratios from one card.
# To try it on a CPU, shrink SPEED_SIZE, BIG_SIZE, SHAPES and ROUNDS, and set PYTHON and WHEELS (none: WHEELS=-).
set -uo pipefail
PYTHON=${PYTHON:-python3}
SPEED_SIZE=${SPEED_SIZE:-1024x768}
BIG_SIZE=${BIG_SIZE:-4096x4096}
ROUNDS=${ROUNDS:-5}
WHEELS=${WHEELS:-.whl}
SECTIONS=${SECTIONS:-speed shapes throughput first-request}
SHAPES=${SHAPES:-512x512x1 512x512x4 512x512x16 1024x768x1 1024x1024x1 1024x1024x4}
BEFORE=${BEFORE:-}
if compgen -G "$WHEELS/*.whl" >/dev/null; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$WHEELS"/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
SITE=${PYTHONPATH:-}
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1
CACHE=${XDG_CACHE_HOME:-/tmp/reverie-gpu-check-cache}
rm -rf "$CACHE" "$CACHE-first"
# Runs a command with the given server/ folder first on the path and this run's compile cache.
run_with() { local code=$1; shift; PYTHONPATH="$code${SITE:+:$SITE}" XDG_CACHE_HOME=${CACHE_DIR:-$CACHE} "$@"; }
bench() { run_with "$1" "$PYTHON" -m reverie.cli bench --backend jax "${@:2}" || echo "FAILED: reverie bench ${*:2}"; }
has() { [[ " $SECTIONS " == *" $1 "* ]]; }

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
run_with "$PWD/server" "$PYTHON" -c "import jax, keras; print('jax', jax.__version__, 'keras', keras.__version__, jax.devices())"
if has speed; then
    echo "== default dream $SPEED_SIZE against the Keras example"
    bench "$PWD/server" --size "$SPEED_SIZE" --rounds "$ROUNDS"
    if [[ -n $BEFORE ]]; then
        echo "== the same with the code in $BEFORE"
        bench "$BEFORE" --size "$SPEED_SIZE" --rounds "$ROUNDS"
    fi
fi
if has shapes; then
    for flag in true false; do
        echo "== the compiled gradient alone, deterministic kernels $flag"
        XLA_FLAGS="--xla_gpu_deterministic_ops=$flag" run_with "$PWD/server" "$PYTHON" tests/bench/gradient_shapes.py $SHAPES ||
            echo "FAILED: gradient shapes, deterministic $flag"
    done
fi
if has throughput; then
    echo "== throughput on $BIG_SIZE"
    bench "$PWD/server" --throughput --size "$BIG_SIZE" --steps 10
    if [[ -n $BEFORE ]]; then
        echo "== the same with the code in $BEFORE"
        bench "$BEFORE" --throughput --size "$BIG_SIZE" --steps 10
    fi
fi
if has first-request; then
    echo "== first request after start (fresh processes, a compile cache of their own: empty, then warm)"
    CACHE_DIR="$CACHE-first" bench "$PWD/server" --first-request --size "$SPEED_SIZE"
fi
if has determinism; then
    echo "== default dream $SPEED_SIZE with deterministic kernels off"
    XLA_FLAGS=--xla_gpu_deterministic_ops=false bench "$PWD/server" --size "$SPEED_SIZE" --rounds "$ROUNDS"
fi
