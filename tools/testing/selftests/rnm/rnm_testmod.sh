#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The abstractions' run-time checks (rnm_testmod): the module misuses them
# from safe code at load and reports each case as a KTAP line.  A check
# that is missing shows as a failed case, a failed load, a hang (caught by
# the runner's time limit) or a report in the kernel log (caught by the
# runner's scan).

source "$(dirname "$0")/lib.sh"

# Built out of tree only (make modules), as bpf_testmod: the kernel tree's
# series, which the debug lane loads, does not carry it.
[ -f "$RNM_MODDIR/rnm_testmod.ko" ] ||
	skip "rnm_testmod.ko is not in $RNM_MODDIR (built out of tree only)"
# What RcuArc::replace refuses to free is leaked, which kmemleak reports.
[ -e /sys/kernel/debug/kmemleak ] &&
	skip "kmemleak is on: rnm_testmod leaks two objects a load by design"

ko=$(rnm_ko rnm_testmod) || exit $ksft_fail
rnm_load_deps "$ko" || die "cannot load the dependencies of rnm_testmod.ko"
before=$(dmesg | wc -l)
loaded=1
# Fails (EINVAL) if a case fails: the cases' lines below say which.
insmod "$ko" || { fail "insmod rnm_testmod.ko failed"; loaded=0; }
out=$(dmesg --notime | tail -n +"$((before + 1))" | sed -n 's/^rnm_testmod: //p')
echo "$out" | sed 's/^/# /'

check_eq "plan" "$(echo "$out" | grep -c '^1\.\.5$')" 1
check_eq "cases passed" "$(echo "$out" | grep -c '^ok [1-5] ')" 5
check_eq "cases failed" "$(echo "$out" | grep -c '^not ok')" 0
# Both RcuArc cases leak instead of waiting; the warning is printed once.
check_eq "replace warnings" \
	"$(echo "$out" | grep -c 'RcuArc::replace() where it may not sleep: the previous object is leaked')" 1

# sysfs: a show callback never returns a page or more (sysfs would warn);
# what does not fit fails with EFBIG.
if [ $loaded = 1 ]; then
	B=/sys/bus/rnm_testmod
	for f in page sloppy; do
		err=$(cat $B/$f 2>&1 >/dev/null) && fail "reading $f (more than sysfs takes) succeeded"
		case "$err" in
		*"too large"*) ;;
		*) fail "reading $f: '$err', want EFBIG (File too large)" ;;
		esac
	done
	check_eq "bytes of almost" "$(wc -c <$B/almost)" "$(($(getconf PAGESIZE) - 1))"

	# rnmt0's stop enables its NAPI context again: it must be disabled
	# once the device is down (threaded, a context has a thread while it
	# is added, which enabling does and disabling undoes).
	ip link set rnmt0 up || fail "ip link set rnmt0 up"
	echo 1 >/sys/class/net/rnmt0/threaded || fail "threaded NAPI on rnmt0"
	busywait 10000 pgrep '^napi/rnmt0-' >/dev/null || fail "no NAPI thread for rnmt0 up"
	ip link set rnmt0 down || fail "ip link set rnmt0 down"
	busywait 10000 sh -c "! pgrep '^napi/rnmt0-' >/dev/null" ||
		fail "rnmt0 down: its stop enabled its NAPI context again, and it stayed enabled"
	rnm_rmmod rnm_testmod
fi

[ $RET = 0 ] && log "PASS: run-time checks hold"
exit $RET
