#!/usr/bin/env bash
# Runs the web service's test binaries (BUILD/tests/web/test_*); exits non-zero on any failure.
# The browser test is separate (make e2e): it needs Chromium and npm.
set -u
build=${1:-build/rel}
pass=0; fail=0; failed=()
for t in "$build"/tests/web/test_*; do
    [ -x "$t" ] || continue
    if "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$(basename "$t")"); fi
done
[ ${#failed[@]} -gt 0 ] && echo "failed web suites in $build: ${failed[*]}"
echo "web suites ($build): $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
