#!/usr/bin/env bash
# Runs every test binary in BUILD/tests and the CLI test script; exits non-zero on any failure.
# Prints one closing line "tests: N passed, N failed" (suites, not checks).
set -u
build=${1:-build/rel}
pass=0; fail=0; failed=()
for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    if "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$(basename "$t")"); fi
done
if [ -f tests/cli_test.sh ]; then
    if SOMA_BIN="$build/soma" bash tests/cli_test.sh; then pass=$((pass+1)); else fail=$((fail+1)); failed+=(cli_test.sh); fi
fi
[ ${#failed[@]} -gt 0 ] && echo "failed suites in $build: ${failed[*]}"
echo "suites ($build): $pass passed, $fail failed"
[ "$fail" -eq 0 ]
