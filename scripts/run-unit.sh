#!/bin/bash
# Runs every cmocka unit test binary given; prints one closing line with the totals.
set -uo pipefail
pass=0 fail=0 failed=()
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	p=$(printf '%s\n' "$out" | grep -c '^\[       OK \]' || true)
	f=$(printf '%s\n' "$out" | grep -c '^\[  FAILED  \]' || true)
	# A crash before cmocka's summary counts as a failure of that binary.
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	if [ $rc -ne 0 ]; then failed+=("$t"); printf '%s\n' "$out"; fi
done
echo "unit: $pass passed, $fail failed"
[ ${#failed[@]} -eq 0 ] || { echo "unit: failing: ${failed[*]}"; exit 1; }
