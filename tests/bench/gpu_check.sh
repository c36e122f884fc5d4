#!/usr/bin/env bash
# Reverie's GPU figures on the JAX backend, for a lent GPU machine (no TensorFlow there; JAX with CUDA is).
# Run from the repository root with the Keras wheels carried in .whl/ (see /work/.library/device/README.md).
# Order matters: the first-request probe runs first, on an empty compile cache, which it then fills.
# To try it on a CPU, shrink SPEED_SIZE, BIG_SIZE and ROUNDS, and set PYTHON and WHEELS (none: WHEELS=-);
# SECTIONS picks some of: first-request speed throughput gradient.
set -uo pipefail
PYTHON=${PYTHON:-python3}
SPEED_SIZE=${SPEED_SIZE:-1024x768}
BIG_SIZE=${BIG_SIZE:-4096x4096}
ROUNDS=${ROUNDS:-5}
WHEELS=${WHEELS:-.whl}
SECTIONS=${SECTIONS:-first-request speed throughput}
if compgen -G "$WHEELS/*.whl" >/dev/null; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$WHEELS"/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD/server${PYTHONPATH:+:$PYTHONPATH}" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/reverie-gpu-check-cache}
rm -rf "$XDG_CACHE_HOME"
bench() { "$PYTHON" -m reverie.cli bench --backend jax "$@" || echo "FAILED: reverie bench $*"; }

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$PYTHON" -c "import jax, keras; print('jax', jax.__version__, 'keras', keras.__version__, jax.devices())"
if [[ $SECTIONS == *first-request* ]]; then
    echo "== first request after start (fresh processes: empty compile cache, then warm)"
    bench --first-request --size "$SPEED_SIZE"
fi
if [[ $SECTIONS == *speed* ]]; then
    echo "== default dream $SPEED_SIZE against the Keras example"
    bench --size "$SPEED_SIZE" --rounds "$ROUNDS"
fi
if [[ $SECTIONS == *throughput* ]]; then
    echo "== throughput on $BIG_SIZE"
    bench --throughput --size "$BIG_SIZE" --steps 10
fi
if [[ $SECTIONS == *gradient* ]]; then
    echo "== the compiled gradient alone, on the device: 16 tiles of 512², deterministic kernels on and off"
    for flag in true false; do
        XLA_FLAGS="--xla_gpu_deterministic_ops=$flag" "$PYTHON" -c "
import time, jax, jax.numpy as jnp
from reverie.engine import load_model
model = load_model('inception_v3', 'random')
layers = model.spec.resolve_layers('keras', None)
gradient = model.gradient_fn(layers, {}, 'auto')
tiles = jnp.asarray(jax.random.uniform(jax.random.key(0), (16, 512, 512, 3), minval=-1, maxval=1))
jax.block_until_ready(gradient.raw(tiles))
started = time.perf_counter()
for _ in range(10):
    out = gradient.raw(tiles)
jax.block_until_ready(out)
seconds = (time.perf_counter() - started) / 10
print(f'deterministic=$flag precision={model.precision(\"auto\")}: {seconds * 1e3:.1f} ms per batch, {16 * 512 * 512 / seconds / 1e6:.0f} MP/s')
" || echo "FAILED: gradient check deterministic=$flag"
    done
fi
