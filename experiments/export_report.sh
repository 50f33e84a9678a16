#!/usr/bin/env bash
# experiments/export_report.sh — standalone C inference of the MNIST 784-100-10 networks:
# exports each trained model as C99 (float and int8), compiles it, runs it on the 10,000 test
# images against soma eval, and reports code size, RAM, single-sample latency and the
# accuracy change. Writes results/export.md and regenerates RESULTS.md.
#
#   experiments/export_report.sh                 # the models experiments/stats_table.sh trained
#   experiments/export_report.sh --epochs 30     # models of another training length
#
# Models come from results/models/fc_mnist_784-100-10_<neuron>_e<epochs>_s1.soma; a missing
# one is trained first (experiments/fc_table.sh's recipe). Run time: about 2 minutes plus
# training.
set -eu
cd "$(dirname "$0")/.."
epochs=2; neurons="bilinear lif shunting"; n_test=10000
BUILD=${BUILD:-build/rel}
CC=${CC:-cc}
while [ $# -gt 0 ]; do
    case "$1" in
        --epochs) epochs=$2; shift 2;;
        --neurons) neurons=$2; shift 2;;
        --max-test) n_test=$2; shift 2;;
        *) echo "export_report: unknown option $1" >&2; exit 2;;
    esac
done
[ "${NO_MAKE:-0}" = 1 ] || make --no-print-directory BUILD="$BUILD" data all >/dev/null
SOMA=$BUILD/soma
work=$BUILD/export_report
rm -rf "$work"
mkdir -p "$work" results/models
recipe=(-T 20 --epochs "$epochs" --batch 128 --optim adamw --lr 2e-3 --weight-decay 0.5 --schedule cosine --loss mse)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
rows=()
for neuron in $neurons; do
    model=results/models/fc_mnist_784-100-10_${neuron}_e${epochs}_s1.soma
    if [ ! -s "$model" ]; then
        extra=()
        [ "$neuron" = bilinear ] && extra=(--lambda-init 0.1)
        [ "$neuron" = shunting ] && extra=(--shunt-k 1 --shunt-scale 0.1)
        echo "export_report: training $model" >&2
        $SOMA train --data mnist --net 784-100-10 --neuron "$neuron" "${recipe[@]}" "${extra[@]}" --seed 1 --quiet \
            --save "$model" > /dev/null
    fi
    for mode in float int8; do
        name=mnist_${neuron}_$mode
        flag=(); [ $mode = int8 ] && flag=(--int8)
        echo "export_report: $name" >&2
        $SOMA export "$model" --c "$work" --name "$name" "${flag[@]}" --data mnist --max-test "$n_test" \
            --testvec "$work/$name.vec" --json > "$work/$name.json"
        # the exported code alone, as a microcontroller build would take it
        $CC -std=c99 -pedantic -Wall -Wextra -Werror -ffreestanding -O2 -c "$work/$name.c" -o "$work/$name.o"
        text=$(size -A "$work/$name.o" | awk '$1 == ".text" { print $2 }')
        rodata=$(size -A "$work/$name.o" | awk '$1 ~ /^\.rodata/ { s += $2 } END { print s + 0 }')
        upper=$(echo "$name" | tr a-z A-Z)
        for opt in O2 O3; do
            $CC -std=c99 -D_POSIX_C_SOURCE=200809L -$opt -Wall -Wextra -Werror -I"$work" -DXNAME="$name" -DXUPPER="$upper" \
                -DXHEADER="\"$name.h\"" tests/export_harness.c "$work/$name.c" -o "$work/$name.$opt.bin" -lm
            "$work/$name.$opt.bin" "$work/$name.vec" 3 > "$work/$name.$opt.out"
            cat "$work/$name.$opt.out" >&2
        done
        j=$(cat "$work/$name.json"); h=$(cat "$work/$name.O2.out"); h3=$(cat "$work/$name.O3.out")
        jget() { echo "$j" | grep -o "\"$1\":[^,}]*" | cut -d: -f2; }
        hget() { echo "$h" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
        rows+=("$(awk -v neuron="$neuron" -v mode="$mode" -v ea="$(jget eval_accuracy)" -v xa="$(hget acc_export)" \
            -v same="$(hget class_eval)" -v n="$(hget n)" -v exact="$(hget exact_eval)" -v text="$text" -v ro="$rodata" \
            -v ram="$(hget state_bytes)" -v src="$(jget source_bytes)" -v us="$(hget us_per_sample)" \
            -v us3="$(echo "$h3" | sed -n 's/.* us_per_sample=\([^ ]*\).*/\1/p')" 'BEGIN {
                printf "| %s | %s | %.2f %% | %.2f %% | %+.2f | %s / %s | %s | %.1f | %.1f | %d | %.1f | %.0f / %.0f |", neuron, mode,
                    100 * ea, 100 * xa, 100 * (xa - ea), same, n, exact, text / 1024, ro / 1024, ram, src / 1048576, us, us3 }')")
    done
done
md=results/export.md
{
    echo "## Standalone C inference of the MNIST 784-100-10 networks (experiments/export_report.sh)"
    echo
    echo "Measured $(date -u +%Y-%m-%d) with \`experiments/export_report.sh --epochs $epochs\` on $cpu. Each model"
    echo "(trained by experiments/stats_table.sh's recipe, $epochs epochs) is exported with"
    echo "\`soma export MODEL --c DIR [--int8] --data mnist --testvec V\`, the generated C99 is compiled alone with"
    echo "\`$CC -std=c99 -pedantic -Wall -Wextra -Werror -ffreestanding -O2 -c\` (code size) and with"
    echo "tests/export_harness.c at -O2, which runs it on the first $n_test test images and compares with soma eval."
    echo
    echo "*Same class*: predictions equal to soma eval's; *bit-exact*: all 10 logits bitwise equal to soma eval's"
    echo "(float mode reproduces Soma's event-driven arithmetic; see include/soma/export.h). *Code* is .text,"
    echo "*weights* the constant data (.rodata), *RAM* the whole state struct (membranes, synaptic sums, the encoded"
    echo "input buffer) — nothing is allocated. *Latency* is one sample (rate encoding + T = 20 steps + readout),"
    echo "single-threaded, mean over 3 passes of the test images, harness built at -O2 / -O3 (GCC vectorises the int8"
    echo "→ int32 widening sums only at -O3). The machine is shared: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
    echo "when the report was written, so latencies carry some noise."
    echo
    echo "| neuron | weights | soma eval | exported | change (points) | same class | bit-exact | code KB | weights KB | RAM bytes | source MB | latency µs -O2 / -O3 |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for r in "${rows[@]}"; do echo "$r"; done
    echo
} > "$md"
cat "$md"
scripts/make_results.sh
