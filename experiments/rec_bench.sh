#!/usr/bin/env bash
# experiments/rec_bench.sh — the recommender's speed on one core (bench/bench_rec.c):
# training samples/s and time to train on MovieLens-100k u1.base (same recipe as the rating
# table), beside libFM's 27 s for MCMC k = 8 on this machine, and top-10 latency for one user
# over a 4,000-movie catalogue (median and p99 over every user, rated movies excluded).
# Writes results/rec_bench.md, then regenerates RESULTS.md. About 2 minutes.
#
#   experiments/rec_bench.sh              (SOMA_DATA=/path/to/ml-100k to point elsewhere)
set -eu
cd "$(dirname "$0")/.."
data=${SOMA_DATA:-../shared/data/ml-100k}
[ -f "$data/u.data" ] || data=$data/ml-100k
[ -f "$data/u.data" ] || { echo "rec_bench: MovieLens-100k not found (set SOMA_DATA)" >&2; exit 1; }
build=${SOMA_BUILD:-build/rel} # SOMA_BUILD=build/mine to use (and build) another build folder
make --no-print-directory BUILD="$build" all "$build/bench/bench_rec" >/dev/null
md=results/rec_bench.md
mkdir -p results
rows=$(SOMA_THREADS=1 "$build/bench/bench_rec" "$data" --markdown)
{
    echo "## Recommender speed, one core (experiments/rec_bench.sh)"
    echo
    echo "Measured $(date -u +%Y-%m-%d) with \`experiments/rec_bench.sh\` (\`bench/bench_rec.c\`) on the shared 2-core"
    echo "machine (load average at start: $(cut -d' ' -f1 /proc/loadavg)). Training: MovieLens-100k u1.base with the rating"
    echo "table's recipe (Adam, early stopping on a 5 % validation split, so the time includes validation passes"
    echo "but \"train s\" counts training batches only). Serving: \`soma_rec_recommend\` for every user, top 10 of a"
    echo "4,000-movie catalogue (the 1,682 movies plus 2,318 added through \`soma_rec_model_add_movie\`), the user's"
    echo "u1.base ratings excluded; each user's part of the currents is computed once per call; scores checked"
    echo "bitwise against the batch forward pass first; 3 timed passes over the 943 users after a warm-up pass."
    echo "The machine is shared: the p99 over all calls includes preemptions by other jobs (a time slice is"
    echo "~4 ms), so the last column also gives the p99 over users of each user's fastest pass."
    echo "The \"+ rated\" row adds implicit feedback (\`--fields side,rated\`, the rating table's recipe for that row): the"
    echo "user's rated set is part of the user's prefix, computed once per call."
    echo "Target: median < 1 ms. Anchor: libFM MCMC k = 8 trains on u1 in 27 s on this machine (issue #5)."
    echo
    echo "$rows"
    echo
} > "$md"
cat "$md"
scripts/make_results.sh
