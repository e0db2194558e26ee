#!/bin/bash
# tools/include-cycles on small trees made here: quiet and 0 on a tree whose
# includes point down, 1 naming every file of the cycle on a tree with one,
# and the project's own tree has none.
set -uo pipefail
tool=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..5"

mk() {   # mk FILE [INCLUDED...]: a source file including the given headers
	local f=$1
	shift
	mkdir -p "$(dirname "$tmp/$f")"
	: >"$tmp/$f"
	for h in "$@"; do
		echo "#include \"$h\"" >>"$tmp/$f"
	done
}

mk common/table.h
mk cli/util/util.h
mk cli/util/util.c util/util.h table.h
mk cli/report/join.h table.h
mk cli/report/join.c report/join.h util/util.h
mk cli/report/group.h report/join.h
mk cli/report/group.c report/group.h report/join.h
mk cli/run.c report/group.h util/util.h '<stdio.h>'
out=$("$tool" "$tmp" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then
	echo "ok 1 - a tree whose includes point down passes quietly"
else
	echo "not ok 1 - a tree whose includes point down: exit $rc"
	echo "$out" | sed 's/^/# /'
fi

# join.c now needs group.h, and group.h needs join.h: a cycle of two units.
mk cli/report/join.c report/join.h report/group.h util/util.h
out=$("$tool" "$tmp" 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q 'include cycle: cli/report/group -> cli/report/join -> cli/report/group'; then
	echo "ok 2 - a cycle of two units fails with exit 1 and is named"
else
	echo "not ok 2 - a cycle of two units: exit $rc"
	echo "$out" | sed 's/^/# /'
fi
if echo "$out" | grep -q 'cli/report/join.c includes cli/report/group.h' &&
   echo "$out" | grep -Eq 'cli/report/group\.[ch] includes cli/report/join.h'; then
	echo "ok 3 - the files that form the cycle are listed"
else
	echo "not ok 3 - the files that form the cycle are not all listed"
	echo "$out" | sed 's/^/# /'
fi

# A longer one through three folders.
mk cli/report/join.c report/join.h util/util.h
mk cli/util/util.h run/x.h
mk cli/run/x.h report/group.h
mk cli/report/group.h report/join.h util/util.h
out=$("$tool" "$tmp" 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q 'include cycle: cli/report/group -> cli/util/util -> cli/run/x -> cli/report/group'; then
	echo "ok 4 - a cycle across three folders is found"
else
	echo "not ok 4 - a cycle across three folders: exit $rc"
	echo "$out" | sed 's/^/# /'
fi

out=$("$tool" "$root" 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
	echo "ok 5 - the project's own includes point down"
else
	echo "not ok 5 - the project's own tree has include cycles"
	echo "$out" | sed 's/^/# /'
fi
