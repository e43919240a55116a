#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the project's kselftests inside the guest, one after the other, and
# print TAP.  Before each test the kernel log is cleared; after it the log
# is scanned, and any WARNING, BUG, Oops, KASAN report, refcount or list
# corruption, lockdep splat, call trace or module relocation error fails
# the test even if the test itself passed.  Each test's output and kernel
# log are kept in out/logs/.
#
# Usage: run_in_guest.sh TEST...

DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$DIR/../../../.." && pwd)
LOGS=$TOP/out/logs
TIMEOUT=${RNM_TEST_TIMEOUT:-900}
mkdir -p "$LOGS"

BAD='WARNING:|BUG:|Oops|KASAN|UBSAN|refcount_t:|list_add corruption|list_del corruption|possible circular locking|inconsistent lock state|lockdep|Call Trace:|Invalid relocation|general protection fault|kernel panic|stack-protector|unreferenced object'

export RNM_TOP=$TOP
export RNM_STRICT=${RNM_STRICT:-0}
dmesg -n 1 2>/dev/null

echo "TAP version 13"
echo "1..$#"
n=0
for t in "$@"; do
	n=$((n + 1))
	name=$(basename "$t" .sh)
	dmesg -C
	(cd "$DIR" && timeout -k 10 "$TIMEOUT" "./$t") >"$LOGS/$name.log" 2>&1
	rc=$?
	dmesg >"$LOGS/$name.dmesg"
	bad=$(grep -E "$BAD" "$LOGS/$name.dmesg" | head -n 3)
	sed 's/^/# /' "$LOGS/$name.log" | grep -E '^# (FAIL|SKIP|ok|not ok|PASS|INFO)' | head -n 40
	if [ -n "$bad" ]; then
		echo "# kernel log of $name:"
		echo "$bad" | sed 's/^/#   /'
		echo "not ok $n $name # kernel log"
	elif [ $rc = 0 ]; then
		echo "ok $n $name"
	elif [ $rc = 4 ]; then
		echo "ok $n $name # SKIP $(grep -m1 '^# SKIP' "$LOGS/$name.log" | sed 's/^# SKIP: //')"
	else
		[ $rc = 124 ] && echo "# timed out after ${TIMEOUT}s"
		tail -n 15 "$LOGS/$name.log" | sed 's/^/#   /'
		echo "not ok $n $name # exit $rc, log out/logs/$name.log"
	fi
done
