#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nf_conntrack_ftp_rs with real FTP: a client and a server on both sides
# of a router whose firewall forwards only established/related traffic and
# new control connections.  With the helper assigned, active and passive
# transfers over IPv4 and IPv6 (curl, python ftplib, lftp) must arrive
# intact, and the expectations must have the announced tuples; without it
# the data connections must be blocked.

source "$(dirname "$0")/ftp_lib.sh"
trap ftp_cleanup EXIT

require_cmd nft conntrack curl python3 lftp sha256sum ss
python3 -c 'import pyftpdlib' 2>/dev/null || require_cmd pyftpdlib

modprobe -r nf_conntrack_ftp 2>/dev/null
modprobe nf_conntrack || skip "no nf_conntrack"
rnm_insmod nf_conntrack_ftp_rs
# Built in, it registered at boot, before the test's kernel log.
rnm_builtin nf_conntrack_ftp_rs ||
	dmesg | grep -q 'nf_conntrack_ftp_rs: registered conntrack helper "ftp"' ||
	fail "registration message missing"

ftp_topology
ftp_firewall ftp
ftp_servers
ftp_data 3

cd "$FTP_TMP" || die "cd"
CURL="curl -sS --connect-timeout 30 -o $FTP_TMP/out"

ftp_transfer "curl IPv4 passive (EPSV, 229)" $CURL "ftp://$S4/data.bin"
ftp_transfer "curl IPv4 passive (PASV, 227)" $CURL --disable-epsv "ftp://$S4/data.bin"
ftp_transfer "curl IPv4 active (EPRT |1|)" $CURL -P - "ftp://$S4/data.bin"
ftp_transfer "curl IPv4 active (PORT)" $CURL -P - --disable-eprt "ftp://$S4/data.bin"
ftp_transfer "ftplib IPv4 active (PORT)" python3 "$FTP_PEER" get $S4 data.bin "$FTP_TMP/out" active
ftp_transfer "curl IPv6 passive (EPSV, 229)" $CURL "ftp://[$S6]/data.bin"
ftp_transfer "curl IPv6 active (EPRT |2|)" $CURL -P - "ftp://[$S6]/data.bin"
ftp_transfer "lftp IPv6 passive (EPSV)" lftp -c "set net:timeout 30; set net:max-retries 1; open ftp://[$S6]; get data.bin -o $FTP_TMP/out"

# The expectations themselves: scripted sessions against the echo server,
# held open so that the expectations stay in the table.  They must also be
# reported as conntrack events and in /proc/net/nf_conntrack_expect.
ip netns exec "$NS_R" conntrack -E expect >"$FTP_TMP/events" 2>&1 &
events_pid=$!
listening_events() { ls -l "/proc/$events_pid/fd" 2>/dev/null | grep -q 'socket:'; }
busywait 20000 listening_events || fail "conntrack -E expect did not start"
ftp_session p4 $E4 40001 "USER anonymous" "PORT 10,0,1,2,117,48"
ftp_session e4 $E4 40002 "USER anonymous" "EPRT |1|10.0.1.2|30001|"
ftp_session a4 $E4 40003 "USER anonymous" "ECHO 227 Entering Passive Mode (10,0,2,3,117,50)."
ftp_session x4 $E4 40004 "USER anonymous" "ECHO 229 Entering Extended Passive Mode (|||30003|)"
ftp_session e6 $E6 40005 "USER anonymous" "EPRT |2|fd00:1::2|30004|"
ftp_session x6 $E6 40006 "USER anonymous" "ECHO 229 Entering Extended Passive Mode (|||30005|)"
busywait 20000 ftp_expect_count_ge 6
list=$(ftp_expect_list)
echo "$list" | sed 's/^/# expect: /'
M4="mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535"
M6="mask-src=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff mask-dst=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff sport=0 dport=65535"
for want_exp in \
	"proto=6 src=$E4 dst=$C4 sport=0 dport=30000 $M4 master-src=$C4 master-dst=$E4 sport=40001 dport=21 class=0 helper=ftp" \
	"proto=6 src=$E4 dst=$C4 sport=0 dport=30001 $M4 master-src=$C4 master-dst=$E4 sport=40002 dport=21 class=0 helper=ftp" \
	"proto=6 src=$C4 dst=$E4 sport=0 dport=30002 $M4 master-src=$C4 master-dst=$E4 sport=40003 dport=21 class=0 helper=ftp" \
	"proto=6 src=$C4 dst=$E4 sport=0 dport=30003 $M4 master-src=$C4 master-dst=$E4 sport=40004 dport=21 class=0 helper=ftp" \
	"proto=6 src=$E6 dst=$C6 sport=0 dport=30004 $M6 master-src=$C6 master-dst=$E6 sport=40005 dport=21 class=0 helper=ftp" \
	"proto=6 src=$C6 dst=$E6 sport=0 dport=30005 $M6 master-src=$C6 master-dst=$E6 sport=40006 dport=21 class=0 helper=ftp"; do
	grep -qxF "$want_exp" <<<"$list" || fail "expectation missing: $want_exp"
done
proc=$(nsx "$NS_R" cat /proc/net/nf_conntrack_expect)
for port in 30000 30001 30002 30003 30004 30005; do
	busywait 20000 grep -q "\[NEW\] .* dport=$port mask-src" "$FTP_TMP/events" ||
		fail "no NEW event for the expectation to port $port"
	grep -q "proto=6 .* dport=$port ftp$" <<<"$proc" ||
		fail "expectation to port $port missing from /proc/net/nf_conntrack_expect"
done
kill "$events_pid" 2>/dev/null
log "ok: expectations reported by conntrack -E and /proc/net/nf_conntrack_expect"
for t in p4 e4 a4 x4 e6 x6; do ftp_release $t; done

# Without the helper the firewall must block every data connection.
ftp_firewall ""
for args in "--disable-epsv" "-P - --disable-eprt"; do
	rm -f "$FTP_TMP/out"
	# shellcheck disable=SC2086
	if nsx "$NS_C" timeout $((60 * RNM_TIMEOUT_SCALE)) curl -sS --connect-timeout $((8 * RNM_TIMEOUT_SCALE)) \
		--max-time $((12 * RNM_TIMEOUT_SCALE)) -o "$FTP_TMP/out" $args \
		"ftp://$S4/data.bin" 2>/dev/null; then
		fail "transfer with '$args' passed the firewall without the helper"
	fi
done
log "ok: transfers blocked without the helper"

nsx "$NS_R" nft flush ruleset
rnm_rmmod nf_conntrack_ftp_rs
[ $RET = 0 ] && log "PASS: FTP through a stateful firewall"
exit $RET
