#!/usr/bin/env bash
# experiments/stats_table.sh — `soma stats` for the MNIST networks of the thesis's fully
# connected table (784-{100,200,400}-10, LIF / bilinear / shunting, T = 20): per-layer firing
# rates, synaptic operations (spikes × fan-out) and an energy estimate beside the equivalent
# ANN. Trains each net with experiments/fc_table.sh's recipe (fewer epochs by default) unless
# its model is already in results/models/, then writes results/stats.md and regenerates
# RESULTS.md.
#
#   experiments/stats_table.sh                    # 2 epochs, sizes 100 200 400
#   experiments/stats_table.sh --epochs 30 --sizes "100 200"
#
# Run time on the 2-core reference machine: about 30 minutes with 2 epochs (training
# dominates; the statistics take a few seconds per model on the 10,000 test images).
set -eu
cd "$(dirname "$0")/.."
epochs=2; sizes="100 200 400"; neurons="lif bilinear shunting"; seed=1
BUILD=${BUILD:-build/rel}
while [ $# -gt 0 ]; do
    case "$1" in
        --epochs) epochs=$2; shift 2;;
        --sizes) sizes=$2; shift 2;;
        --neurons) neurons=$2; shift 2;;
        --seed) seed=$2; shift 2;;
        *) echo "stats_table: unknown option $1" >&2; exit 2;;
    esac
done
make --no-print-directory BUILD="$BUILD" data all >/dev/null
SOMA=$BUILD/soma
mkdir -p results/models results/runs
# experiments/fc_table.sh's recipe
recipe=(-T 20 --epochs "$epochs" --batch 128 --optim adamw --lr 2e-3 --weight-decay 0.5 --schedule cosine --loss mse)
start=$(date +%s)
for size in $sizes; do
    for neuron in $neurons; do
        name="fc_mnist_784-${size}-10_${neuron}_e${epochs}_s${seed}"
        model=results/models/$name.soma
        extra=()
        [ "$neuron" = bilinear ] && extra=(--lambda-init 0.1)
        [ "$neuron" = shunting ] && extra=(--shunt-k 1 --shunt-scale 0.1)
        if [ ! -s "$model" ]; then
            echo "stats_table: training $name" >&2
            $SOMA train --data mnist --net "784-$size-10" --neuron "$neuron" "${recipe[@]}" "${extra[@]}" \
                --seed "$seed" --quiet --save "$model" > /dev/null
        fi
        $SOMA stats "$model" --data mnist --json > "results/runs/stats_$name.json"
    done
done

get() { grep -o "\"$2\":[^,}]*" "$1" | head -1 | cut -d: -f2 | tr -d '"[]'; }
arr() { grep -o "\"$2\":\[[^]]*\]" "$1" | sed 's/.*\[//; s/\]//'; }
md=results/stats.md
{
    echo "## Firing rates, synaptic operations and energy of the MNIST networks (experiments/stats_table.sh)"
    echo
    echo "Measured $(date -u +%Y-%m-%d) with \`experiments/stats_table.sh --epochs $epochs --sizes \"$sizes\"\`: each net trained"
    echo "with the recipe of experiments/fc_table.sh (\`soma train --data mnist --net 784-N-10 --neuron M ${recipe[*]} --seed $seed\`),"
    echo "then \`soma stats MODEL --data mnist\` on the 10,000 test images (rate-coded input, T = 20)."
    echo "Per sample: *rate* = spikes per neuron per time step (hidden / output layer); *SOPs* = synaptic"
    echo "operations, each input spike times its fan-out over all stacked weight sets (bilinear [W | V | V²]: 3N,"
    echo "shunting [W₊ | W₋ | V_p | V_n]: 4N); *neuron MACs* = integration and dynamics per neuron and step; the"
    echo "*equivalent ANN* applies the same weight sets once to analog activations. Energy at 45 nm: 0.9 pJ per"
    echo "accumulate, 4.6 pJ per multiply-accumulate (Horowitz 2014); *synaptic* counts SOPs only, as most papers"
    echo "quote it; the counting rules are in include/soma/inspect.h."
    echo
    echo "| net | neuron | accuracy | rate hidden / out | input spikes | SOPs | neuron MACs | ANN MACs | SNN µJ (synaptic) | SNN µJ (total) | ANN µJ | SNN / ANN |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for size in $sizes; do
        for neuron in $neurons; do
            f="results/runs/stats_fc_mnist_784-${size}-10_${neuron}_e${epochs}_s${seed}.json"
            [ -s "$f" ] || continue
            awk -v net="784-$size-10" -v neuron="$neuron" -v acc="$(get "$f" accuracy)" -v rates="$(arr "$f" firing_rate)" \
                -v ev="$(arr "$f" in_events)" -v sops="$(get "$f" total_sops)" -v nm="$(get "$f" total_neuron_macs)" \
                -v ann="$(get "$f" total_ann_macs)" -v es="$(get "$f" total_syn_energy_pj)" -v et="$(get "$f" total_energy_pj)" \
                -v ea="$(get "$f" total_ann_energy_pj)" 'BEGIN {
                    split(rates, r, ","); split(ev, e, ",")
                    printf "| %s | %s | %.2f %% | %.3f / %.3f | %.0f | %.0fk | %.1fk | %.0fk | %.3f | %.3f | %.3f | %.2f |\n",
                        net, neuron, 100 * acc, r[1], r[2], e[1], sops / 1e3, nm / 1e3, ann / 1e3, es / 1e6, et / 1e6, ea / 1e6, et / ea }'
        done
    done
    echo
    f="results/runs/stats_fc_mnist_784-100-10_bilinear_e${epochs}_s${seed}.json"
    if [ -s "$f" ]; then
        echo "The full output for 784-100-10 bilinear (\`soma stats results/models/fc_mnist_784-100-10_bilinear_e${epochs}_s${seed}.soma --data mnist\`):"
        echo
        echo '```'
        $SOMA stats "results/models/fc_mnist_784-100-10_bilinear_e${epochs}_s${seed}.soma" --data mnist
        echo '```'
        echo
    fi
} > "$md"
cat "$md"
echo "stats_table: $(( ($(date +%s) - start) / 60 )) minutes" >&2
scripts/make_results.sh
