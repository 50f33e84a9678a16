#!/usr/bin/env bash
# experiments/cifar_smoke.sh — the CIFAR-10 code path end to end: PLIF-Net (T = 8) and
# MPBN-ResNet-20 (T = 4), written in the notation as docs/conv_nets.md derives them, train on
# CIFAR-10-format data and are evaluated. Real CIFAR-10 (the binary version) is used when
# cache/cifar10/ has it; otherwise scripts/gen_cifar_like.sh writes a small synthetic set in
# the same format. Writes results/cifar_smoke.md (results/cifar_smoke_w<width>.md for --width).
#
#   experiments/cifar_smoke.sh                       # full-width nets, a short run each
#   experiments/cifar_smoke.sh --width 4 --train 2000 --epochs 3    # nets 1/4 as wide, longer
#
# This checks that the nets build, run forward and backward, keep running statistics and
# learn; it does not reproduce the papers' accuracies (hundreds of epochs with augmentation).
set -eu
cd "$(dirname "$0")/.."
width=1; train=64; tst=64; epochs=1
while [ $# -gt 0 ]; do
    case "$1" in
        --width) width=$2; shift 2;;     # divide every channel count by this
        --train) train=$2; shift 2;;
        --test) tst=$2; shift 2;;
        --epochs) epochs=$2; shift 2;;
        *) echo "cifar_smoke: unknown option $1" >&2; exit 2;;
    esac
done
if [ -z "${SOMA:-}" ]; then
    make --no-print-directory all >/dev/null
    SOMA=build/rel/soma
fi
data=cache/cifar10
if [ ! -e "$data/data_batch_1.bin" ] && [ ! -e "$data/cifar-10-batches-bin/data_batch_1.bin" ]; then
    data=cache/cifar_like
    [ -e "$data/test_batch.bin" ] || scripts/gen_cifar_like.sh "$data" 200 50
fi
c() { echo $(( $1 / width )); } # a channel count at this width
plif="3x32x32-$(c 256)C3-BN-$(c 256)C3-BN-$(c 256)C3-BN-MP2-$(c 256)C3-BN-$(c 256)C3-BN-$(c 256)C3-BN-MP2-D0.5-$(c 2048)-100-V10"
resnet="3x32x32-$(c 64)C3-BN-MPBN-Res$(c 128)m-Res$(c 128)m-Res$(c 128)m-Res$(c 256)s2m-Res$(c 256)m-Res$(c 256)m-Res$(c 512)s2m-Res$(c 512)m-Res$(c 512)m-GAP-10"
common=(--data "cifar10:$data" --encoder direct --epochs "$epochs" --max-train "$train" --max-test "$tst"
        --batch 16 --eval-batch 16 --chunk 8 --optim adam --lr 1e-3 --seed 1 --quiet --json)
mkdir -p results/tmp
run() { # name spec options...
    local name=$1 spec=$2; shift 2
    echo "cifar_smoke: $name" >&2
    local t0 js; t0=$(date +%s)
    js=$($SOMA train --net "$spec" "${common[@]}" "$@" --metrics "results/tmp/cifar_smoke_$name.jsonl" | grep '^{')
    echo "$js" | sed "s/}\$/,\"wall_seconds\":$(( $(date +%s) - t0 ))}/" > "results/tmp/cifar_smoke_$name.json"
}
rm -f results/tmp/cifar_smoke_*.jsonl
run plif "$plif" --dynamics plif --tau 2 --detach-reset --surrogate atan --loss mse -T 8
run resnet "$resnet" --readout membrane --loss ce -T 4
out=results/cifar_smoke.md
[ "$width" != 1 ] && out=results/cifar_smoke_w$width.md
{
    echo "## CIFAR-10 code path: PLIF-Net and MPBN-ResNet-20 (experiments/cifar_smoke.sh)"
    echo
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); data: \`$data\`" \
         "($( [ "$data" = cache/cifar_like ] && echo "synthetic, CIFAR-10 binary format: scripts/gen_cifar_like.sh" || echo "CIFAR-10"))."
    echo "Command: \`experiments/cifar_smoke.sh --width $width --train $train --test $tst --epochs $epochs\`; each net trains on the first $train images with Adam (lr 1e-3), batch 16, BN statistics over chunks of 8."
    echo
    echo "| net | T | train loss (epoch 1 → last) | test accuracy | train samples/s | peak RSS MB | wall s |"
    echo "|---|---|---|---|---|---|---|"
    for name in plif resnet; do
        f=results/tmp/cifar_smoke_$name.json
        [ -s "$f" ] || continue
        label=$([ $name = plif ] && echo "PLIF-Net" || echo "MPBN-ResNet-20")
        [ "$width" != 1 ] && label="$label (channels / $width)"
        T=$([ $name = plif ] && echo 8 || echo 4)
        l0=$(grep -m1 '"type":"epoch"' "results/tmp/cifar_smoke_$name.jsonl" | sed 's/.*"train_loss":\([-0-9.e]*\).*/\1/')
        l1=$(grep '"type":"epoch"' "results/tmp/cifar_smoke_$name.jsonl" | tail -1 | sed 's/.*"train_loss":\([-0-9.e]*\).*/\1/')
        awk -v label="$label" -v T="$T" -v l0="$l0" -v l1="$l1" '
            function num(key,   m) { if (match($0, "\"" key "\":[-0-9.e]+")) { m = substr($0, RSTART, RLENGTH); sub(/.*:/, "", m); return m + 0 } return 0 }
            { printf "| %s | %s | %.4f → %.4f | %.1f %% | %.1f | %.0f | %d |\n", label, T, l0, l1, 100 * num("test_accuracy"),
                     num("train_samples_per_s"), num("peak_rss_mb"), num("wall_seconds") }' "$f"
    done
    echo
    echo "Nets (\`--net\`): PLIF-Net \`$plif\`; MPBN-ResNet-20 \`$resnet\`."
    echo
} > "$out"
cat "$out"
