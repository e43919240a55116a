#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nf_conntrack_ftp_rs beside nf_conntrack_ftp: the helper name "ftp" is
# taken, so loading fails with a clear message; with alt_name=1 the module
# registers "ftp-rs", which a ruleset can then name.  With loose=1 an
# address other than the sender's is expected instead of refused.

source "$(dirname "$0")/ftp_lib.sh"
trap ftp_cleanup EXIT

require_cmd nft conntrack python3 ss
modprobe nf_conntrack || skip "no nf_conntrack"
modinfo nf_conntrack_ftp >/dev/null 2>&1 || skip "no nf_conntrack_ftp"
modprobe nf_conntrack_ftp || die "cannot load nf_conntrack_ftp"

ko=$(rnm_ko nf_conntrack_ftp_rs) || exit $ksft_fail
rnm_load_deps "$ko" || die "cannot load the dependencies of nf_conntrack_ftp_rs.ko"
if err=$(insmod "$ko" 2>&1); then
	fail "loaded while nf_conntrack_ftp holds the name \"ftp\""
	rmmod nf_conntrack_ftp_rs
fi
[[ "$err" == *"Device or resource busy"* ]] || fail "insmod error: '$err', want EBUSY"
dmesg | grep -q 'conntrack helper "ftp" is already registered.*alt_name=1' ||
	fail "no message naming the taken helper and alt_name"

rnm_insmod nf_conntrack_ftp_rs alt_name=1 loose=1
dmesg | grep -q 'registered conntrack helper "ftp-rs"' || fail "not registered as ftp-rs"

ftp_topology
ftp_firewall ftp-rs
nsx "$NS_S" python3 "$FTP_PEER" echo-server $E4 >/dev/null 2>&1 &
busywait 30000 ftp_listening 1 || die "echo server not listening"
bounce=$(cat /sys/kernel/nf_conntrack_ftp_rs/bounce_refused)
ftp_session l1 $E4 43001 "USER anonymous" "PORT 10,0,1,7,117,48"
busywait 10000 ftp_expect_count_ge 1 || fail "no expectation with loose=1"
ftp_expect_list | grep -q "proto=6 src=$E4 dst=10.0.1.7 sport=0 dport=30000 .* helper=ftp-rs" ||
	fail "loose expectation: $(ftp_expect_list)"
check_eq "bounce_refused with loose" "$(cat /sys/kernel/nf_conntrack_ftp_rs/bounce_refused)" "$bounce"
ftp_release l1

nsx "$NS_R" nft flush ruleset
rnm_rmmod nf_conntrack_ftp_rs
modprobe -r nf_conntrack_ftp
[ $RET = 0 ] && log "PASS: alt_name, taken name, loose"
exit $RET
