#!/usr/bin/env bash
# The conv net's throughput and peak memory, Soma beside the PyTorch reference
# (../shared/bench/torch_ref.py --best --model conv, the faster of its multi-step and per-step
# schedules), in one command, with ratios. Writes
# results/bench_conv.md and prints it.
#
#   scripts/bench_conv_ref.sh [T...]      default: 4 20
#
# Both sides run 32C3-P2-32C3-P2-128-10 (padding 1; conv -> max pool of the current -> LIF;
# fc -> LIF), batch 64, direct encoding (the static image is the input at every step), the
# reference's neuron (LIF in the τ form, τ = 2, threshold 1, hard reset to 0, ATan surrogate
# α = 2), CE on the output rate, Adam. Soma takes the event-driven path for binary input
# sparser than --sparse-density (0.3). A freshly initialised net on this neuron hardly fires,
# which would flatter that path, so Soma's side runs a net pretrained for 300 batches of real
# MNIST images (`soma bench --pretrain 300 --save`, then `--init` for every measurement) on a
# batch of real MNIST images: its layers then fire at the rates of a net in training (the
# table lists them). The reference's dense arithmetic does not depend on its input (random
# images). The table also gives Soma with the GEMM path forced (--sparse-density 0): the
# same dense arithmetic as the reference. Peak memory is
# /usr/bin/time -v's maximum
# resident set size of the whole process, for both; the reference's is measured on a rerun of
# the thread setting --best picked. Soma's BPTT memory is soma bench's bptt_rss_mb: the
# resident memory the runs add to the process before its data and buffers (work buffers as
# far as the path touches them, gradient workspaces, optimiser state, BLAS, thread stacks). The machine has 2 cores and is shared: run it when nothing
# else runs, and compare ratios (both sides are measured back to back). On a busy machine the
# second table is the one to read: samples per CPU-second of each side on one thread, from the
# difference of a long and a one-iteration run (start-up cancels), which other processes
# disturb far less than wall-clock throughput.
set -eu
cd "$(dirname "$0")/.."
SOMA=${SOMA:-build/rel/soma}
REF=${TORCH_REF:-../shared/bench/torch_ref.py}
PY=/usr/bin/python3
Ts=("$@")
[ ${#Ts[@]} -eq 0 ] && Ts=(4 20)
if ! $PY -c "import torch" 2>/dev/null; then
    echo "bench_conv_ref: PyTorch is missing; installing Debian's python3-torch" >&2
    SOMA_WITH_TORCH=1 scripts/deps.sh
fi
[ -f "$REF" ] || { echo "bench_conv_ref: $REF not found (the shared folder must sit beside the repository)" >&2; exit 1; }
[ -x "$SOMA" ] || make --no-print-directory all >/dev/null
net=32C3-P2-32C3-P2-128-10
base=(--net "$net" --batch 64 --encoder direct --input mnist --dynamics lif-tau --tau 2
      --threshold 1 --reset hard --surrogate atan --slope 2 --loss ce --json)
make --no-print-directory data >/dev/null
pre=cache/bench/conv_pretrained.soma
mkdir -p cache/bench
echo "bench_conv_ref: pretraining Soma's net (300 batches of MNIST, T = 4)" >&2
"$SOMA" bench "${base[@]}" -T 4 --pretrain 300 --save "$pre" --mode infer --iters 1 --warmup 0 >/dev/null
common=("${base[@]}" --init "$pre")
jget() { $PY -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d.get('$1', 'nan'))"; }
# Runs a command under /usr/bin/time -v: prints its last stdout line, then the peak RSS in MB.
timed() {
    local tmp; tmp=$(mktemp)
    /usr/bin/time -v "$@" 2>"$tmp.err" >"$tmp" || { cat "$tmp.err" >&2; rm -f "$tmp" "$tmp.err"; return 1; }
    tail -n 1 "$tmp"
    awk -F: '/Maximum resident set size/ {printf "%.0f\n", $2 / 1024}' "$tmp.err"
    rm -f "$tmp" "$tmp.err"
}
# samples per CPU-second, one thread: cpu_sps T mode command... (the command takes --iters N last)
cpu_sps() {
    local T=$1 mode=$2; shift 2
    local it=$(( T >= 20 ? 6 : 20 )) a b
    a=$( { /usr/bin/time -f "%U %S" "$@" 1 >/dev/null; } 2>&1 | tail -1 | awk '{print $1 + $2}')
    b=$( { /usr/bin/time -f "%U %S" "$@" "$it" >/dev/null; } 2>&1 | tail -1 | awk '{print $1 + $2}')
    $PY -c "print('%.0f' % (($it - 1) * 64 / max($b - $a, 1e-9)))"
}
out=results/bench_conv.md
mkdir -p results
rows=(); cpu_rows=()
for T in "${Ts[@]}"; do
    iters=$(( T >= 20 ? 10 : 30 ))
    for mode in train infer; do
        echo "bench_conv_ref: T = $T, $mode" >&2
        s=$(timed "$SOMA" bench "${common[@]}" -T "$T" --mode "$mode" --iters "$iters" --warmup 3)
        s_sps=$(echo "$s" | head -1 | jget "${mode}_samples_per_s"); s_rss=$(echo "$s" | tail -1)
        s_bptt=$(echo "$s" | head -1 | jget bptt_rss_mb)
        rate=$(echo "$s" | head -1 | $PY -c "import json,sys; d=json.loads(sys.stdin.read()); print(' / '.join('%.2f' % r for r in d['firing_rate']))")
        g=$(timed "$SOMA" bench "${common[@]}" -T "$T" --mode "$mode" --iters "$iters" --warmup 3 --sparse-density 0)
        g_sps=$(echo "$g" | head -1 | jget "${mode}_samples_per_s"); g_rss=$(echo "$g" | tail -1)
        g_bptt=$(echo "$g" | head -1 | jget bptt_rss_mb)
        # the reference's best thread setting under both of its schedules (per-step wins at T = 20)
        best=$($PY "$REF" --best --model conv --T "$T" --batch 64 --mode "$mode" --iters "$iters")
        best_s=$($PY "$REF" --best --schedule sstep --model conv --T "$T" --batch 64 --mode "$mode" --iters "$iters")
        sched=mstep
        if $PY -c "import sys; sys.exit(0 if float('$(echo "$best_s" | jget samples_per_s)') > float('$(echo "$best" | jget samples_per_s)') else 1)"; then
            best=$best_s; sched=sstep
        fi
        t_sps=$(echo "$best" | jget samples_per_s); t_thr=$(echo "$best" | jget threads)
        t_env=$(echo "$best" | $PY -c "import json,sys; e=json.loads(sys.stdin.read())['env']; print(' '.join(f'{k}={v}' for k,v in e.items()))")
        # shellcheck disable=SC2086 # t_env is "VAR=value ..." to export
        t=$(export $t_env; timed $PY "$REF" --model conv --schedule "$sched" --T "$T" --batch 64 --mode "$mode" --iters "$iters" --threads "$t_thr")
        t_rss=$(echo "$t" | tail -1)
        rows+=("$T|$mode|$s_sps|$g_sps|$t_sps|$s_rss|$g_rss|$s_bptt|$g_bptt|$t_rss|$rate|torch $sched, threads $t_thr, $t_env")
        c_s=$(cpu_sps "$T" "$mode" "$SOMA" bench "${common[@]}" -T "$T" --mode "$mode" --threads 1 --warmup 0 --iters)
        c_g=$(cpu_sps "$T" "$mode" "$SOMA" bench "${common[@]}" -T "$T" --mode "$mode" --threads 1 --warmup 0 --sparse-density 0 --iters)
        c_t=$(export OPENBLAS_NUM_THREADS=1; cpu_sps "$T" "$mode" $PY "$REF" --model conv --schedule "$sched" --T "$T" --batch 64 --mode "$mode" --threads 1 --warmup 1 --iters)
        cpu_rows+=("$T|$mode|$c_s|$c_g|$c_t")
    done
done
{
echo "## Throughput: conv 32C3-P2-32C3-P2-128-10, batch 64 (soma bench vs torch_ref.py --best --model conv)"
echo
echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Command: \`scripts/bench_conv_ref.sh ${Ts[*]}\` (soma: \`$SOMA bench ${common[*]} -T T --mode M\`)."
echo "Peak memory: maximum resident set size of the whole process (\`/usr/bin/time -v\`); Soma's BPTT memory: what its runs add to the resident set before the data and buffers (\`soma bench\`'s bptt_rss_mb)."
echo
echo "| T | mode | Soma samples/s | Soma, GEMM only | torch samples/s | ratio (GEMM only) | Soma peak RSS MB (GEMM only) | Soma BPTT RSS MB (GEMM only) | torch peak RSS MB | Soma firing rates per layer | torch setting |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do
    IFS='|' read -r T mode ss gs ts sr gr sb gb tr rate setting <<<"$r"
    $PY - "$T" "$mode" "$ss" "$gs" "$ts" "$sr" "$gr" "$sb" "$gb" "$tr" "$rate" "$setting" <<'PYEOF'
import sys
T, mode, ss, gs, ts, sr, gr, sb, gb, tr, rate, setting = sys.argv[1:]
ss, gs, ts, sb, gb = float(ss), float(gs), float(ts), float(sb), float(gb)
print(f"| {T} | {mode} | {ss:,.0f} | {gs:,.0f} | {ts:,.0f} | **{ss/ts:.1f}×** ({gs/ts:.1f}×) | {sr} ({gr}) | {sb:.0f} ({gb:.0f}) | {tr} | {rate} | {setting} |")
PYEOF
done
echo
echo "Samples per CPU-second, one thread each (OpenBLAS on one thread for both):"
echo
echo "| T | mode | Soma | Soma, GEMM only | torch | ratio (GEMM only) |"
echo "|---|---|---|---|---|---|"
for r in "${cpu_rows[@]}"; do
    IFS='|' read -r T mode cs cg ct <<<"$r"
    $PY -c "print('| $T | $mode | {:,.0f} | {:,.0f} | {:,.0f} | **{:.1f}×** ({:.1f}×) |'.format($cs, $cg, $ct, $cs / $ct, $cg / $ct))"
done
echo
} > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
