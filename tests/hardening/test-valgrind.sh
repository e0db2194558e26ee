#!/bin/bash
# sockaudit report, list and dump on a real audited process are clean under
# valgrind memcheck: no invalid access, no use of uninitialised memory, no
# definite leak. The holder has nothing to flag (fresh, established, no
# CLOSE_WAIT, nothing idle for the default 5 minutes), so each command must
# exit 0: exit 1 ("flagged") would be a wrong answer, not a clean run.
set -u
cli=$1 shim=$2 holder=$3
if ! command -v valgrind >/dev/null; then
	# tools/install-deps installs valgrind: under tools/check this is a failure.
	if [ "${SOCKAUDIT_STRICT:-}" = 1 ]; then
		echo "1..1"
		echo "not ok 1 - valgrind not installed (a skip is a failure under SOCKAUDIT_STRICT=1)"
	else
		echo "1..0 # SKIP valgrind not installed"
	fi
	exit 0
fi
echo "1..4"
coproc H { LD_PRELOAD="$shim" "$holder"; }
read -r -t 10 ready pid <&"${H[0]}" || { echo "Bail out! holder did not start"; exit 1; }
[ "$ready" = ready ] && echo "ok 1 - holder $pid ready" || echo "not ok 1 - holder: $ready"
n=2
for args in "report --all $pid" "report --json $pid" "dump --json $pid"; do
	log=$(mktemp)
	timeout 120 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--log-file="$log" "$cli" $args >/dev/null 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $n - valgrind clean: sockaudit $args (exit 0, nothing flagged)"
	else
		echo "not ok $n - sockaudit $args under valgrind: exit $rc"
		sed 's/^/# /' "$log" | head -40
	fi
	rm -f "$log"
	n=$((n + 1))
done
kill "$H_PID" 2>/dev/null
wait 2>/dev/null
