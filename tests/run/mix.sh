#!/bin/sh
# The CMD of the run tests: a mix of leaky and clean programs, started the
# way a test suite starts them (forked by a shell, in parallel).
#   mix.sh OUTDIR BINDIR SRCDIR
set -e
out=$1
bin=$2
src=$3
"$bin/run-cw" "$out/cw" &
/usr/bin/python3 "$src/run-idle.py" "$out/idle" &
"$bin/run-clean" "$out/clean" &
"$bin/run-daemon" "$out/daemon" &
"$bin/run-atexit" "$out/atexit" &
wait
