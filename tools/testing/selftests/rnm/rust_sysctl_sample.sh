#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The sample module: load, its sysctl files and kernel log, validated writes,
# unload.

source "$(dirname "$0")/lib.sh"

D=/proc/sys/dev/rust_sysctl_sample

[ -e $D ] && die "$D exists before the module is loaded"
rnm_insmod rust_sysctl_sample
dmesg | grep -q 'rust_sysctl_sample: registered 2 sysctls: limit=64 (1..=1000), burst=4 (0..=16)' ||
	fail "load message missing from the kernel log"
# The taint the kernel gives a module of a licence it accepts: O if it
# was built out of tree, E if the kernel checks signatures and the module
# is not signed; nothing else (no P, no F).
ko=$(rnm_ko rust_sysctl_sample)
want=
[ "$(modinfo -F intree "$ko")" = Y ] || want=O
[ -e /sys/module/module/parameters/sig_enforce ] && [ -z "$(modinfo -F signer "$ko")" ] && want=${want}E
check_eq "taint" "$(cat /sys/module/rust_sysctl_sample/taint)" "$want"

check_eq limit "$(cat $D/limit)" 64
check_eq burst "$(cat $D/burst)" 4
write_ok $D/limit 1000 && check_eq limit "$(cat $D/limit)" 1000
write_ok $D/limit 1 && check_eq limit "$(cat $D/limit)" 1
write_ok $D/limit 100 && check_eq limit "$(cat $D/limit)" 100
write_ok $D/burst 0 && check_eq burst "$(cat $D/burst)" 0

# An empty write never reaches the handler: it must change nothing.
printf '' >$D/limit
check_eq "limit after empty write" "$(cat $D/limit)" 100
for v in 0 1001 -1 abc 12abc 99999999999999999999 " " "$(head -c 5000 /dev/zero | tr '\0' 7)"; do
	write_rejected $D/limit "$v"
done
for v in -1 17 x; do
	write_rejected $D/burst "$v"
done
check_eq "limit after bad writes" "$(cat $D/limit)" 100

rnm_rmmod rust_sysctl_sample
[ -e $D ] && fail "$D still exists after unload"
dmesg | grep -q 'rust_sysctl_sample: unloading: limit=100 burst=0' ||
	fail "unload message missing from the kernel log"

[ $RET = 0 ] && log "PASS: sample sysctls validated"
exit $RET
