#!/usr/bin/env bash
# scripts/make_plots.sh — regenerates the example plots in docs/images/ from a trained MNIST
# bilinear network: spike raster, membrane traces, firing-rate histograms, training curves.
#
#   scripts/make_plots.sh                         # trains 784-100-10 bilinear for 3 epochs first
#   scripts/make_plots.sh MODEL.soma [METRICS]    # plots an existing model (and its metrics log)
#   PNG=1 scripts/make_plots.sh                   # also PNG screenshots (needs headless Chromium)
#
# Training takes about 2 minutes on the 2-core reference machine; the plots a few seconds.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/rel}
make --no-print-directory BUILD="$BUILD" data all >/dev/null
SOMA=$BUILD/soma
out=docs/images
mkdir -p "$out"
model=${1:-}
metrics=${2:-}
if [ -z "$model" ]; then
    model=$BUILD/plots/mnist_bilinear.soma
    metrics=$out/mnist_bilinear_metrics.jsonl
    mkdir -p "$(dirname "$model")"
    rm -f "$metrics" "$model"
    echo "make_plots: training 784-100-10 bilinear (3 epochs) -> $model, metrics -> $metrics" >&2
    $SOMA train --data mnist --net 784-100-10 --neuron bilinear --lambda-init 0.1 -T 20 --epochs 3 --batch 128 \
        --optim adamw --lr 2e-3 --weight-decay 0.5 --schedule cosine --loss mse --seed 1 \
        --metrics "$metrics" --metrics-every 40 --save "$model" --quiet
fi
$SOMA plot raster "$model" --data mnist --sample 0 --out "$out/raster.svg"
$SOMA plot membrane "$model" --data mnist --sample 0 --layer 0 --top 4 --out "$out/membrane.svg"
$SOMA plot rates "$model" --data mnist --max-test 10000 --out "$out/rates.svg"
if [ -n "$metrics" ]; then
    $SOMA plot curves --metrics "$metrics" --title "Training curves: MNIST 784-100-10 bilinear, T = 20" --out "$out/curves.svg"
fi
if [ "${PNG:-0}" = 1 ]; then
    chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
    if [ -z "$chrome" ]; then
        echo "make_plots: no headless Chromium for PNGs (apt-get install -y chromium)" >&2
    else
        prof=$(mktemp -d)
        for f in "$out"/*.svg; do
            h=$(grep -o 'height="[0-9]*"' "$f" | head -1 | tr -dc 0-9)
            w=$(grep -o 'width="[0-9]*"' "$f" | head -1 | tr -dc 0-9)
            timeout 60 "$chrome" --headless --no-sandbox --disable-gpu --disable-background-networking \
                --disable-component-update --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$prof" \
                --window-size="$w,$h" --screenshot="${f%.svg}.png" "file://$PWD/$f" 2>/dev/null
        done
        rm -rf "$prof"
    fi
fi
ls -l "$out"
