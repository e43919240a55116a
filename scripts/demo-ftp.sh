#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the guest (demo.sh): the FTP helper's main job.  An FTP
# transfer through a firewall that forwards only established and related
# traffic and new control connections: blocked without the helper, passed
# with it; then the same through a router that masquerades the client,
# where the helper must also rewrite the client's PORT command and NAT the
# data connection.  The set-ups are the kselftests' (ftp_lib.sh,
# nat_lib.sh).
#
# Usage: demo-ftp.sh [rs|c]   (nf_conntrack_ftp_rs, the default, or the
#                             kernel's nf_conntrack_ftp + nf_nat_ftp)

IMPL=${1:-rs}
SELFTESTS=$(cd "$(dirname "$0")/../tools/testing/selftests/rnm" && pwd)

# fetch NS URL CURL_ARGS...: one active-mode download with curl; prints
# what happened; the status is curl's.
fetch() {
	local ns=$1 url=$2 err
	shift 2
	rm -f "$FTP_TMP/out"
	if err=$(nsx "$ns" timeout 60 curl -sS -v --connect-timeout 8 --max-time 10 -o "$FTP_TMP/out" "$@" "$url" 2>"$FTP_TMP/curl.log"); then
		echo "passed: $(stat -c %s "$FTP_TMP/out") bytes, sha256 $(cmp -s "$FTP_TMP/out" "$FTP_TMP/srv/data.bin" && echo ok || echo WRONG)"
		cmp -s "$FTP_TMP/out" "$FTP_TMP/srv/data.bin"
	else
		echo "blocked ($(grep '^curl:' "$FTP_TMP/curl.log" | tail -n1))"
		return 1
	fi
}

# The client's PORT command as it sent it (curl -v) and as the server
# received it (vsftpd's log).
port_sent() { grep -o '^> PORT [0-9,]*' "$FTP_TMP/curl.log" | tail -n1 | cut -c3-; }
port_received() { grep -o '"PORT [0-9,]*' "$FTP_TMP/vsftpd-P.log" | tail -n1 | cut -c2-; }

firewall() (
	source "$SELFTESTS/ftp_lib.sh"
	trap ftp_cleanup EXIT
	echo "-- client $C4 -- router (forwards established/related and new tcp/21 only) -- server $S4"
	ftp_topology
	nsx "$NS_S" python3 -m pyftpdlib -i $S4 -p 21 -d "$FTP_TMP/srv" >/dev/null 2>&1 &
	mkdir -p "$FTP_TMP/srv"
	ftp_data 1
	busywait 30000 ftp_listening 1 || die "FTP server not listening"
	ftp_firewall ""
	echo "-- no helper assigned: curl, active mode (PORT): $(fetch "$NS_C" "ftp://$S4/data.bin" -P - --disable-eprt)"
	ftp_firewall "$HELPER"
	fetch "$NS_C" "ftp://$S4/data.bin" -P - --disable-eprt >"$FTP_TMP/result" || RET=1
	echo "-- helper \"$HELPER\" assigned (nft ct helper): $(cat "$FTP_TMP/result")"
	nsx "$NS_R" nft flush ruleset
	exit $RET
)

masquerade() (
	source "$SELFTESTS/nat_lib.sh"
	trap ftp_cleanup EXIT
	echo "-- client $C4 -- router (masquerades to $R1_4; forwards established/related and new tcp/21 only) -- server $P4"
	nat_topology
	nat_vsftpd "$NS_P" P
	ftp_data 1
	busywait 30000 nat_listening "$NS_P" 1 || die "vsftpd not listening"
	nat_firewall ""
	echo "-- no helper assigned: curl, active mode (PORT): $(fetch "$NS_C" "ftp://$P4/data.bin" -P - --disable-eprt)"
	nat_firewall "$HELPER"
	fetch "$NS_C" "ftp://$P4/data.bin" -P - --disable-eprt >"$FTP_TMP/result" || RET=1
	echo "-- helper \"$HELPER\" assigned: $(cat "$FTP_TMP/result")"
	echo "-- the client sent \"$(port_sent)\", the server received \"$(port_received)\""
	nsx "$NS_R1" nft flush ruleset
	nsx "$NS_R2" nft flush ruleset
	exit $RET
)

source "$SELFTESTS/nat_lib.sh"
nat_impl_unload
nat_impl_load "$IMPL"
HELPER=$NAT_HELPER
rc=0
echo "== $(nat_impl_name "$IMPL"): FTP through a firewall"
firewall || rc=1
echo "== $(nat_impl_name "$IMPL"): FTP through a masquerading router"
masquerade || rc=1
if [ "$IMPL" = rs ]; then
	echo "-- counters"
	grep . /sys/kernel/nf_conntrack_ftp_rs/*
fi
nat_impl_unload
[ $rc = 0 ] || echo "error: a transfer that the helper should let through failed"
exit $rc
