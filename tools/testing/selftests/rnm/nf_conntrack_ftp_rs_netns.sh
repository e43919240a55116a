#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nf_conntrack_ftp_rs: the limits of one network namespace do not leak into
# another.  The router (namespace R) sets expect_timeout=7 and passes one
# PORT command; then an expectation is created through ctnetlink in the
# client (namespace B, expect_timeout 300) for one of its own FTP control
# connections.  It must live the default 300 s, not R's 7 s, while R's
# expectation must expire after about 7 s.  (The helper used to write the
# namespace's limits into its one registered expectation policy, which the
# kernel applies to every expectation of the helper, in every namespace.)
# Then the per-namespace max_expected: R keeps 2 expectations per control
# connection, B only 1, for the same session.

source "$(dirname "$0")/ftp_lib.sh"
trap ftp_cleanup EXIT

require_cmd nft conntrack python3 ss
modprobe -r nf_conntrack_ftp 2>/dev/null
modprobe nf_conntrack || skip "no nf_conntrack"
rnm_insmod nf_conntrack_ftp_rs

SC=/proc/sys/net/netfilter/nf_conntrack_ftp_rs
NS_B=
# rsc NS FILE VALUE: write a sysctl of the helper in NS.
rsc() {
	nsx "$1" sh -c "printf '%s' '$3' >$SC/$2" || fail "cannot set $2=$3 in $1"
}
# expect_raw NS: the expectations of NS (IPv4), remaining lifetime first.
expect_raw() {
	nsx "$1" conntrack -L expect -f ipv4 2>/dev/null
}
# expect_timeout NS DPORT: the remaining lifetime of NS's expectation to
# port DPORT, empty if there is none.
expect_timeout() {
	expect_raw "$1" | awk -v p="dport=$2 " 'index($0, p) { print $1; exit }'
}
expect_gone() {
	[ -z "$(expect_timeout "$1" "$2")" ]
}
# master_expect_timeout NS SPORT: the remaining lifetime of NS's (first)
# expectation of the control connection from port SPORT.  (conntrack -L
# shows no ports for the expectation that conntrack -I creates.)
master_expect_timeout() {
	expect_raw "$1" | awk -v p="sport=$2 dport=21 " 'index($0, p) { print $1; exit }'
}
expect_count() {
	expect_raw "$1" | grep -c "master-src=.* sport=$2 dport=21 "
}
expect_count_is() {
	[ "$(expect_count "$1" "$2")" -eq "$3" ]
}

ftp_topology
NS_B=$NS_C
ftp_firewall ftp
# B assigns the helper to its own control connections from ports 43001 and
# 43003 (output hook, after conntrack has created the entry).
nsx "$NS_B" nft -f - <<-EOF || die "cannot load B's ruleset"
	table inet b {
	  ct helper ftp-h { type "ftp" protocol tcp; }
	  chain out { type filter hook output priority filter; policy accept;
	    tcp sport { 43001, 43003 } tcp dport 21 ct helper set "ftp-h"
	  }
	}
EOF
nsx "$NS_S" python3 "$FTP_PEER" echo-server $E4 >/dev/null 2>&1 &
busywait 30000 ftp_listening 1 || die "echo server not listening"

# B's control connection, the master of the ctnetlink expectation: no
# command, so no expectation from the helper.
ftp_session m $E4 43001 "USER anonymous"
nsx "$NS_B" conntrack -L -p tcp --sport 43001 --dport 21 2>/dev/null | grep -q 'helper=ftp' ||
	die "B's control connection has no helper"
check_eq "B's expectations before" "$(expect_raw "$NS_B" | grep -c proto=6)" 0

# R: a short timeout, and one PORT command through it.
rsc "$NS_R" expect_timeout 7
ftp_session r $E4 43002 "USER anonymous" "PORT 10,0,1,2,117,10"
t=$(expect_timeout "$NS_R" 29962)
# Under TCG it may even be gone already; if it is there, it has <= 7 s.
[ -z "$t" ] || [ "$t" -le 7 ] || fail "R's expectation lives $t s, want <= 7"

# B: an expectation created through ctnetlink for B's control connection
# (the kernel gives it the timeout of the helper's registered policy).
nsx "$NS_B" conntrack -I expect -s $C4 -d $E4 -p tcp --sport 43001 --dport 21 \
	--tuple-src $E4 --tuple-dst $C4 --tuple-port-src 0 --tuple-port-dst 30011 \
	--mask-src 255.255.255.255 --mask-dst 255.255.255.255 --mask-port-src 0 \
	--mask-port-dst 65535 -t 300 >"$FTP_TMP/insert.out" 2>&1 ||
	die "conntrack -I expect failed in B: $(cat "$FTP_TMP/insert.out")"
t=$(master_expect_timeout "$NS_B" 43001)
log "INFO: B's ctnetlink expectation: $t s"
if ! [ -n "$t" ] || ! [ "$t" -gt 250 ] || ! [ "$t" -le 300 ]; then
	fail "B's ctnetlink expectation lives '$t' s, want about 300 (R's expect_timeout leaked)"
	sed 's/^/# insert: /' "$FTP_TMP/insert.out"
	expect_raw "$NS_B" | sed 's/^/# B: /'
	expect_raw "$NS_R" | sed 's/^/# R: /'
fi

# R's expectation expires; B's does not.
busywait 60000 expect_gone "$NS_R" 29962 || fail "R's expectation did not expire within 60 s"
t=$(master_expect_timeout "$NS_B" 43001)
[ -n "$t" ] && [ "$t" -gt 200 ] ||
	fail "B's ctnetlink expectation after R's expired: '$t' s, want about 300"
log "ok: expect_timeout per namespace"
ftp_release m
ftp_release r
ftp_expect_flush
nsx "$NS_B" conntrack -F expect >/dev/null 2>&1

# max_expected and expect_timeout per namespace: a session seen by both B
# (helper on port 43003) and R: R with max_expected=2 keeps two
# expectations, B with 1 keeps one, the newest; R's live at most 150 s,
# B's 300 s.
rsc "$NS_R" expect_timeout 150
rsc "$NS_R" max_expected 2
ftp_session x $E4 43003 "USER anonymous" "PORT 10,0,1,2,117,20" "PORT 10,0,1,2,117,21" \
	"PORT 10,0,1,2,117,22"
busywait 20000 expect_count_is "$NS_R" 43003 2 ||
	fail "R's expectations with max_expected=2: $(expect_count "$NS_R" 43003), want 2"
busywait 20000 expect_count_is "$NS_B" 43003 1 ||
	fail "B's expectations with max_expected=1: $(expect_count "$NS_B" 43003), want 1"
expect_raw "$NS_B" | grep -q 'dport=29974 ' || fail "B's newest expectation missing"
expect_raw "$NS_R" | grep -q 'dport=29973 ' || fail "R's second newest expectation missing"
expect_raw "$NS_R" | grep -q 'dport=29972 ' && fail "R's oldest expectation not evicted"
t=$(expect_timeout "$NS_R" 29974)
[ -n "$t" ] && [ "$t" -le 150 ] || fail "R's expectation lives '$t' s, want <= 150"
t=$(expect_timeout "$NS_B" 29974)
[ -n "$t" ] && [ "$t" -gt 150 ] || fail "B's expectation lives '$t' s, want about 300"
ftp_release x
log "ok: max_expected and expect_timeout per namespace"

nsx "$NS_R" nft flush ruleset
nsx "$NS_B" nft flush ruleset
rnm_rmmod nf_conntrack_ftp_rs
[ $RET = 0 ] && log "PASS: FTP helper limits stay in their namespace"
exit $RET
