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

ko=$(rnm_ko rnm_testmod) || exit $ksft_fail
rnm_load_deps "$ko" || die "cannot load the dependencies of rnm_testmod.ko"
before=$(dmesg | wc -l)
loaded=1
# Fails (EINVAL) if a case fails: the cases' lines below say which.
insmod "$ko" || { fail "insmod rnm_testmod.ko failed"; loaded=0; }
out=$(dmesg | tail -n +"$((before + 1))" | sed -n 's/^\[[^]]*\] rnm_testmod: //p')
echo "$out" | sed 's/^/# /'

check_eq "plan" "$(echo "$out" | grep -c '^1\.\.4$')" 1
check_eq "cases passed" "$(echo "$out" | grep -c '^ok [1-4] ')" 4
check_eq "cases failed" "$(echo "$out" | grep -c '^not ok')" 0
# Both RcuArc cases leak instead of waiting; the warning is printed once.
check_eq "replace warnings" \
	"$(echo "$out" | grep -c 'RcuArc::replace() where it may not sleep: the previous object is leaked')" 1

[ $loaded = 1 ] && rnm_rmmod rnm_testmod

[ $RET = 0 ] && log "PASS: run-time checks hold"
exit $RET
