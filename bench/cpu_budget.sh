#!/bin/sh
# bench/cpu_budget.sh - how to share the CPUs between parallel `go build` jobs.
# Builds a package for 11 targets with a fresh GOCACHE per trial under three
# policies and prints the wall time of each:
#   A: 2 jobs at a time, -p 1, GOMAXPROCS=1
#   B: 2 jobs at a time, -p 2, GOMAXPROCS unset (= CPUs)
#   C: 1 job at a time,  -p 2, GOMAXPROCS unset
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
	start=$(date +%s.%N)
	echo $targets | tr ' ' '\n' | xargs -P "$2" -n 1 sh "$0" __one "$work" "$pkg" "$3" "$4"
	end=$(date +%s.%N)
	echo "$1 $(echo "$end - $start" | bc)"
}

for i in $(seq "$repeat"); do
	trial "A(2 jobs,-p1,GOMAXPROCS=1)" 2 1 1
	trial "B(2 jobs,-p2)" 2 2 -
	trial "C(1 job,-p2)" 1 2 -
done
