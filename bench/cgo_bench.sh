#!/bin/sh
# bench/cgo_bench.sh - examples/cgo's cgo matrix: xgo-build against a shell
# loop of `go build` with the same CC settings (zig cc -target <triple>, the
# same GOFLAGS, ldflags, tags and cgo flags as the manifest of a first run
# records), cold and warm, alternating the two contenders, median of
# REPEAT runs each.
#
#   cold: a fresh, empty GOCACHE (the standard library and every C file
#         compiled again per target); zig's own cache (musl, mingw,
#         compiler-rt) stays warm, like an installed toolchain
#   warm: the GOCACHE of the previous run (binaries relinked)
#
# BUILDS selects the programs ("cgohello sqlitedemo" = the whole example;
# default cgohello: SQLite's 8 MB of C makes one cold run of the full
# matrix take many minutes on 2 cores).  LINUX_ARCHS="amd64 arm64" replaces
# the example's 4 targets with those linux ones (a cold run compiles the
# standard library once per target).  zig's cache is $XGO_ZIG_CACHE, else
# <XGO_CACHE>/zig-cache, as for xgo-build.  Not a test: numbers depend on the
# machine and its load; the script prints the load before and after.
# usage: sh bench/cgo_bench.sh [REPEAT]          (default 3)
#        BUILDS="cgohello sqlitedemo" sh bench/cgo_bench.sh 3
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/xgo-build
repeat=${1:-3}
builds=${BUILDS:-cgohello}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/examples/cgo" "$work/cgo"
rm -rf "$work/cgo/dist" "$work/cgo/.xgo-build"
export XGO_CACHE=${XGO_CACHE:-$HOME/.cache/xgo-build} TMPDIR=$work
export XGO_ZIG_CACHE=${XGO_ZIG_CACHE:-$XGO_CACHE/zig-cache}
proj=$work/cgo

if [ -n "${LINUX_ARCHS:-}" ]; then
	list=$(for a in $LINUX_ARCHS; do printf '"%s", ' "$a"; done)
	awk -v m="matrix { goos = { \"linux\" }, goarch = { $list }, cgo = true }" '
		/^local function targets\(\)/ { print; print "  return " m; skip = 1; next }
		skip && /^end/ { skip = 0 } !skip' "$proj/release.lua" >"$proj/r.tmp" && mv "$proj/r.tmp" "$proj/release.lua"
fi

# Only the selected builds: drop the others from release.lua.
for b in cgohello sqlitedemo; do
	case " $builds " in *" $b "*) ;; *)
		awk -v b="$b" '$0 ~ "^build \"" b "\"" {skip=1} skip && /^}/ {skip=0; next} !skip' \
			"$proj/release.lua" >"$proj/r.tmp" && mv "$proj/r.tmp" "$proj/release.lua" ;;
	esac
done

# The loop does not smoke-test: neither does xgo-build here.
sed '/^  smoke = /d' "$proj/release.lua" >"$proj/r.tmp" && mv "$proj/r.tmp" "$proj/release.lua"

now() { date +%s.%N; }

xgo() { # gocache
	XGO_GOCACHE=$1 "$bin" run -q --dist "$work/dist-xgo" "$proj/release.lua" >/dev/null 2>"$work/err" ||
		{ cat "$work/err"; exit 1; }
}

# The loop: every job of the manifest, one `go build` after the other,
# with the job's own CC/CXX/CGO_* and argv, in the host environment.
loop() { # gocache
	python3 - "$work/manifest.json" "$1" "$work/dist-loop" "$proj" <<'PY' || exit 1
import json, os, subprocess, sys
man, gocache, dist, proj = sys.argv[1:5]
keep = ("CC", "CXX", "AR", "CGO_ENABLED", "CGO_CFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS", "GOOS", "GOARCH",
        "GOARM", "GOAMD64", "GOARM64", "GORISCV64", "GOFLAGS", "ZIG_GLOBAL_CACHE_DIR", "ZIG_LOCAL_CACHE_DIR",
        "SOURCE_DATE_EPOCH", "GOROOT", "GOMODCACHE")
for j in json.load(open(man))["jobs"]:
    env = dict(os.environ, GOCACHE=gocache, GOPROXY="off")
    env.update({k: v for k, v in (e.split("=", 1) for e in j["env"]) if k in keep})
    argv = list(j["argv"])
    argv[argv.index("-o") + 1] = os.path.join(dist, j["output"])
    argv = [a for a in argv if not a.startswith("-p=")]
    subprocess.run(argv, cwd=proj, env=env, check=True, stdout=subprocess.DEVNULL)
PY
}

run_one() { # label gocache
	label=$1
	t0=$(now)
	case $label in xgo*) xgo "$2" ;; *) loop "$2" ;; esac
	t1=$(now)
	echo "$label $(echo "$t1 - $t0" | bc)" | tee -a "$work/times"
}
median() { grep "^$1 " "$work/times" | cut -d' ' -f2 | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "builds: $builds; targets: ${LINUX_ARCHS:-all 6}; cores: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# One run first: warms zig's cache and gives the manifest the loop replays.
xgo "$work/gocache-first"
cp "$work/dist-xgo/manifest.json" "$work/manifest.json"
: >"$work/times"
i=0
while [ $i -lt "$repeat" ]; do
	rm -rf "$work/gc-x" "$work/gc-l"
	run_one xgo-cold "$work/gc-x"
	run_one loop-cold "$work/gc-l"
	run_one xgo-warm "$work/gc-x"
	run_one loop-warm "$work/gc-l"
	i=$((i + 1))
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
for k in cold warm; do
	x=$(median "xgo-$k")
	l=$(median "loop-$k")
	echo "median $k: xgo-build ${x}s, go build loop ${l}s, loop/xgo $(echo "scale=2; $l / $x" | bc)"
done
