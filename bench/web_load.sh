#!/usr/bin/env bash
# Load test of the movie site with wrk on loopback (make bench-web):
#   1. GET /api/recommendations as a logged-in MovieLens user, 64 connections;
#   2. GET /api/movies/search over a rotation of queries, 64 connections;
#   3. POST ratings from 64 site users at once, every request a new (user, movie) pair; the
#      rows added to the database must equal the 200 responses (nothing lost).
# Prints requests/s, p99 latency and errors per run, and writes them to out/web_load.json.
# Needs wrk (Debian: apt-get install wrk) and MovieLens-100k (../shared/data/ml-100k, or DATA=).
set -euo pipefail
build=${1:-build/rel}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v wrk >/dev/null || { echo "web_load: wrk is needed (apt-get install wrk)" >&2; exit 1; }
data=${DATA:-../shared/data/ml-100k}
dur=${DURATION:-10s}
conns=${CONNECTIONS:-64}
threads=${WRK_THREADS:-2}
work=$(mktemp -d /tmp/soma-web-load-XXXXXX)
log="$work/server.log"
"$build/soma-movies" --port 0 --db "$work/db.sqlite" --model "$work/model.soma" --media "$work/media" \
    --data "$data" --epochs "${EPOCHS:-3}" --access-log "$work/access.log" ${SERVER_FLAGS:-} 2>"$log" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=""
for _ in $(seq 1 600); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$log")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.5
done
base="http://127.0.0.1:$port"
echo "web_load: server on $base ($(grep -o 'model snn.*' "$log" | head -1))"

json_field() { python3 -c 'import sys,json; print(json.load(sys.stdin)'"$1"')'; }
# A session as MovieLens user 42 (double-submit CSRF for the log-in form).
jar="$work/jar"
csrf=$(curl -sf -c "$jar" "$base/api/me" | json_field '["csrf"]')
curl -sf -b "$jar" -c "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d '{"user":42}' "$base/api/demo-login" >/dev/null
session=$(awk '$6=="soma_session"{print $7}' "$jar")

cat > "$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
LUA
cat > "$work/search.lua" <<'LUA'
local qs = {"star", "the", "love", "man", "war", "ar+w", "godfather", "toy", "x", "night", "STAR", "a"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/movies/search?q=" .. qs[i % #qs + 1] .. "&limit=20")
end
LUA
cat "$work/report.lua" >> "$work/search.lua"

results=()
run() { # name, wrk args...
    local name=$1; shift
    local out
    out=$(wrk -t"$threads" -c"$conns" -d"$dur" --latency "$@")
    local line
    line=$(echo "$out" | grep '^RESULT')
    echo "web_load: $name: ${line#RESULT }"
    results+=("\"$name\": {$(echo "${line#RESULT }" | sed 's/ /, /g; s/\([a-z0-9_]*\)=\([0-9.]*\)/"\1": \2/g')}")
}
run recommendations -H "Cookie: soma_session=$session" -s "$work/report.lua" "$base/api/recommendations?n=10"
run search -s "$work/search.lua" "$base/api/movies/search"

# ---- concurrent rating writes from 64 site users ----
n_users=64
before=$(curl -sf "$base/healthz" | json_field '["ratings"]')
{
    echo "local users = {"
    for i in $(seq 1 $n_users); do
        j="$work/jar$i"
        c=$(curl -sf -c "$j" "$base/api/me" | json_field '["csrf"]')
        c=$(curl -sf -b "$j" -c "$j" -H "X-CSRF-Token: $c" -H 'Content-Type: application/json' \
            -d "{\"username\":\"load$i\",\"password\":\"load-password-$i\"}" "$base/api/register" | json_field '["csrf"]')
        s=$(awk '$6=="soma_session"{print $7}' "$j")
        echo "  {\"soma_session=$s\", \"$c\"},"
    done
    echo "}"
} > "$work/rate.lua"
cat >> "$work/rate.lua" <<'LUA'
local n_threads, tid, counter, ok = 0, 0, 0, 0
local threads = {}
setup = function(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
init = function(args)
  n_threads = 2
end
request = function()
  -- request k of this thread -> pair index k * 16 + tid: unique (user, movie) across threads
  local k = counter * 16 + tid
  counter = counter + 1
  local u = users[(k % #users) + 1]
  local movie = math.floor(k / #users) % 1682 + 1
  local stars = (k % 5) + 1
  return wrk.format("POST", "/api/movies/" .. movie .. "/rating",
    {["Cookie"] = u[1], ["X-CSRF-Token"] = u[2], ["Content-Type"] = "application/json"},
    '{"stars":' .. stars .. ',"review":"load test"}')
end
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("ok") end
  local e = summary.errors
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d errors=%d ok=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, total))
end
LUA
sed -i 's/local n_threads, tid, counter, ok = 0, 0, 0, 0/tid = 0\nlocal counter = 0\nok = 0/' "$work/rate.lua"
run rating_writes --timeout 30s -s "$work/rate.lua" "$base/"
sleep 1 # requests still in flight when wrk stopped finish on the server
after=$(curl -sf "$base/healthz" | json_field '["ratings"]')
added=$((after - before))
kill -TERM "$pid"; wait "$pid" || true
grep -q "stopped cleanly" "$log" || { echo "web_load: no clean shutdown" >&2; exit 1; }
# wrk stops counting at its deadline with up to $conns requests still in flight, so the
# server's own access log (complete after the shutdown) counts the ratings acknowledged (200).
ok=$(grep -c '"POST /api/movies/[0-9]*/rating" 200 ' "$work/access.log" || true)
echo "web_load: rating rows added $added, ratings acknowledged with 200: $ok"
mkdir -p out
printf '{%s, "rows_added": %d, "ratings_ok": %d, "connections": %d, "duration": "%s"}\n' \
    "$(IFS=,; echo "${results[*]}")" "$added" "$ok" "$conns" "$dur" > out/web_load.json
[ "$added" -eq "$ok" ] || { echo "web_load: LOST WRITES" >&2; exit 1; }
if grep -q '"errors": [1-9]' out/web_load.json; then echo "web_load: socket errors" >&2; exit 1; fi
echo "web_load: wrote out/web_load.json"
# The section of RESULTS.md (scripts/make_results.sh assembles it).
mkdir -p results
python3 - "$conns" "$dur" "$(date -u +%Y-%m-%d)" "$(nproc)" > results/web_load.md <<'PYEOF'
import json, sys
conns, dur, day, cores = sys.argv[1:]
d = json.load(open("out/web_load.json"))
print(f"## The movie site under load (bench/web_load.sh)\n")
print(f"Measured {day} on {cores} cores, wrk on the same machine over loopback, {conns} connections for {dur} per run,")
print("MovieLens-100k. Command: `make bench-web`. Writes are every request a new (user, movie) rating;")
print("the rows added are counted in the database afterwards.\n")
print("| endpoint | requests/s | p50 ms | p99 ms | requests | errors / non-2xx |")
print("|---|---|---|---|---|---|")
names = {"recommendations": "GET /api/recommendations", "search": "GET /api/movies/search",
         "rating_writes": "POST /api/movies/:id/rating"}
for k, label in names.items():
    r = d[k]
    print(f"| {label} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['requests']:,} | {r['errors']} / {r['non2xx']} |")
print(f"\nRating writes acknowledged with 200: {d['ratings_ok']:,}; rows added: {d['rows_added']:,} (nothing lost).\n")
PYEOF
scripts/make_results.sh
