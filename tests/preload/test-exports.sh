#!/bin/bash
# The shim exports exactly its wrappers: anything else would interpose on the
# host's symbols. Compares `nm -D --defined-only` with the version script.
# pipefail and the checks on each tool's output: a failing nm or readelf
# must fail the test, not print an empty list that compares equal.
set -u -o pipefail
lib=$1
map=$2
echo "1..3"
for tool in nm readelf; do
	command -v $tool >/dev/null || { echo "Bail out! $tool not found (binutils)"; exit 1; }
done
nm -D "$lib" >/dev/null || { echo "Bail out! nm -D $lib failed"; exit 1; }
readelf -h "$lib" >/dev/null || { echo "Bail out! readelf -h $lib failed"; exit 1; }
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWiV]$/ {print $3}' | sed 's/@.*//' | sort -u) ||
	{ echo "Bail out! nm -D --defined-only $lib failed"; exit 1; }
allowed=$(sed -n '/global:/,/local:/p' "$map" | tr ' \t;' '\n\n\n' | grep -E '^[A-Za-z_][A-Za-z0-9_]*$' | grep -v -e '^global$' -e '^local$' | sort -u) ||
	{ echo "Bail out! no global: names in $map"; exit 1; }
[ -n "$exported" ] || { echo "Bail out! nm found no exported symbols in $lib"; exit 1; }
# The vfork, clone and syscall trampolines (preload/vfork.c,
# preload/wrap-syscall.c) exist on x86_64 and aarch64 only; elsewhere the
# shim checks the pid always and does not see syscall(SYS_close).
trampolines=0
machine=$(readelf -h "$lib" | sed -n 's/^ *Machine: *//p') && [ -n "$machine" ] ||
	{ echo "Bail out! readelf -h $lib shows no Machine"; exit 1; }
case $machine in
*X86-64* | *AArch64*) trampolines=1 ;;
*) allowed=$(echo "$allowed" | grep -vx -e vfork -e clone -e syscall) ;;
esac
if [ "$exported" = "$allowed" ]; then
	echo "ok 1 - exported symbols are exactly the allow-list ($(echo "$allowed" | wc -l) names)"
else
	echo "not ok 1 - exported symbols differ from the allow-list"
	diff <(echo "$allowed") <(echo "$exported") 2>/dev/null | sed 's/^/# /' || true
	echo "# exported: $(echo $exported)"
fi
# Captured first: with pipefail, `nm | grep -q` fails when grep stops
# reading early (nm gets SIGPIPE), which would hide a match.
dynsyms=$(nm -D "$lib") || { echo "Bail out! nm -D $lib failed"; exit 1; }
dynamic=$(readelf -d "$lib") || { echo "Bail out! readelf -d $lib failed"; exit 1; }
if grep -q ' U .*unw_' <<<"$dynsyms"; then
	echo "not ok 2 - the shim links libunwind symbols (it must dlopen them)"
elif grep -q 'libunwind' <<<"$dynamic"; then
	echo "not ok 2 - libunwind is a DT_NEEDED of the shim"
else
	echo "ok 2 - libunwind is not linked into the shim"
fi
if [ $trampolines -eq 0 ]; then
	echo "ok 3 - # SKIP no vfork/clone trampolines on this architecture"
else
	# Assembly symbols: without .type/.size they would be NOTYPE, 0 bytes.
	syms=$(readelf -W --dyn-syms "$lib") || { echo "Bail out! readelf --dyn-syms $lib failed"; exit 1; }
	bad=$(echo "$syms" |
		awk '$8 == "vfork" || $8 == "clone" || $8 == "syscall" {print $8, $3, $4, $6}' |
		awk '$3 != "FUNC" || $2 == 0 || $4 != "DEFAULT"')
	n=$(echo "$syms" | awk '$8 == "vfork" || $8 == "clone" || $8 == "syscall"' | wc -l)
	if [ -z "$bad" ] && [ "$n" -eq 3 ]; then
		echo "ok 3 - vfork, clone and syscall trampolines are sized default-visibility functions"
	else
		echo "not ok 3 - vfork/clone/syscall trampoline symbols are malformed"
		readelf -W --dyn-syms "$lib" | grep -w -e vfork -e clone -e syscall | sed 's/^/# /'
	fi
fi
