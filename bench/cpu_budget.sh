#!/bin/sh
# bench/cpu_budget.sh - how to share the CPUs between parallel `go build` jobs.
# Builds a package for 11 targets with a fresh GOCACHE per trial under four
# policies and prints, for each trial, the 1-minute load average before it,
# wall seconds and user+sys CPU seconds of all the builds:
#   A: 2 jobs at a time, -p 1, GOMAXPROCS=1
#   B: 2 jobs at a time, -p 2, GOMAXPROCS unset (= CPUs)
#   C: 1 job at a time,  -p 2, GOMAXPROCS unset
#   D: 2 jobs at a time, -p 1, GOMAXPROCS unset
# The order rotates between repetitions so that load from other users of a
# shared machine does not always hit the same policy.
# usage: sh bench/cpu_budget.sh PACKAGE [REPEAT]   (e.g. cmd/gofmt, /tmp/hello.go)
set -eu
GO=${GO:-/usr/local/go/bin/go}

if [ "${1:-}" = __one ]; then # __one WORK PKG -p GOMAXPROCS TARGET
	work=$2; pkg=$3; p=$4; maxprocs=$5; t=$6
	os=${t%%/*}; rest=${t#*/}; arch=${rest%%:*}; arm=
	case $rest in *:*) arm=${rest#*:} ;; esac
	[ "$maxprocs" = - ] && maxprocs=
	exec env -i PATH=/usr/bin:/bin HOME="$work/home" GOCACHE="$work/cache" \
		GOPATH="$work/gopath" GOENV=off GOTOOLCHAIN=local GOPROXY=off \
		GOFLAGS="-trimpath -buildvcs=false" CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" \
		${arm:+GOARM=$arm} ${maxprocs:+GOMAXPROCS=$maxprocs} \
		"$GO" build -p "$p" -o "$work/out/$os-$arch$arm" "$pkg"
fi

pkg=$1
repeat=${2:-1}
targets="linux/amd64 linux/arm64 linux/386 linux/arm:6 linux/arm:7 darwin/amd64
darwin/arm64 windows/amd64 windows/arm64 freebsd/amd64 linux/riscv64"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

trial() { # $1=name $2=parallel jobs $3=-p $4=GOMAXPROCS or -
	rm -rf "$work/cache" "$work/out"; mkdir -p "$work/out"
	load=$(cut -d' ' -f1 /proc/loadavg)
	t=$(echo $targets | tr ' ' '\n' |
		/usr/bin/time -f '%e %U %S' xargs -P "$2" -n 1 sh "$0" __one "$work" "$pkg" "$3" "$4" 2>&1 |
		tail -n 1)
	set -- "$1" $t
	echo "$1 load=$load wall=$2 cpu=$(echo "$3 + $4" | bc)"
}

A() { trial "A(2 jobs,-p1,GOMAXPROCS=1)" 2 1 1; }
B() { trial "B(2 jobs,-p2,GOMAXPROCS=-)" 2 2 -; }
C() { trial "C(1 job,-p2,GOMAXPROCS=-)" 1 2 -; }
D() { trial "D(2 jobs,-p1,GOMAXPROCS=-)" 2 1 -; }
order="A B C D"
for i in $(seq "$repeat"); do
	for f in $order; do $f; done
	order="${order#* } ${order%% *}"
done
