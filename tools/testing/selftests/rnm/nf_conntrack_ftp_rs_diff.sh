#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Differential test: the same scripted FTP control sessions (commands from
# the client, replies from the server, IPv4 and IPv6, the formats real
# servers use, bounces, repeated commands) go through the router once with
# the kernel's nf_conntrack_ftp and once with nf_conntrack_ftp_rs; the two
# expectation tables must be identical, field by field.

source "$(dirname "$0")/ftp_lib.sh"
trap ftp_cleanup EXIT

require_cmd nft conntrack python3 ss
modprobe nf_conntrack || skip "no nf_conntrack"
modinfo nf_conntrack_ftp >/dev/null 2>&1 || skip "no nf_conntrack_ftp to compare with"

# Session: "ADDR SPORT;LINE;LINE...".  Each session's control connection
# has its own source port, so that the expectations can be told apart.
SESSIONS=(
	"$E4 41001;USER anonymous;PORT 10,0,1,2,117,48"
	"$E4 41002;USER anonymous;EPRT |1|10.0.1.2|30001|"
	"$E4 41003;USER anonymous;ECHO 227 Entering Passive Mode (10,0,2,3,117,50)."
	"$E4 41004;USER anonymous;ECHO 227 Entering Passive Mode 10,0,2,3,117,51"
	"$E4 41005;USER anonymous;ECHO 227 =10,0,2,3,117,52"
	"$E4 41006;USER anonymous;ECHO 229 Entering Extended Passive Mode (|||30005|)"
	"$E4 41007;USER anonymous;PORT 10,0,1,99,117,54"
	"$E4 41008;USER anonymous;PORT 10,0,1,2,117,55;PORT 10,0,1,2,117,56;PORT 10,0,1,2,117,57"
	"$E4 41009;USER anonymous;port 10,0,1,2,117,58"
	"$E4 41010;USER anonymous;EPRT !1!10.0.1.2!30011!"
	"$E4 41011;USER anonymous;PORT 10,0,1,2,0,0"
	"$E4 41012;USER anonymous;ECHO 227 Entering Passive Mode (10,0,2,99,117,60)."
	"$E4 41013;USER anonymous;PASV;ECHO 227 Entering Passive Mode (010,000,002,003,117,61)"
	"$E4 41014;USER anonymous;NOOP;PORT 10,0,1,2,117,62;NOOP;EPRT |1|10.0.1.2|30015|"
	"$E6 41015;USER anonymous;EPRT |2|fd00:1::2|30016|"
	"$E6 41016;USER anonymous;ECHO 229 Entering Extended Passive Mode (|||30017|)"
	"$E6 41017;USER anonymous;PORT 10,0,1,2,117,66"
	"$E6 41018;USER anonymous;EPRT |2|fd00:1::99|30019|"
	"$E6 41019;USER anonymous;EPRT |2|fd00:1:0:0:0:0:0:2|30020|"
	"$E6 41020;USER anonymous;ECHO 229 Entering Extended Passive Mode (!!!30021!)"
)

# run_sessions OUT: fresh topology, every session, expectation table to OUT.
run_sessions() {
	local out=$1
	ftp_topology
	ftp_firewall ftp
	nsx "$NS_S" python3 "$FTP_PEER" echo-server $E4 >/dev/null 2>&1 &
	nsx "$NS_S" python3 "$FTP_PEER" echo-server $E6 >/dev/null 2>&1 &
	busywait 30000 ftp_listening 2 || die "echo servers not listening"
	printf '%s\n' "${SESSIONS[@]}" >"$FTP_TMP/sessions"
	rm -f "$FTP_TMP/hold-all"
	nsx "$NS_C" python3 "$FTP_PEER" sessions "$FTP_TMP/sessions" "$FTP_TMP/hold-all" \
		>"$FTP_TMP/sessions.out" 2>&1 &
	busywait 300000 grep -q HOLDING "$FTP_TMP/sessions.out" || fail "sessions did not complete"
	grep TIMEOUT "$FTP_TMP/sessions.out" | sed 's/^/# /'
	ftp_expect_list >"$out"
	ftp_release all
	nsx "$NS_R" nft flush ruleset
	cleanup_ns
}

modprobe -r nf_conntrack_ftp_rs 2>/dev/null
rmmod nf_conntrack_ftp_rs 2>/dev/null
modprobe nf_conntrack_ftp || die "cannot load nf_conntrack_ftp"
run_sessions "$FTP_TMP/c.txt"
modprobe -r nf_conntrack_ftp || die "cannot unload nf_conntrack_ftp"

rnm_insmod nf_conntrack_ftp_rs
run_sessions "$FTP_TMP/rs.txt"
rnm_rmmod nf_conntrack_ftp_rs

n_c=$(wc -l <"$FTP_TMP/c.txt")
n_rs=$(wc -l <"$FTP_TMP/rs.txt")
sed 's/^/# nf_conntrack_ftp: /' "$FTP_TMP/c.txt"
mismatches=$(diff "$FTP_TMP/c.txt" "$FTP_TMP/rs.txt" | grep -c '^[<>]')
diff "$FTP_TMP/c.txt" "$FTP_TMP/rs.txt" | grep '^[<>]' | sed 's/^/# diff: /'
log "INFO: ${#SESSIONS[@]} sessions; expectations: nf_conntrack_ftp $n_c, nf_conntrack_ftp_rs $n_rs; mismatched lines: $mismatches"
[ "$n_c" -ge 10 ] || fail "only $n_c expectations with nf_conntrack_ftp: the sessions did not run"
[ "$mismatches" = 0 ] || fail "the expectation tables differ"

[ $RET = 0 ] && log "PASS: expectation tables identical"
exit $RET
