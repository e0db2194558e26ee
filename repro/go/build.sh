#!/bin/sh
# Build a Go program of the repro against the code `thrift --gen go` makes
# from repro/price.thrift, in GOPATH mode: Debian's golang-thrift-dev
# (/usr/share/gocode) provides the Thrift library, nothing is downloaded.
#   build.sh THRIFT GO IDL MAIN.go OUT WORKDIR
set -eu
thrift=$1 go=$2 idl=$3 main=$4 out=$5 work=$6
rm -rf "$work/gopath/src/price"
mkdir -p "$work/gopath/src"
"$thrift" --gen go -out "$work/gopath/src" "$idl"
rm -rf "$work/gopath/src/price/price_service-remote"   # its own main package
GO111MODULE=off GOPATH="$work/gopath:/usr/share/gocode" GOCACHE="$work/gocache" GOFLAGS= \
	CGO_ENABLED=0 "$go" build -o "$out" "$main"
