#!/bin/bash
# libFuzzer targets (STYLE rule 21).
#   scripts/fuzz.sh replay BIN...          each target over its committed seeds only; seconds
#   scripts/fuzz.sh run BIN... SECONDS     each target for SECONDS on a scratch corpus
# A target build-fuzz/fuzz_<x> takes its seeds from tests/fuzz/corpus/<x>/ and its dictionary,
# when there is one, from tests/fuzz/fuzz_<x>.dict. The committed seeds are never written to:
# "run" grows a copy in build-fuzz/corpus-fuzz_<x>/ and leaves crash inputs in
# build-fuzz/crash-fuzz_<x>/. Exits non-zero when any target crashes.
set -uo pipefail

usage() {
	echo "usage: $0 replay BIN... | $0 run BIN... SECONDS" >&2
	exit 2
}

[ $# -ge 2 ] || usage
mode=$1
shift
case $mode in
replay) ;;
run)
	[ $# -ge 2 ] || usage
	seconds=${!#}
	set -- "${@:1:$#-1}"
	case $seconds in '' | *[!0-9]*) usage ;; esac
	;;
*) usage ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
bins=()
for b in "$@"; do
	# Make each path absolute before leaving the caller's directory.
	case $b in /*) bins+=("$b") ;; *) bins+=("$PWD/$b") ;; esac
done
cd "$ROOT"

failed=()
for bin in "${bins[@]}"; do
	name=$(basename "$bin")
	seeds=tests/fuzz/corpus/${name#fuzz_}
	dict=tests/fuzz/$name.dict
	if [ ! -x "$bin" ]; then
		echo "fuzz: $name: no such binary ($bin)"
		failed+=("$name")
		continue
	fi
	if [ ! -d "$seeds" ]; then
		# libFuzzer then runs the empty input alone: still a smoke test.
		echo "fuzz: $name: no seeds in $seeds"
		seeds=
	fi
	args=()
	if [ "$mode" = replay ]; then
		log=$(mktemp "/tmp/custos-fuzz-$name.XXXXXX")
		# -runs=0 executes the seeds once each and stops; artifacts go where they harm nothing.
		"$bin" -runs=0 -artifact_prefix="$log." ${seeds:+"$seeds"} >"$log" 2>&1
		rc=$?
		n=$( (ls "$seeds" 2>/dev/null || true) | wc -l)
	else
		scratch=build-fuzz/corpus-$name
		crashes=build-fuzz/crash-$name
		mkdir -p "$scratch" "$crashes"
		if [ -n "$seeds" ]; then cp -n "$seeds"/* "$scratch"/ 2>/dev/null || true; fi
		[ -f "$dict" ] && args+=("-dict=$dict")
		log=build-fuzz/$name.log
		"$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$crashes/" \
			"${args[@]}" "$scratch" >"$log" 2>&1
		rc=$?
		n=$(ls "$scratch" | wc -l)
	fi
	if [ $rc -eq 0 ]; then
		echo "fuzz: $name: ok ($mode, $n inputs)"
		[ "$mode" = replay ] && rm -f "$log"
	else
		echo "fuzz: $name: FAILED (exit $rc), log follows"
		tail -n 40 "$log"
		failed+=("$name")
	fi
done

echo "fuzz: ${#bins[@]} targets, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: failing: ${failed[*]}"; exit 1; }
