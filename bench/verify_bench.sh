#!/bin/sh
# bench/verify_bench.sh - the cost of `run --verify` against `run`.
# Copies examples/hello, warms the GOCACHE with one run, then alternates
# `run` and `run --verify` REPEAT times each (same project, same warm cache,
# same dist/), and prints every wall time and the medians and their ratio.
# The rebuild of run --verify uses its default variations (all but gocache).
# Not a test: numbers depend on the machine and its load.
# usage: sh bench/verify_bench.sh [REPEAT]       (default 5)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/xgo-build
repeat=${1:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/examples/hello" "$work/hello"
rm -rf "$work/hello/dist" "$work/hello/.xgo-build"
export XGO_CACHE=${XGO_CACHE:-$work/cache} TMPDIR=$work

now() { date +%s.%N; }
run_one() { # label args...
	label=$1; shift
	t0=$(now)
	"$bin" "$@" -q "$work/hello/release.lua" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
	t1=$(now)
	echo "$label $(echo "$t1 - $t0" | bc)" | tee -a "$work/times"
}
median() { grep "^$1 " "$work/times" | cut -d' ' -f2 | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
run_one warmup run
: >"$work/times"
i=0
while [ $i -lt "$repeat" ]; do
	run_one run run
	run_one verify run --verify
	i=$((i + 1))
done
r=$(median run)
v=$(median verify)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "median run ${r}s, run --verify ${v}s, ratio $(echo "scale=2; $v / $r" | bc)x (target <= 2.2x)"
