#!/usr/bin/env bash
# Reverie's GPU figures for whole-octave steps on the JAX backend, in one device run (JAX with CUDA there,
# no TensorFlow; Keras carried as wheels, see /work/.library/device/README.md). Run from any folder:
#   CODE=<server/ folder to measure> BEFORE=<older server/ folder> OUT=<logs> bash <this file>
# CODE defaults to the server/ folder beside this script's tests/bench/; the other scripts are this file's
# neighbours. Everything printed also goes to $OUT/gpu_octave.log, the default dream's raw trace to
# $OUT/trace-default/.
#
# SECTIONS runs, in the order given, some of these (default: speed command-buffers first-request trace
# throughput, the issue's figures and the next lever, most important first so that a run cut short still
# returns those; on a fresh H100 they took about 8 minutes, the first section compiling for 3 of them):
#   speed           the default dream (SPEED_SIZE) against the Keras example's warm loop in one process, with
#                   bfloat16 against float32, the nudged-float32 yardstick, seeded repeat (bench.py)
#   first-request   a fresh process: load, warm-up, first default dream, then one at 15/16 of the size
#                   (octaves on buckets the warm-up did not see), with this run's compile cache, warm by now
#   throughput      steps per second on BIG_SIZE (tiles: too large to run whole)
#   trace           a profiler trace of the default dream: device busy share, per compiled function
#   speed-before    speed with the code in BEFORE (ROUNDS_BEFORE rounds)
#   trace-before    the trace with the code in BEFORE (raw trace to $OUT/trace-before/)
#   cancel          how long a cancelled default dream takes to stop
#   tiles-now       the default dream's warm time with CODE, every octave on 512² tiles (the old path)
#   command-buffers the default dream's warm time under each XLA_FLAGS of COMMAND_BUFFER_FLAGS (";"-separated;
#                   by default XLA's own command buffers, the engine's with the step loop added, and the
#                   engine's with independent kernels (an Inception block's branches) run concurrently)
#   whole-big       throughput on BIG_SIZE as one whole image (falls back to tiles if memory runs out)
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
SECTIONS=${SECTIONS:-speed command-buffers first-request trace throughput}
COMMAND_BUFFER_FLAGS=${COMMAND_BUFFER_FLAGS:---xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,DYNAMIC_SLICE_FUSION;--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,DYNAMIC_SLICE_FUSION,CONVOLUTION,WHILE,CONDITIONAL;--xla_gpu_command_buffer_scheduling_mode=CONCURRENT}
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
rm -rf "$CACHE"
run_with() { local code=$1; shift; PYTHONPATH="$code${SITE:+:$SITE}" XDG_CACHE_HOME=$CACHE "$@"; }
# bench.py (beside this file) on the given server/ folder; a folder from before the benchmarks left the package
# (it has reverie/cli_bench.py) is measured by its own `reverie bench`, which fits its engine.
bench() {
    local code=$1; shift
    local harness=("$HERE/bench.py")
    [[ -f $code/reverie/cli_bench.py ]] && harness=(-m reverie.cli bench)
    run_with "$code" "$PYTHON" "${harness[@]}" --backend jax --model "$MODEL" "$@" || echo "FAILED: bench $*"
}
script() { local name=$1; shift; run_with "$CODE" "$PYTHON" "$HERE/$name" "$@" || echo "FAILED: $name $*"; }

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
        speed-before)
            if [[ -n $BEFORE ]]; then bench "$BEFORE" --size "$SPEED_SIZE" --rounds "$ROUNDS_BEFORE"; else echo "(no BEFORE)"; fi
            ;;
        trace-before)
            if [[ -n $BEFORE ]]; then
                run_with "$BEFORE" "$PYTHON" "$HERE/dream_trace.py" --size "$SPEED_SIZE" --model "$MODEL" \
                    --out "$OUT/trace-before" || echo "FAILED: trace with BEFORE"
            else
                echo "(no BEFORE)"
            fi
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
