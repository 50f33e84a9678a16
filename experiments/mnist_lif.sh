#!/usr/bin/env bash
# experiments/mnist_lif.sh — issue #2's headline: MNIST 784-100-10, LIF, T = 20, rate-coded
# input, one seed by default. Writes results/mnist_lif.md and regenerates RESULTS.md.
#
#   experiments/mnist_lif.sh [--seed N] [--epochs E]
#
# Run time on the 2-core reference machine: about 2 minutes (30 epochs).
set -eu
cd "$(dirname "$0")/.."
seed=1; epochs=30
while [ $# -gt 0 ]; do
    case "$1" in
        --seed) seed=$2; shift 2;;
        --epochs) epochs=$2; shift 2;;
        *) echo "mnist_lif: unknown option $1" >&2; exit 2;;
    esac
done
make --no-print-directory data all >/dev/null
mkdir -p results/runs
cmd=(build/rel/soma train --data mnist --net 784-100-10 --neuron lif -T 20 --epochs "$epochs" --batch 128
     --lr 2e-3 --schedule cosine --loss mse --optim adamw --weight-decay 0.5 --seed "$seed" --quiet --json
     --metrics "results/runs/mnist_lif_s$seed.metrics.jsonl")
rm -f "results/runs/mnist_lif_s$seed.metrics.jsonl"
t0=$(date +%s)
json=$("${cmd[@]}")
echo "$json" > "results/runs/mnist_lif_s$seed.json"
get() { echo "$json" | grep -o "\"$1\":[-0-9.e]*" | cut -d: -f2; }
{
    echo "## MNIST 784-100-10, LIF, T = 20 (experiments/mnist_lif.sh)"
    echo
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores in $(( ($(date +%s) - t0) / 60 )) min. Command:"
    echo
    echo "    ${cmd[*]}"
    echo
    awk -v a="$(get test_accuracy)" -v b="$(get best_test_accuracy)" -v s="$(get train_samples_per_s)" -v r="$(get peak_rss_mb)" 'BEGIN {
        printf "| thesis | Soma, after the last epoch | Soma, best epoch | training samples/s | peak RSS MB |\n|---|---|---|---|---|\n"
        printf "| 97.96 %% | **%.2f %%** | %.2f %% | %.0f | %.0f |\n", 100 * a, 100 * b, s, r }'
    echo
    echo "Per-epoch metrics: \`results/runs/mnist_lif_s$seed.metrics.jsonl\`."
    echo
} > results/mnist_lif.md
cat results/mnist_lif.md
scripts/make_results.sh
