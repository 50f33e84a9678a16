#!/usr/bin/env bash
# experiments/rec_table.sh — the recommender tables on MovieLens-100k (issue #5):
#   1. rating prediction: RMSE and MAE on the official u1 split and the mean over the five
#      folds u1…u5, for the bilinear SNN, the linear SNN (LIF baseline), FM (k = 8 and 32) and
#      the bias model, each over SEEDS seeds, beside the published / measured anchors;
#   2. top-N: leave-one-out (each user's latest rating ranked against 99 sampled unrated
#      movies), HR@10 and NDCG@10 for the same models plus most-popular.
# Each trained model runs twice where it applies: on the side features (`--fields side`: ids,
# demographics, favourite genres, decade, genres) and with implicit feedback added (rows
# "+ rated": `--fields side,rated`, the movies the user rated in the training ratings, SVD++ /
# libFM style); the table's "features" column says which. Run files carry the model's name
# (…-rated), so results of different settings never mix.
# Writes results/rec_rating.md and results/rec_topn.md (one JSON line per run in
# results/runs/), then regenerates RESULTS.md with scripts/make_results.sh.
#
#   experiments/rec_table.sh                   # both tables, 3 seeds
#   experiments/rec_table.sh --seeds 5 --only rating
#   experiments/rec_table.sh --models "snn-bilinear-rated fm8-rated"   # run only these rows
#                                              # (the tables still list every row with results)
#   SOMA_DATA=/path/to/ml-100k experiments/rec_table.sh
#
# Runs that already have a result in results/runs/ are skipped, so an interrupted table
# resumes (delete results/runs/rec_*.json to redo). Everything runs on one thread.
# Run time on the 2-core reference machine (shared and loaded at the time): about 17 minutes
# for the rating table (75 runs) and 11 for top-N (16 runs); the tables record it.
set -eu
cd "$(dirname "$0")/.."
seeds=3; only=all; models=
while [ $# -gt 0 ]; do
    case "$1" in
        --seeds) seeds=$2; shift 2;;
        --only) only=$2; shift 2;;
        --models) models=$2; shift 2;;
        *) echo "rec_table: unknown option $1" >&2; exit 2;;
    esac
done
data=${SOMA_DATA:-../shared/data/ml-100k}
[ -f "$data/u.data" ] || data=$data/ml-100k
[ -f "$data/u.data" ] || { echo "rec_table: MovieLens-100k not found (set SOMA_DATA)" >&2; exit 1; }
build=${SOMA_BUILD:-build/rel} # SOMA_BUILD=build/mine to use (and build) another build folder
make --no-print-directory BUILD="$build" all >/dev/null
SOMA=$build/soma
mkdir -p results/runs

# ---- recipes (the same harness for every model: soma rec train, Adam, early stopping on a 5 %
# validation split of the training data, parameter EMA; only the model and its L2 differ) ----
common_rating=(--task rating --epochs 100 --patience 6 --val-fraction 0.05 --batch 256 --ema 0.999 --threads 1)
recipe_rating() { # model -> extra flags
    case "$1" in
        snn-bilinear) echo "--model snn --neuron bilinear -T 8 --width 32 --dropout 0.5 --lr 1e-3 --reg 0.3 --reg-linear 0.1";;
        snn-linear) echo "--model snn --neuron linear -T 8 --width 32 --dropout 0.5 --lr 1e-3 --reg 0.3 --reg-linear 0.1";;
        fm8) echo "--model fm --fm-k 8 --lr 1e-3 --reg 0.3 --reg-linear 0.1 --init-std 0.02";;
        fm32) echo "--model fm --fm-k 32 --lr 1e-3 --reg 0.3 --reg-linear 0.1 --init-std 0.02";;
        bias) echo "--model bias --lr 1e-3 --reg-linear 0.1";;
        # + implicit feedback (the rated field); L2 chosen on the validation split
        snn-bilinear-rated) echo "--model snn --neuron bilinear -T 8 --width 32 --dropout 0.5 --lr 1e-3 --reg 0.1 --reg-linear 0.1 --fields side,rated";;
        snn-linear-rated) echo "--model snn --neuron linear -T 8 --width 32 --dropout 0.5 --lr 1e-3 --reg 0.1 --reg-linear 0.1 --fields side,rated";;
        fm8-rated) echo "--model fm --fm-k 8 --lr 1e-3 --reg 0.1 --reg-linear 0.1 --init-std 0.02 --fields side,rated";;
        fm32-rated) echo "--model fm --fm-k 32 --lr 1e-3 --reg 0.1 --reg-linear 0.1 --init-std 0.02 --fields side,rated";;
    esac
}
common_topn=(--task topn --split loo --epochs 60 --patience 4 --batch 256 --ema 0.999 --eval-negatives 99 --threads 1)
recipe_topn() {
    case "$1" in
        snn-bilinear) echo "--model snn --neuron bilinear -T 8 --width 64 --dropout 0.2 --loss bce --negatives 4 --lr 3e-3 --reg 0.001 --reg-linear 0.001";;
        snn-linear) echo "--model snn --neuron linear -T 8 --width 64 --dropout 0.2 --loss bce --negatives 4 --lr 3e-3 --reg 0.001 --reg-linear 0.001";;
        fm8) echo "--model fm --fm-k 8 --loss bce --negatives 4 --lr 3e-3 --reg 0.001 --reg-linear 0.001";;
        fm32) echo "--model fm --fm-k 32 --loss bce --negatives 4 --lr 3e-3 --reg 0.001 --reg-linear 0.001";;
        bias) echo "--model bias --loss bce --negatives 4 --lr 3e-3 --reg-linear 0.001";;
        pop) echo "--model pop";;
        snn-bilinear-rated) echo "--model snn --neuron bilinear -T 8 --width 64 --dropout 0.2 --loss bce --negatives 4 --lr 3e-3 --reg 0.001 --reg-linear 0.001 --fields side,rated";;
        snn-linear-rated) echo "--model snn --neuron linear -T 8 --width 64 --dropout 0.2 --loss bce --negatives 4 --lr 3e-3 --reg 0.001 --reg-linear 0.001 --fields side,rated";;
        fm8-rated) echo "--model fm --fm-k 8 --loss bce --negatives 4 --lr 3e-3 --reg 0.001 --reg-linear 0.001 --fields side,rated";;
        fm32-rated) echo "--model fm --fm-k 32 --loss bce --negatives 4 --lr 3e-3 --reg 0.001 --reg-linear 0.001 --fields side,rated";;
    esac
}
label() {
    case "${1%-rated}" in
        snn-bilinear) echo "SNN, bilinear LIF (this work)";; snn-linear) echo "SNN, linear LIF (thesis baseline)";;
        fm8) echo "FM, k = 8";; fm32) echo "FM, k = 32";; bias) echo "bias (global + user + item)";; pop) echo "most popular";;
    esac
}
features() { # the feature set of a row
    case "$1" in
        bias) echo "user, movie ids";; pop) echo "—";;
        *-rated) echo "side + rated";; *) echo "side";;
    esac
}
selected() { [ -z "$models" ] || case " $models " in *" $1 "*) true;; *) false;; esac; }

start=$(date +%s)
run() { # name, then soma rec train arguments
    local name=$1; shift
    local out="results/runs/$name.json"
    [ -s "$out" ] && return 0
    echo "rec_table: $name" >&2
    local t0=$(date +%s)
    $SOMA rec train --data "$data" "$@" --quiet --json > "$out.tmp"
    sed -i "s/}\$/,\"wall_seconds\":$(( $(date +%s) - t0 ))}/" "$out.tmp"
    mv "$out.tmp" "$out"
}

# mean ± sample std of one JSON key over files
stat() { # key files... (mean ± std with 4 decimals; fmt=%.1f stat ... for seconds)
    local key=$1; shift
    cat "$@" | awk -v key="$key" -v fmt="${fmt:-%.4f}" '
        { if (match($0, "\"" key "\":[-0-9.e+]+")) { m = substr($0, RSTART, RLENGTH); sub(/.*:/, "", m); v[++n] = m + 0 } }
        END { if (!n) { printf "—"; exit } for (i = 1; i <= n; i++) s += v[i]; mu = s / n
              for (i = 1; i <= n; i++) q += (v[i] - mu)^2; sd = n > 1 ? sqrt(q / (n - 1)) : 0
              printf fmt " ± " fmt, mu, sd }'
}

# total wall time of runs in minutes
wall() { cat "$@" | awk '{ if (match($0, "\"wall_seconds\":[0-9]+")) s += substr($0, RSTART + 15, RLENGTH - 15) } END { printf "%.0f", s / 60 }'; }

rating_models="snn-bilinear-rated snn-linear-rated fm8-rated fm32-rated snn-bilinear snn-linear fm8 fm32 bias"
if [ "$only" = all ] || [ "$only" = rating ]; then
    for m in $rating_models; do
        selected "$m" || continue
        for k in 1 2 3 4 5; do
            for s in $(seq 1 "$seeds"); do
                run "rec_rating_${m}_u${k}_s$s" "${common_rating[@]}" $(recipe_rating "$m") --split "u$k" --seed "$s"
            done
        done
    done
    md=results/rec_rating.md
    {
        echo "## Recommender: rating prediction on MovieLens-100k (experiments/rec_table.sh)"
        echo
        echo "Measured $(date -u +%Y-%m-%d) on one thread; command: \`experiments/rec_table.sh --seeds $seeds\`."
        echo "Every model: \`soma rec train --data ml-100k --split uK ${common_rating[*]} …\` with the model's flags below;"
        echo "early stopping on a 5 % validation split of uK.base, scores clipped to [1, 5]. Mean ± std over $seeds seeds;"
        echo "the five-fold columns average the five folds per seed first."
        echo
        echo "Features: *side* = user id, gender, age, occupation, region, favourite genres, movie id, decade, genres;"
        echo "*rated* = implicit feedback, the movies the user rated in uK.base (\`--fields side,rated\`, each 1/√|N|)."
        echo
        echo "| model | features | u1 RMSE | u1 MAE | u1…u5 RMSE | u1…u5 MAE | s to train (u1) | flags |"
        echo "|---|---|---|---|---|---|---|---|"
        for m in $rating_models; do
            u1=(results/runs/rec_rating_${m}_u1_s*.json)
            [ -e "${u1[0]}" ] || continue
            # per-seed five-fold means, then mean ± std over seeds
            tmpf=$(mktemp)
            for s in $(seq 1 "$seeds"); do
                f5=(results/runs/rec_rating_${m}_u[1-5]_s$s.json)
                [ "${#f5[@]}" -eq 5 ] || continue
                cat "${f5[@]}" | awk '{ if (match($0, "\"rmse\":[-0-9.e+]+")) { a = substr($0, RSTART + 7, RLENGTH - 7); r += a; n++ }
                                      if (match($0, "\"mae\":[-0-9.e+]+")) { b = substr($0, RSTART + 6, RLENGTH - 6); e += b } }
                                    END { printf "{\"rmse\":%.6f,\"mae\":%.6f}\n", r / n, e / n }' >> "$tmpf"
            done
            n=""; [ "${#u1[@]}" -lt "$seeds" ] && n=" (${#u1[@]} of $seeds seeds)"
            printf "| %s%s | %s | %s | %s | %s | %s | %s | \`%s\` |\n" "$(label "$m")" "$n" "$(features "$m")" "$(stat rmse "${u1[@]}")" "$(stat mae "${u1[@]}")" \
                "$(stat rmse "$tmpf")" "$(stat mae "$tmpf")" "$(fmt=%.1f stat train_seconds "${u1[@]}" | sed 's/ ± .*//')" "$(recipe_rating "$m")"
            rm -f "$tmpf"
        done
        echo "| *anchor:* SVD (Surprise benchmark, five random folds) | user, movie ids | | | 0.934 | | | published (issue #5) |"
        echo "| *anchor:* SVD++ (Surprise benchmark, five random folds) | ids + rated | | | 0.919 | | | published (issue #5) |"
        echo "| *anchor:* libFM MCMC, same side features, k = 8 | side | 0.899 | | | | 27 | measured (issue #5) |"
        echo "| *anchor:* libFM MCMC, same side features, k = 32 | side | 0.896 | | | | | measured (issue #5) |"
        echo
        echo "Run time of this table: $(wall results/runs/rec_rating_*.json) minutes on one core (the sum of its runs' wall times)."
        echo
    } > "$md"
    cat "$md"
fi

topn_models="snn-bilinear-rated snn-linear-rated fm8-rated fm32-rated snn-bilinear snn-linear fm8 fm32 bias pop"
if [ "$only" = all ] || [ "$only" = topn ]; then
    for m in $topn_models; do
        selected "$m" || continue
        for s in $(seq 1 "$seeds"); do
            run "rec_topn_${m}_s$s" "${common_topn[@]}" $(recipe_topn "$m") --seed "$s"
            [ "$m" = pop ] && break # deterministic
        done
    done
    md=results/rec_topn.md
    {
        echo "## Recommender: top-N on MovieLens-100k, leave-one-out (experiments/rec_table.sh)"
        echo
        echo "Measured $(date -u +%Y-%m-%d) on one thread; command: \`experiments/rec_table.sh --seeds $seeds --only topn\`."
        echo "Protocol: each user's latest rating is held out and ranked against 99 movies the user has not rated"
        echo "(sampled once per user from a fixed stream, the same for every model; ties count half). Training treats"
        echo "every other rating as a positive: \`soma rec train --data ml-100k ${common_topn[*]} …\`; early stopping"
        echo "on HR@10 of each user's second-latest rating. Mean ± std over $seeds seeds (most-popular is deterministic)."
        echo
        echo "Features as in the rating table; *rated* = the movies the user rated in the training part (every rating"
        echo "but the held-out latest), the pair's own movie left out."
        echo
        echo "| model | features | HR@10 | NDCG@10 | s to train | flags |"
        echo "|---|---|---|---|---|---|"
        for m in $topn_models; do
            f=(results/runs/rec_topn_${m}_s*.json)
            [ -e "${f[0]}" ] || continue
            n=""; [ "$m" != pop ] && [ "${#f[@]}" -lt "$seeds" ] && n=" (${#f[@]} of $seeds seeds)"
            printf "| %s%s | %s | %s | %s | %s | \`%s\` |\n" "$(label "$m")" "$n" "$(features "$m")" "$(stat hr10 "${f[@]}")" "$(stat ndcg10 "${f[@]}")" \
                "$(fmt=%.1f stat train_seconds "${f[@]}" | sed 's/ ± .*//')" "$(recipe_topn "$m")"
        done
        echo
        echo "Run time of this table: $(wall results/runs/rec_topn_*.json) minutes on one core (the sum of its runs' wall times)."
        echo
    } > "$md"
    cat "$md"
fi
echo "rec_table: $(( ($(date +%s) - start) / 60 )) minutes" >&2
scripts/make_results.sh
