#!/bin/bash
# The shim exports exactly its wrappers: anything else would interpose on the
# host's symbols. Compares `nm -D --defined-only` with the version script.
set -u
lib=$1
map=$2
echo "1..3"
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWiV]$/ {print $3}' | sed 's/@.*//' | sort -u)
allowed=$(sed -n '/global:/,/local:/p' "$map" | tr ' \t;' '\n\n\n' | grep -E '^[A-Za-z_][A-Za-z0-9_]*$' | grep -v -e '^global$' -e '^local$' | sort -u)
# The vfork and clone trampolines (preload/vfork.c) exist on x86_64 and
# aarch64 only; elsewhere the shim checks the pid always.
trampolines=0
case $(readelf -h "$lib" | sed -n 's/^ *Machine: *//p') in
*X86-64* | *AArch64*) trampolines=1 ;;
*) allowed=$(echo "$allowed" | grep -vx -e vfork -e clone) ;;
esac
if [ "$exported" = "$allowed" ]; then
	echo "ok 1 - exported symbols are exactly the allow-list ($(echo "$allowed" | wc -l) names)"
else
	echo "not ok 1 - exported symbols differ from the allow-list"
	diff <(echo "$allowed") <(echo "$exported") 2>/dev/null | sed 's/^/# /' || true
	echo "# exported: $(echo $exported)"
fi
if nm -D "$lib" | grep -q ' U .*unw_'; then
	echo "not ok 2 - the shim links libunwind symbols (it must dlopen them)"
elif readelf -d "$lib" | grep -q 'libunwind'; then
	echo "not ok 2 - libunwind is a DT_NEEDED of the shim"
else
	echo "ok 2 - libunwind is not linked into the shim"
fi
if [ $trampolines -eq 0 ]; then
	echo "ok 3 - # SKIP no vfork/clone trampolines on this architecture"
else
	# Assembly symbols: without .type/.size they would be NOTYPE, 0 bytes.
	bad=$(readelf -W --dyn-syms "$lib" |
		awk '$8 == "vfork" || $8 == "clone" {print $8, $3, $4, $6}' |
		awk '$3 != "FUNC" || $2 == 0 || $4 != "DEFAULT"')
	n=$(readelf -W --dyn-syms "$lib" | awk '$8 == "vfork" || $8 == "clone"' | wc -l)
	if [ -z "$bad" ] && [ "$n" -eq 2 ]; then
		echo "ok 3 - vfork and clone trampolines are sized default-visibility functions"
	else
		echo "not ok 3 - vfork/clone trampoline symbols are malformed"
		readelf -W --dyn-syms "$lib" | grep -w -e vfork -e clone | sed 's/^/# /'
	fi
fi
