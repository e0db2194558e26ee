#!/bin/bash
# The shim exports exactly its wrappers: anything else would interpose on the
# host's symbols. Compares `nm -D --defined-only` with the version script.
set -u
lib=$1
map=$2
echo "1..2"
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWiV]$/ {print $3}' | sed 's/@.*//' | sort -u)
allowed=$(sed -n '/global:/,/local:/p' "$map" | tr ' \t;' '\n\n\n' | grep -E '^[A-Za-z_][A-Za-z0-9_]*$' | grep -v -e '^global$' -e '^local$' | sort -u)
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
