#!/usr/bin/env bash
# The browser test of the movie site: starts soma-movies on a free loopback port with a fresh
# database, drives Debian's Chromium through playwright-core (installed here from npm into
# cache/e2e; never `npx playwright install`), and saves a screenshot of every page in out/e2e/.
#   tests/web/e2e.sh [BUILD]      (make e2e)
# Data: MovieLens-100k from ../shared/data/ml-100k (or $SOMA_E2E_DATA) if present, else a
# tiny synthetic set in the same format. SOMA_E2E_OPTIONAL=1 turns "no Chromium" into a skip.
set -euo pipefail
build=${1:-build/rel}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    if [ "${SOMA_E2E_OPTIONAL:-0}" = 1 ]; then echo "e2e: skipped (no Chromium at $chromium)"; exit 0; fi
    echo "e2e: Chromium not found at $chromium (apt-get install chromium, or scripts/deps.sh)" >&2
    exit 1
fi
command -v node >/dev/null || { echo "e2e: node is needed (apt-get install nodejs npm)" >&2; exit 1; }
nm_dir=cache/e2e
if [ ! -d "$nm_dir/node_modules/playwright-core" ]; then
    mkdir -p "$nm_dir"
    (cd "$nm_dir" && [ -f package.json ] || echo '{"private":true}' > package.json)
    (cd "$nm_dir" && npm install --no-audit --no-fund --loglevel=error playwright-core@1.65.1)
fi
work=$(mktemp -d /tmp/soma-e2e-XXXXXX)
data=${SOMA_E2E_DATA:-../shared/data/ml-100k}
if [ ! -f "$data/u.data" ] && [ ! -f "$data/ratings.dat" ]; then
    data="$work/ml"
    node tests/web/make_tiny_ml.mjs "$data"
fi
out=out/e2e
mkdir -p "$out"
rm -f "$out"/*.png
log="$work/server.log"
"$build/soma-movies" --port 0 --db "$work/db.sqlite" --model "$work/model.soma" \
    --media "$work/media" --data "$data" --epochs 2 --access-log "$work/access.log" 2>"$log" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=""
for _ in $(seq 1 600); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$log")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "e2e: the server did not start" >&2; exit 1; }
    sleep 0.5
done
[ -n "$port" ] || { echo "e2e: the server did not start in time" >&2; exit 1; }
status=0
NODE_PATH="$root/$nm_dir/node_modules" BASE="http://127.0.0.1:$port" SHOTS="$out" CHROMIUM="$chromium" \
    node tests/web/e2e.cjs || status=$?
kill -TERM "$pid"
wait "$pid" || { echo "e2e: the server exited with an error" >&2; status=1; }
grep -q "stopped cleanly" "$log" || { echo "e2e: no clean shutdown" >&2; status=1; }
echo "e2e: screenshots in $out: $(ls "$out" | tr '\n' ' ')"
exit $status
