#!/usr/bin/env bash
# Reverie's GPU figures for whole-octave steps on the JAX backend, in one device run (JAX with CUDA there,
# no TensorFlow; Keras carried as wheels, see /work/.library/device/README.md). Run from any folder:
#   CODE=<server/ folder to measure> BEFORE=<older server/ folder> OUT=<logs> bash <this file>
# CODE defaults to the server/ folder beside this script's tests/bench/; the other scripts are this file's
# neighbours. Everything printed also goes to $OUT/gpu_octave.log, the default dream's raw trace to
# $OUT/trace-default/.
#
# SECTIONS runs, in the order given, some of these (default: speed first-request trace throughput
# command-buffers whole-big, the issue's figures and then the next levers, most important first so that a run
# cut short still returns those; on a fresh H100 the first five took about 7 minutes, the first section
# compiling for 3 of them):
#   speed           the default dream (SPEED_SIZE) against the Keras example's warm loop in one process, with
#                   bfloat16 against float32, the nudged-float32 yardstick, seeded repeat (bench.py)
#   first-request   a fresh process: load, warm-up, first default dream, then one at 15/16 of the size (a size
#                   not seen before, in the same bucket) and one the other way up, with how many functions
#                   each traced, with this run's compile cache, warm by now
#   throughput      steps per second on BIG_SIZE (tiles: too large to run whole)
#   trace           a profiler trace of the default dream: device busy share, per compiled function
#   speed-before    speed with the code in BEFORE (ROUNDS_BEFORE rounds)
#   trace-before    the trace with the code in BEFORE (raw trace to $OUT/trace-before/)
#   cancel          how long a cancelled default dream takes to stop
#   tiles-now       the default dream's warm time with CODE, every octave on 512² tiles (the old path)
#   command-buffers the default dream's warm time under each XLA_FLAGS of COMMAND_BUFFER_FLAGS (";"-separated;
#                   by default the engine's with the step loop added, and the engine's with independent
#                   kernels (an Inception block's branches) run concurrently; XLA's own gave 0.282 s on the H100)
#   whole-big       throughput on BIG_SIZE as one whole image (falls back to tiles if memory runs out)
#   trace-big       a profiler trace of BIG_SIZE, one octave of 3 steps (raw trace to $OUT/trace-big/)
#   timeline        where a warm default dream's time goes, octave by octave (dream_timeline.py)
#   first-request-cold  bench.py's first request: a fresh process with an empty compile cache of its own,
#                   then another with that cache
#   shapes          the compiled gradient alone for each of SHAPES, with the engine's compile options, then
#                   under each XLA_FLAGS of SHAPE_FLAGS (";"-separated; by default without CUDA graphs)
#   policies        the default dream and BIG_SIZE's throughput with each JAX tile policy of POLICIES
#   throughput-before, shapes-before   throughput, shapes with the code in BEFORE
# On a CPU, to check the script: SPEED_SIZE=320x240 BIG_SIZE=512x512 MODEL=mobilenet ROUNDS=1 PYTHON=... WHEELS=-
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CODE=$(cd "${CODE:-$HERE/../../server}" && pwd)
BEFORE=${BEFORE:+$(cd "$BEFORE" && pwd)}
PYTHON=${PYTHON:-python3}
SPEED_SIZE=${SPEED_SIZE:-1024x768}
BIG_SIZE=${BIG_SIZE:-4096x4096}
MODEL=${MODEL:-inception_v3}
ROUNDS=${ROUNDS:-5}
ROUNDS_BEFORE=${ROUNDS_BEFORE:-3}
WHEELS=${WHEELS:-.whl}
SECTIONS=${SECTIONS:-speed first-request trace throughput command-buffers whole-big}
COMMAND_BUFFER_FLAGS=${COMMAND_BUFFER_FLAGS:---xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,DYNAMIC_SLICE_FUSION,CONVOLUTION,WHILE,CONDITIONAL;--xla_gpu_command_buffer_scheduling_mode=CONCURRENT}
SHAPES=${SHAPES:-512x512x1 512x512x2 512x512x4 512x512x16 512x512x32 512x512x64 1024x1024x4 1024x768x1}
SHAPE_FLAGS=${SHAPE_FLAGS:---xla_gpu_enable_command_buffer=}
POLICIES=${POLICIES:-512x64}
OUT=${OUT:-/tmp/reverie-gpu-octave}
mkdir -p "$OUT"
LOG=$OUT/gpu_octave.log
exec > >(tee -a "$LOG") 2>&1
if compgen -G "$WHEELS/*.whl" >/dev/null; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$WHEELS"/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
SITE=${PYTHONPATH:-}
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
# One compile cache for the whole run: later sections find what earlier ones compiled, as a server's
# restart finds its machine's cache.
CACHE=${XDG_CACHE_HOME:-/tmp/reverie-gpu-octave-cache}
rm -rf "$CACHE" "$CACHE-first"
# A command with the given server/ folder first on the path, and this run's compile cache (or CACHE_DIR).
run_with() { local code=$1; shift; PYTHONPATH="$code${SITE:+:$SITE}" XDG_CACHE_HOME=${CACHE_DIR:-$CACHE} "$@"; }
# bench.py (beside this file) on the given server/ folder; a folder from before the benchmarks left the package
# (it has reverie/cli_bench.py) is measured by its own `reverie bench`, which fits its engine.
bench() {
    local code=$1; shift
    local harness=("$HERE/bench.py")
    [[ -f $code/reverie/cli_bench.py ]] && harness=(-m reverie.cli bench)
    run_with "$code" "$PYTHON" "${harness[@]}" --backend jax --model "$MODEL" "$@" || echo "FAILED: bench $*"
}
script() { local name=$1; shift; run_with "$CODE" "$PYTHON" "$HERE/$name" "$@" || echo "FAILED: $name $*"; }
# The compiled gradient's timing for each of SHAPES, with the given server/ folder.
shapes() { run_with "$1" "$PYTHON" "$HERE/gradient_shapes.py" $SHAPES --model "$MODEL" || echo "FAILED: shapes with $1 ${XLA_FLAGS:-}"; }
before() { [[ -n $BEFORE ]] || { echo "(no BEFORE)"; return 1; }; }

echo "code: $CODE  before: ${BEFORE:-none}  started $(date -u +%H:%M:%S)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
run_with "$CODE" "$PYTHON" -c "import jax, keras; print('jax', jax.__version__, 'keras', keras.__version__, jax.devices())"
for section in $SECTIONS; do
    started=$SECONDS
    echo "== $section"
    case $section in
        speed) bench "$CODE" --size "$SPEED_SIZE" --rounds "$ROUNDS" ;;
        first-request)
            script probe.py first-request "$SPEED_SIZE" --model "$MODEL"
            ;;
        throughput) bench "$CODE" --throughput --size "$BIG_SIZE" --steps 10 ;;
        trace) script dream_trace.py --size "$SPEED_SIZE" --model "$MODEL" --out "$OUT/trace-default" ;;
        speed-before) before && bench "$BEFORE" --size "$SPEED_SIZE" --rounds "$ROUNDS_BEFORE" ;;
        trace-before)
            before && { run_with "$BEFORE" "$PYTHON" "$HERE/dream_trace.py" --size "$SPEED_SIZE" --model "$MODEL" \
                --out "$OUT/trace-before" || echo "FAILED: trace with BEFORE"; }
            ;;
        throughput-before) before && bench "$BEFORE" --throughput --size "$BIG_SIZE" --steps 10 ;;
        trace-big) script dream_trace.py --size "$BIG_SIZE" --octaves 1 --steps 3 --model "$MODEL" --out "$OUT/trace-big" ;;
        timeline) script dream_timeline.py --size "$SPEED_SIZE" --model "$MODEL" ;;
        first-request-cold) CACHE_DIR=$CACHE-first bench "$CODE" --first-request --size "$SPEED_SIZE" ;;
        shapes)
            shapes "$CODE"
            IFS=';' read -ra flag_sets <<<"$SHAPE_FLAGS"
            for flags in "${flag_sets[@]}"; do
                echo "-- XLA_FLAGS=$flags"
                XLA_FLAGS=$flags shapes "$CODE"
            done
            ;;
        shapes-before) before && shapes "$BEFORE" ;;
        policies)
            for policy in $POLICIES; do
                script tile_policy.py "$policy" --size "$SPEED_SIZE" --rounds "$ROUNDS" --model "$MODEL"
                script tile_policy.py "$policy" --throughput --size "$BIG_SIZE" --steps 10 --model "$MODEL"
            done
            ;;
        cancel) script cancel_latency.py --size "$SPEED_SIZE" --model "$MODEL" --tries 4 --spread 0.1 ;;
        tiles-now) script dream_speed.py --size "$SPEED_SIZE" --model "$MODEL" --policy 512x16+0 ;;
        command-buffers)
            IFS=';' read -ra flag_sets <<<"$COMMAND_BUFFER_FLAGS"
            for flags in "${flag_sets[@]}"; do
                XLA_FLAGS=$flags script dream_speed.py --size "$SPEED_SIZE" --model "$MODEL"
            done
            ;;
        whole-big)
            side=${BIG_SIZE%%x*}
            script tile_policy.py "512x16+$side" --throughput --size "$BIG_SIZE" --steps 10 --model "$MODEL"
            ;;
        *) echo "unknown section $section" ;;
    esac
    echo "== $section took $((SECONDS - started)) s"
done
echo "finished $(date -u +%H:%M:%S)"
