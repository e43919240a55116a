#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the project's kselftests inside the guest, one after the other, and
# print TAP.  Before each test the kernel log is cleared; after it the log
# is scanned, and any WARNING, BUG, Oops, KASAN or UBSAN report, refcount
# or list corruption, refcount-tracker, lockdep or RCU splat, hung task,
# call trace or module relocation error fails the test even if the test
# itself passed.  On a kernel with kmemleak, memory is scanned twice after
# each test (as netdev CI does) and any leak reported fails the test.
# Each test's output, kernel log and leak report are kept in out/logs/
# (RNM_LOGS overrides the directory).  With RNM_DEADLINE (seconds since
# the epoch), the check's time budget ends then: a test that would start
# after it is skipped, and a test still running then is stopped and
# reported as skipped (a kernel report during it still fails it); each
# says so.
#
# Usage: run_in_guest.sh TEST...

DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$DIR/../../../.." && pwd)
LOGS=${RNM_LOGS:-$TOP/out/logs}
# The longest a test may take (seconds; RNM_TEST_TIMEOUT).  It only stops
# a test that hangs: vnapi_drivers_net, the longest, ran the kernel's
# eight drivers/net tests in about 1070 s under TCG on a host where
# iperf3 over veth does 4.8 Gbit/s, past the 900 s this was.
TIMEOUT=${RNM_TEST_TIMEOUT:-1800}
# A stopped test's clean-up (its EXIT trap) gets this long before it is
# killed.
GRACE=$((10 * ${RNM_TIMEOUT_SCALE:-1}))
mkdir -p "$LOGS"

BAD='WARNING:|BUG:|Oops|KASAN|UBSAN|refcount_t:|list_add corruption|list_del corruption|possible circular locking|inconsistent lock state|lockdep|suspicious RCU usage|ref_tracker|blocked for more than|Kernel memory leak detector disabled|Call Trace:|Invalid relocation|general protection fault|kernel panic|stack-protector|unreferenced object'

# kmemleak, where the kernel has it: reports of the boot are not the tests'.
KMEMLEAK=/sys/kernel/debug/kmemleak
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -w $KMEMLEAK ] || KMEMLEAK=
# RNM_KMEMLEAK=1 (the debug kernel's lane): a kernel without a working
# kmemleak fails every test instead of passing unchecked.
NO_KMEMLEAK=
[ "${RNM_KMEMLEAK:-0}" = 1 ] && [ -z "$KMEMLEAK" ] && NO_KMEMLEAK="no kmemleak in this kernel"

# Objects younger than 5 s are never reported: scan, wait, scan again.
# What was reported is then cleared, so that each leak is counted once.
# A scan that fails (kmemleak turned itself off) fails the test.
kmemleak_scan() {
	echo scan 2>/dev/null >$KMEMLEAK || { echo "kmemleak: scan failed (detector disabled)"; return 1; }
	sleep 6
	echo scan 2>/dev/null >$KMEMLEAK || { echo "kmemleak: scan failed (detector disabled)"; return 1; }
	cat $KMEMLEAK
	echo clear >$KMEMLEAK
}
[ -n "$KMEMLEAK" ] && { kmemleak_scan >"$LOGS/boot.kmemleak" || NO_KMEMLEAK="kmemleak scan failed at boot"; }

# lockdep, where the kernel has it: its first report turns it off for the
# rest of the boot (debug_locks 0), and every later test would run
# unchecked; a test after which it is off fails, as does every test if it
# is off at boot.
LOCKDEP_STATS=/proc/lockdep_stats
debug_locks() { awk '$1 == "debug_locks:" { print $2 }' $LOCKDEP_STATS; }
NO_LOCKDEP=
[ -r $LOCKDEP_STATS ] || LOCKDEP_STATS=
[ -n "$LOCKDEP_STATS" ] && [ "$(debug_locks)" != 1 ] && NO_LOCKDEP="lockdep off at boot (debug_locks $(debug_locks))"

export RNM_TOP=$TOP
export RNM_STRICT=${RNM_STRICT:-0}
dmesg -n 1 2>/dev/null

echo "TAP version 13"
echo "1..$#"
n=0
for t in "$@"; do
	n=$((n + 1))
	name=$(basename "$t" .sh)
	# The test's time limit: its own, or what is left of the budget, less
	# the time its clean-up gets after it is stopped.
	limit=$TIMEOUT cut=0
	if [ -n "${RNM_DEADLINE:-}" ]; then
		left=$((RNM_DEADLINE - $(date +%s) - GRACE))
		if [ $left -le 0 ]; then
			echo "ok $n $name # SKIP no time left in the check's time budget"
			continue
		fi
		[ $left -lt "$limit" ] && limit=$left cut=1
	fi
	dmesg -C
	(cd "$DIR" && timeout -k $GRACE "$limit" "./$t") >"$LOGS/$name.log" 2>&1
	rc=$?
	leaks=$NO_KMEMLEAK
	if [ -n "$KMEMLEAK" ] && [ -z "$leaks" ]; then
		if kmemleak_scan >"$LOGS/$name.kmemleak"; then
			leaks=$(grep -c 'unreferenced object' "$LOGS/$name.kmemleak")
			[ "$leaks" = 0 ] && leaks= || leaks="$leaks unreferenced object(s), see $LOGS/$name.kmemleak"
		else
			leaks=$(tail -n1 "$LOGS/$name.kmemleak")
		fi
	fi
	dmesg >"$LOGS/$name.dmesg"
	bad=$(grep -E "$BAD" "$LOGS/$name.dmesg" | head -n 3)
	lockdep=$NO_LOCKDEP
	if [ -n "$LOCKDEP_STATS" ] && [ -z "$lockdep" ] && [ "$(debug_locks)" != 1 ]; then
		lockdep="turned itself off during the test (debug_locks 0)"
		NO_LOCKDEP="turned itself off in an earlier test"
	fi
	[ -n "$lockdep" ] && bad="${bad:+$bad
}lockdep: $lockdep"
	[ -n "$leaks" ] && bad="${bad:+$bad
}kmemleak: $leaks"
	sed 's/^/# /' "$LOGS/$name.log" | grep -E '^# (FAIL|SKIP|ok|not ok|PASS|INFO)' | head -n 40
	if [ -n "$bad" ]; then
		echo "# kernel log of $name:"
		echo "$bad" | sed 's/^/#   /'
		# The first report, without its timestamp, names the cause
		# where only the TAP lines are kept.
		first=$(echo "$bad" | head -n1 | sed -E 's/^(\[[^]]*\] *)+//' | cut -c1-160)
		echo "not ok $n $name # kernel log: $first"
	elif [ $rc = 0 ]; then
		echo "ok $n $name"
	elif [ $cut = 1 ] && { [ $rc = 124 ] || [ $rc = 137 ]; }; then
		echo "ok $n $name # SKIP stopped after ${limit}s, at the end of the check's time budget"
	elif [ $rc = 4 ]; then
		echo "ok $n $name # SKIP $(grep -m1 '^# SKIP' "$LOGS/$name.log" | sed 's/^# SKIP: //')"
	else
		[ $rc = 124 ] && echo "# timed out after ${limit}s"
		tail -n 15 "$LOGS/$name.log" | sed 's/^/#   /'
		echo "not ok $n $name # exit $rc, log ${LOGS#"$TOP"/}/$name.log"
	fi
done
