#!/usr/bin/env bash
# Reverie's GPU figures on the JAX backend, for a lent GPU machine (no TensorFlow there; JAX with CUDA is).
# Run from the repository root with the Keras wheels carried in .whl/ (see /work/.library/device/README.md).
#
# SECTIONS runs, in the order given, some of (default: speed trace throughput first-request timeline shapes):
#   speed              the default dream against the Keras example's loop (bench.py), ~1.5 min
#   trace              a profiler trace of the default dream and of BIG_SIZE (one octave, 3 steps): device
#                      busy and idle time, kernels, host dispatches (dream_trace.py); the raw traces go to
#                      $OUT/trace-default and $OUT/trace-big when OUT is set, ~1 min
#   shapes             the compiled gradient alone for each of SHAPES, with the engine's own compile options,
#                      then again under each XLA_FLAGS of SHAPE_FLAGS (";"-separated; by default without
#                      CUDA graphs, to see how much kernel launches cost a small call), ~1.5 min
#   throughput         steps per second on BIG_SIZE, ~30 s
#   timeline           where a warm default dream's time goes, octave by octave (dream_timeline.py), ~40 s
#   first-request      a fresh process's first dream after warm-up, empty then warm compile cache, ~1 min
#                      (FIRST_REQUEST_CACHE=shared: this run's cache, already filled by earlier sections)
#   policies           the default dream with each JAX tile policy of POLICIES (TILExBATCH), ~30 s each
#   speed-before       speed with the code in BEFORE (an older checkout's server/ folder, carried along)
#   throughput-before  throughput with the code in BEFORE: before/after ratios from one card
#   shapes-before      shapes with the code in BEFORE, its own settings
# Sections are ordered by what matters most, so a run cut short still returns the first ones.
# To try it on a CPU, shrink SPEED_SIZE, BIG_SIZE, SHAPES and ROUNDS, and set PYTHON and WHEELS (none: WHEELS=-).
set -uo pipefail
PYTHON=${PYTHON:-python3}
SPEED_SIZE=${SPEED_SIZE:-1024x768}
BIG_SIZE=${BIG_SIZE:-4096x4096}
ROUNDS=${ROUNDS:-5}
WHEELS=${WHEELS:-.whl}
SECTIONS=${SECTIONS:-speed trace throughput first-request timeline shapes}
SHAPES=${SHAPES:-512x512x1 512x512x2 512x512x4 512x512x16 512x512x32 512x512x64 1024x1024x4 1024x768x1}
SHAPE_FLAGS=${SHAPE_FLAGS:---xla_gpu_enable_command_buffer=}
FIRST_REQUEST_CACHE=${FIRST_REQUEST_CACHE:-own}
POLICIES=${POLICIES:-512x64}
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
# tests/bench/bench.py on the given server/ folder; a folder from before the benchmarks left the package (it has
# reverie/cli_bench.py) is measured by its own `reverie bench`, which fits its engine.
bench() {
    local code=$1; shift
    local harness=(tests/bench/bench.py)
    [[ -f $code/reverie/cli_bench.py ]] && harness=(-m reverie.cli bench)
    run_with "$code" "$PYTHON" "${harness[@]}" --backend jax "$@" || echo "FAILED: bench $*"
}
# Runs the gradient-shapes timing with the given server/ folder, then any arguments.
gradient_shapes() {
    run_with "$1" "$PYTHON" tests/bench/gradient_shapes.py "${@:2}" || echo "FAILED: gradient shapes with $1 ${XLA_FLAGS:-}"
}
before() { [[ -n $BEFORE ]] || { echo "(no BEFORE given)"; return 1; }; }

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
run_with "$PWD/server" "$PYTHON" -c "import jax, keras; print('jax', jax.__version__, 'keras', keras.__version__, jax.devices())"
for section in $SECTIONS; do
    started=$SECONDS
    echo "== $section"
    case $section in
        speed) bench "$PWD/server" --size "$SPEED_SIZE" --rounds "$ROUNDS" ;;
        shapes)
            gradient_shapes "$PWD/server" $SHAPES
            IFS=';' read -ra flag_sets <<<"$SHAPE_FLAGS"
            for flags in "${flag_sets[@]}"; do
                echo "-- XLA_FLAGS=$flags"
                XLA_FLAGS=$flags gradient_shapes "$PWD/server" $SHAPES
            done
            ;;
        shapes-before) before && gradient_shapes "$BEFORE" $SHAPES ;;
        throughput) bench "$PWD/server" --throughput --size "$BIG_SIZE" --steps 10 ;;
        trace)
            traces=${OUT:-/tmp/reverie-gpu-check-traces}
            run_with "$PWD/server" "$PYTHON" tests/bench/dream_trace.py --size "$SPEED_SIZE" \
                --out "$traces/trace-default" || echo "FAILED: trace, default dream"
            run_with "$PWD/server" "$PYTHON" tests/bench/dream_trace.py --size "$BIG_SIZE" --octaves 1 --steps 3 \
                --out "$traces/trace-big" || echo "FAILED: trace, $BIG_SIZE"
            ;;
        timeline) run_with "$PWD/server" "$PYTHON" tests/bench/dream_timeline.py --size "$SPEED_SIZE" || echo "FAILED: timeline" ;;
        first-request)
            [[ $FIRST_REQUEST_CACHE == shared ]] && first_cache=$CACHE || first_cache=$CACHE-first
            CACHE_DIR=$first_cache bench "$PWD/server" --first-request --size "$SPEED_SIZE"
            ;;
        policies)
            for policy in $POLICIES; do
                run_with "$PWD/server" "$PYTHON" tests/bench/tile_policy.py "$policy" --size "$SPEED_SIZE" \
                    --rounds "$ROUNDS" || echo "FAILED: tile policy $policy"
                run_with "$PWD/server" "$PYTHON" tests/bench/tile_policy.py "$policy" --throughput \
                    --size "$BIG_SIZE" --steps 10 || echo "FAILED: tile policy $policy, throughput"
            done
            ;;
        speed-before) before && bench "$BEFORE" --size "$SPEED_SIZE" --rounds "$ROUNDS" ;;
        throughput-before) before && bench "$BEFORE" --throughput --size "$BIG_SIZE" --steps 10 ;;
        *) echo "unknown section $section" ;;
    esac
    echo "== $section took $((SECONDS - started)) s"
done
