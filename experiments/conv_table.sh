#!/usr/bin/env bash
# experiments/conv_table.sh — the thesis's convolutional rows: 32C3-P2-32C3-P2-128-10 with LIF,
# bilinear and shunting integration, T = 20, on MNIST and Fashion-MNIST, beside the thesis's
# values. Writes results/conv_table_<dataset>.md (one JSON line per finished run in
# results/runs/), then regenerates RESULTS.md.
#
#   experiments/conv_table.sh                          # MNIST, 1 seed, 30 epochs
#   experiments/conv_table.sh --dataset fashion
#   experiments/conv_table.sh --neurons lif --epochs 1 --max-train 6000 --tag sanity
#                                   (tagged runs: table in results/tmp/, not in RESULTS.md)
#
# Resuming: each run writes a checkpoint after every epoch (cache/runs/<name>.ckpt). Run the
# same command again after an interruption: finished runs are skipped, an unfinished one
# continues from its last finished epoch (the result is the same as an uninterrupted run's:
# shuffling, encoding and the schedule depend only on seed and epoch).
#
# Run time on the 2-core reference machine (both cores, nothing else running): see the
# "s / epoch" column of the table; a 30-epoch run at T = 20 takes hours, six of them a day.
set -eu
cd "$(dirname "$0")/.."
dataset=mnist; seeds=1; epochs=30; neurons="lif bilinear shunting"; max_train=0; tag=""
while [ $# -gt 0 ]; do
    case "$1" in
        --dataset) dataset=$2; shift 2;;
        --seeds) seeds=$2; shift 2;;
        --epochs) epochs=$2; shift 2;;
        --neurons) neurons=$2; shift 2;;
        --max-train) max_train=$2; shift 2;;
        --tag) tag=_$2; shift 2;;
        *) echo "conv_table: unknown option $1" >&2; exit 2;;
    esac
done
if [ -z "${SOMA:-}" ]; then # SOMA=path/to/soma runs another build
    make --no-print-directory data all >/dev/null
    SOMA=build/rel/soma
fi
runs=results/runs
[ -n "$tag" ] && runs=results/tmp/runs # tagged (sanity) runs stay out of the committed results
mkdir -p "$runs" cache/runs
net=32C3-P2-32C3-P2-128-10

# The recipe (same for every neuron): direct encoding (the image is the input current at every
# step; the first conv runs once per image), T = 20, padding 1, conv -> max pool of the current
# -> LIF u = 0.5u + i, threshold 0.5 (with threshold 1 the shunting net starts silent: its gates
# start at σ(0) = ½ and halve the current of [0, 1] pixels; 0.5 also trains LIF and bilinear
# faster in short runs), hard reset, sigmoid surrogate (slope 4), spiking output
# read out by its rate, MSE to the one-hot target, Adam lr 1e-3 with a cosine schedule, batch
# 64. λ₀ = 0.01 and shunting scale 0.1 on MNIST, 0.01 on Fashion-MNIST (the thesis's initial
# values for its conv nets); shunting k = 1.
recipe=(-T 20 --encoder direct --threshold 0.5 --epochs "$epochs" --batch 64 --optim adam
        --lr 1e-3 --schedule cosine --loss mse)
[ "$max_train" -gt 0 ] && recipe+=(--max-train "$max_train")
scale=0.1; [ "$dataset" = fashion ] && scale=0.01
extra_bilinear=(--lambda-init 0.01)
extra_shunting=(--shunt-k 1 --shunt-scale "$scale")

thesis() { # dataset neuron -> value or "—"
    case "$1/$2" in
        mnist/lif) echo 99.41;; mnist/bilinear) echo 99.48;; mnist/shunting) echo 99.46;;
        fashion/lif) echo 91.12;; fashion/bilinear) echo 91.41;; fashion/shunting) echo 91.26;;
        *) echo "—";;
    esac
}

start=$(date +%s)
for neuron in $neurons; do
    for seed in $(seq 1 "$seeds"); do
        name="conv_${dataset}_${net}_${neuron}_e${epochs}_s${seed}${tag}"
        out="$runs/$name.json" ckpt="cache/runs/$name.ckpt"
        # An unfinished run's metrics and wall time stay beside its checkpoint in cache/ (kept
        # across clones and sessions); both move to $runs when the run is done.
        metrics="cache/runs/$name.metrics.jsonl" wallf="cache/runs/$name.wall"
        [ -s "$out" ] && continue
        extra=()
        [ "$neuron" = bilinear ] && extra=("${extra_bilinear[@]}")
        [ "$neuron" = shunting ] && extra=("${extra_shunting[@]}")
        resume=()
        if [ -s "$ckpt" ]; then
            resume=(--resume "$ckpt")
            echo "conv_table: $name (resuming from $ckpt)" >&2
        else
            rm -f "$metrics" "$wallf"
            echo "conv_table: $name" >&2
        fi
        # wall time summed over every session of this run (an interrupted one leaves $wallf)
        prev=$(cat "$wallf" 2>/dev/null || echo 0)
        t0=$(date +%s)
        trap 'echo $(( prev + $(date +%s) - t0 )) > "$wallf"; exit 130' INT TERM
        if ! $SOMA train --data "$dataset" --net "$net" --neuron "$neuron" "${recipe[@]}" "${extra[@]}" \
            --seed "$seed" --save "$ckpt" --metrics "$metrics" "${resume[@]}" --quiet --json > "$out.log"; then
            echo $(( prev + $(date +%s) - t0 )) > "$wallf"
            exit 1
        fi
        trap - INT TERM
        grep '^{' "$out.log" > "$out.tmp" # the JSON line (stdout also has a "test accuracy" line)
        rm -f "$out.log"
        wall=$(( prev + $(date +%s) - t0 ))
        # per-epoch numbers from the metrics file (one line per epoch, across sessions)
        per_epoch=$(awk '/"type":"epoch"/ { if (match($0, /"train_seconds":[-0-9.e]+/)) { s += substr($0, RSTART + 16, RLENGTH - 16); n++ } }
                         END { printf "%.1f", n ? s / n : 0 }' "$metrics")
        best=$(awk '/"type":"epoch"/ { if (match($0, /"test_accuracy":[-0-9.e]+/)) { v = substr($0, RSTART + 16, RLENGTH - 16) + 0; if (v > b) b = v } }
                    END { printf "%.6f", b }' "$metrics")
        sed -i "s/}\$/,\"wall_seconds\":$wall,\"train_seconds_per_epoch\":$per_epoch,\"best_test_accuracy_all_epochs\":$best}/" "$out.tmp"
        mv "$out.tmp" "$out"
        mv "$metrics" "$runs/$name.metrics.jsonl"
        rm -f "$wallf"
    done
done

label=MNIST; [ "$dataset" = fashion ] && label=Fashion-MNIST
md=results/conv_table_$dataset.md
[ -n "$tag" ] && mkdir -p results/tmp && md=results/tmp/conv_table_$dataset$tag.md # not in RESULTS.md
{
    echo "## Convolutional networks on $label, T = 20 (experiments/conv_table.sh)"
    echo
    echo "Measured $(date -u +%Y-%m-%d); command: \`experiments/conv_table.sh --dataset $dataset --seeds $seeds --epochs $epochs --neurons \"$neurons\"$( [ "$max_train" -gt 0 ] && echo " --max-train $max_train")$( [ -n "$tag" ] && echo " --tag ${tag#_}")\`."
    echo "Recipe: \`soma train --data $dataset --net $net --neuron M ${recipe[*]}\`, bilinear \`${extra_bilinear[*]}\`, shunting \`${extra_shunting[*]}\`."
    echo "Accuracy is the test accuracy after the last epoch (mean ± std over seeds) and the best epoch's."
    echo
    echo "| net | neuron | thesis | Soma (final) | Soma (best epoch) | seeds | train samples/s | s / epoch (train) | minutes per run |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for neuron in $neurons; do
        files=("$runs"/conv_${dataset}_${net}_${neuron}_e${epochs}_s*${tag}.json)
        [ -e "${files[0]}" ] || continue
        cat "${files[@]}" | awk -v net="$net" -v neuron="$neuron" -v thesis="$(thesis "$dataset" "$neuron")" '
            function num(key,   m) { if (match($0, "\"" key "\":[-0-9.e]+")) { m = substr($0, RSTART, RLENGTH); sub(/.*:/, "", m); return m + 0 } return 0 }
            { a[NR] = 100 * num("test_accuracy"); b[NR] = 100 * num("best_test_accuracy_all_epochs"); s += num("train_samples_per_s")
              e += num("train_seconds_per_epoch"); w += num("wall_seconds") }
            END { n = NR; for (i = 1; i <= n; i++) { ma += a[i]; mb += b[i] } ma /= n; mb /= n
                  for (i = 1; i <= n; i++) { va += (a[i] - ma)^2; vb += (b[i] - mb)^2 }
                  sa = n > 1 ? sqrt(va / (n - 1)) : 0; sb = n > 1 ? sqrt(vb / (n - 1)) : 0
                  printf "| %s | %s | %s | %.2f ± %.2f | %.2f ± %.2f | %d | %.0f | %.0f | %.1f |\n", net, neuron, thesis, ma, sa, mb, sb, n, s / n, e / n, w / n / 60 }'
    done
    echo
} > "$md"
cat "$md"
echo "conv_table: $(( ($(date +%s) - start) / 60 )) minutes" >&2
[ -z "$tag" ] && scripts/make_results.sh
exit 0
