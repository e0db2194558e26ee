#!/bin/bash
# Runs the C++ thrower under the shim with LD_DEBUG=bindings and checks that
# libstdc++'s _Unwind_RaiseException is bound to libgcc_s.
set -u
exe=$1
echo "1..3"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
out=$(LD_DEBUG=bindings LD_DEBUG_OUTPUT="$log" "$exe")
rc=$?
[ $rc -eq 0 ] && [ "$out" = "caught 100" ] && echo "ok 1 - 100 exceptions thrown and caught under the shim" \
	|| echo "not ok 1 - thrower failed: rc=$rc out=$out"
# LD_PRELOAD naming the shim is not enough: ld.so ignores a preload it
# cannot load. The bindings log shows the shim's own symbol lookups only
# when it was loaded and relocated.
case "${LD_PRELOAD:-}" in
*libsockaudit*)
	if cat "$log".* 2>/dev/null | grep -q "binding file [^ ]*libsockaudit[^ ]* "; then
		echo "ok 2 - running under the shim (ld.so relocated libsockaudit.so)"
	else
		echo "not ok 2 - LD_PRELOAD names the shim but ld.so did not load it"
	fi ;;
*) echo "not ok 2 - LD_PRELOAD does not name the shim" ;;
esac
b=$(cat "$log".* 2>/dev/null | grep "symbol \`_Unwind_RaiseException'" | head -1)
rm -f "$log".*
if echo "$b" | grep -q "to .*libgcc_s"; then
	echo "ok 3 - _Unwind_RaiseException bound to libgcc_s"
else
	echo "not ok 3 - _Unwind_RaiseException binding: ${b:-none found}"
fi
