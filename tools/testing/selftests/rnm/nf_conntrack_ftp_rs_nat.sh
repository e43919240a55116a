#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# FTP through NAT routers (nat_lib.sh): a client behind a masquerading
# router, a server behind a port-forwarding router, and both at once;
# real servers (vsftpd, pyftpdlib) and clients (curl, lftp, python
# ftplib), active and passive, IPv4 and IPv6.  The routers must rewrite
# PORT, EPRT, 227 and 229 and NAT the data connections: every file must
# arrive intact, also in sessions of more than 20 transfers, where each
# rewrite changes the length of the control stream and the sequence
# adjustment accumulates.  Two clients behind the masquerade that announce
# the same data port at once must both get their files (the router
# announces another port for the second).
#
# The same suite runs for nf_conntrack_ftp + nf_nat_ftp and for
# nf_conntrack_ftp_rs (RNM_FTP_IMPLS, default "c rs", empty: only the
# negative controls); a Rust helper built
# without NAT support (no nat_rewritten counter) is reported as a skip.
# Negative controls first: without a helper, and with nf_conntrack_ftp
# but without nf_nat_ftp, the transfers that need a rewrite must fail.

source "$(dirname "$0")/nat_lib.sh"
trap ftp_cleanup EXIT

require_cmd nft conntrack curl python3 lftp vsftpd sha256sum ss
python3 -c 'import pyftpdlib' 2>/dev/null || require_cmd pyftpdlib

nat_impl_unload
nat_topology
nat_servers
ftp_data 3
nat_files 22 64

cd "$FTP_TMP" || die "cd"
CURL="curl -sS --connect-timeout 30 -o $FTP_TMP/out"
# Where a transfer must fail: do not wait long for it.
CURL_FAIL="curl -sS --connect-timeout $((8 * RNM_TIMEOUT_SCALE)) --max-time $((12 * RNM_TIMEOUT_SCALE)) -o $FTP_TMP/out"
# The clients use the address of a 227 reply, not the control
# connection's peer (curl's and lftp's defaults work around servers behind
# NAT that announce their private address).
LFTP="set net:timeout 30; set net:max-retries 1; set cmd:fail-exit yes; set ftp:fix-pasv-address no; set ftp:prefer-epsv no"

# negative_controls: the transfers that need a rewrite, each of which
# must fail with the router's current helper set-up.
negative_controls() {
	local what=$1
	nat_blocked "$NS_C" "$what: (a) curl IPv4 active (PORT)" $CURL_FAIL -P - --disable-eprt "ftp://$P4/data.bin"
	nat_blocked "$NS_C" "$what: (a) curl IPv6 active (EPRT |2|)" $CURL_FAIL -P - "ftp://[$P6]/data.bin"
	nat_blocked "$NS_P" "$what: (b) curl IPv4 passive (PASV, 227)" $CURL_FAIL --disable-epsv "ftp://$R2_4/data.bin"
	nat_blocked "$NS_P" "$what: (b) curl IPv4 passive (EPSV, 229)" $CURL_FAIL "ftp://$R2_4/data.bin"
	nat_blocked "$NS_C" "$what: (c) curl IPv6 passive (EPSV, 229)" $CURL_FAIL "ftp://[$R2_6]/data.bin"
}

nat_firewall ""
negative_controls "no helper"

modprobe nf_conntrack_ftp || die "cannot load nf_conntrack_ftp"
nat_firewall ftp
negative_controls "nf_conntrack_ftp without nf_nat_ftp"
# A passive transfer to a public server needs no rewrite: the helper's
# expectation alone lets it through R1's masquerade.
nat_transfer "$NS_C" "nf_conntrack_ftp without nf_nat_ftp: (a) curl IPv4 passive (PASV) needs no rewrite" \
	$CURL --disable-epsv --no-ftp-skip-pasv-ip "ftp://$P4/data.bin"
nat_impl_unload
log "INFO: negative controls done after ${SECONDS}s"

# port_in_use FAMILY: two clients behind R1 (C's two addresses) announce
# the same data port to vsftpd on P; both expectations are held together,
# so R1 must announce another port for the second; then both download.
port_in_use() {
	local a1=$1 a2=$2 srv=$3 port=40000 ports got t src pids=()
	rm -f "$FTP_TMP/hold-pu"
	nsx "$NS_R1" conntrack -F expect >/dev/null 2>&1
	for t in 1 2; do
		src=$a1
		[ $t = 2 ] && src=$a2
		nsx "$NS_C" timeout $((300 * RNM_TIMEOUT_SCALE)) python3 "$FTP_PEER" get-port "$srv" "$src" $port \
			"$FTP_TMP/hold-pu" data.bin "$FTP_TMP/pu$t" >"$FTP_TMP/pu$t.log" 2>&1 &
		pids+=($!)
		busywait 60000 grep -q ANNOUNCED "$FTP_TMP/pu$t.log" || {
			fail "port in use ($srv): client $t: $(tail -n1 "$FTP_TMP/pu$t.log")"
			touch "$FTP_TMP/hold-pu"
			wait "${pids[@]}"
			return 1
		}
	done
	# R1's expectations of both control connections: the announced port
	# and another one.
	ports=$(nsx "$NS_R1" python3 "$CT_DUMP" expect |
		awk -v a1="master-src=$a1 " -v a2="master-src=$a2 " \
			'index($0, a1) || index($0, a2) { for (i = 1; i <= NF; i++) if ($i ~ /^dport=/) print substr($i, 7) }' |
		sort -n | paste -sd' ')
	touch "$FTP_TMP/hold-pu"
	wait "${pids[@]}"
	case "$ports" in
	"$port "[0-9]*) [ "${ports#* }" != $port ] ||
		fail "port in use ($srv): expectations to ports '$ports'" ;;
	*) fail "port in use ($srv): expectations to ports '$ports', want $port and another" ;;
	esac
	for t in 1 2; do
		got=$(sha256sum <"$FTP_TMP/pu$t" 2>/dev/null | cut -d' ' -f1)
		check_eq "port in use ($srv): client $t: sha256" "$got" "$FTP_WANT" ||
			echo "$(tail -n2 "$FTP_TMP/pu$t.log")" | sed 's/^/# /'
	done
	log "ok: port in use ($srv): R1 announced ports $ports"
}

# nat_suite c|rs: every transfer through the routers with one
# implementation.
nat_suite() {
	local impl=$1 name k rewrites=0
	name=$(nat_impl_name "$impl")
	nat_impl_load "$impl"
	if [ "$impl" = rs ]; then
		if ! nat_rs_has_nat; then
			log "SKIP: $name has no NAT support (no nat_rewritten counter)"
			RS_SKIPPED=1
			nat_impl_unload
			return
		fi
		declare -A before
		for k in nat_rewritten nat_no_port nat_mangle_failed; do
			before[$k]=$(nat_counter $k)
		done
	fi
	log "== $name"
	nat_firewall "$NAT_HELPER"

	# (a) client behind R1's masquerade, vsftpd on P.
	nat_transfer "$NS_C" "$impl (a) curl IPv4 active (PORT)" $CURL -P - --disable-eprt "ftp://$P4/data.bin"
	nat_transfer "$NS_C" "$impl (a) curl IPv4 active (EPRT |1|)" $CURL -P - "ftp://$P4/data.bin"
	nat_transfer "$NS_C" "$impl (a) curl IPv4 passive (PASV, 227)" $CURL --disable-epsv --no-ftp-skip-pasv-ip "ftp://$P4/data.bin"
	nat_transfer "$NS_C" "$impl (a) curl IPv6 active (EPRT |2|)" $CURL -P - "ftp://[$P6]/data.bin"
	nat_transfer "$NS_C" "$impl (a) curl IPv6 passive (EPSV, 229)" $CURL "ftp://[$P6]/data.bin"
	rewrites=$((rewrites + 3))
	# shellcheck disable=SC2086
	nat_session "$NS_C" "$impl (a) lftp IPv4 active (PORT)" "$FTP_TMP/la" \
		lftp -c "$LFTP; set ftp:passive-mode off; open ftp://$P4; lcd $FTP_TMP/la; get $NAT_FILES data.bin"
	rewrites=$((rewrites + 23))
	port_in_use $C4 $C4B $P4
	port_in_use $C6 $C6B $P6
	rewrites=$((rewrites + 4))

	# (b) server behind R2's port forwarding, client on P.
	nat_transfer "$NS_P" "$impl (b) curl IPv4 passive (PASV, 227)" $CURL --disable-epsv --no-ftp-skip-pasv-ip "ftp://$R2_4/data.bin"
	nat_transfer "$NS_P" "$impl (b) curl IPv4 passive (EPSV, 229)" $CURL "ftp://$R2_4/data.bin"
	nat_transfer "$NS_P" "$impl (b) curl IPv4 active (PORT)" $CURL -P - --disable-eprt "ftp://$R2_4/data.bin"
	nat_transfer "$NS_P" "$impl (b) curl IPv6 passive (EPSV, 229)" $CURL "ftp://[$R2_6]/data.bin"
	nat_transfer "$NS_P" "$impl (b) curl IPv6 active (EPRT |2|)" $CURL -P - "ftp://[$R2_6]/data.bin"
	rewrites=$((rewrites + 1))
	# shellcheck disable=SC2086
	nat_session "$NS_P" "$impl (b) ftplib IPv4 passive (PASV, 227)" "$FTP_TMP/fb" \
		python3 "$FTP_PEER" mget $R2_4 passive "$FTP_TMP/fb" $NAT_FILES data.bin
	rewrites=$((rewrites + 23))

	# (c) both: client behind R1 to the server behind R2.
	nat_transfer "$NS_C" "$impl (c) curl IPv4 active (PORT)" $CURL -P - --disable-eprt "ftp://$R2_4/data.bin"
	nat_transfer "$NS_C" "$impl (c) curl IPv4 passive (PASV, 227)" $CURL --disable-epsv --no-ftp-skip-pasv-ip "ftp://$R2_4/data.bin"
	nat_transfer "$NS_C" "$impl (c) curl IPv6 active (EPRT |2|)" $CURL -P - "ftp://[$R2_6]/data.bin"
	nat_transfer "$NS_C" "$impl (c) curl IPv6 passive (EPSV, 229)" $CURL "ftp://[$R2_6]/data.bin"
	rewrites=$((rewrites + 3))
	# shellcheck disable=SC2086
	nat_session "$NS_C" "$impl (c) lftp IPv4 passive (PASV, 227)" "$FTP_TMP/lc" \
		lftp -c "$LFTP; set ftp:passive-mode on; open ftp://$R2_4; lcd $FTP_TMP/lc; get $NAT_FILES data.bin"
	# shellcheck disable=SC2086
	nat_session "$NS_C" "$impl (c) ftplib IPv6 active (EPRT)" "$FTP_TMP/fc" \
		python3 "$FTP_PEER" mget $R2_6 active "$FTP_TMP/fc" $NAT_FILES data.bin
	rewrites=$((rewrites + 46))

	if [ "$impl" = rs ]; then
		local d
		d=$(($(nat_counter nat_rewritten) - ${before[nat_rewritten]}))
		log "INFO: $name: nat_rewritten +$d (at least $rewrites rewrites changed the text)"
		[ "$d" -ge $rewrites ] || fail "nat_rewritten +$d, want at least $rewrites"
		for k in nat_no_port nat_mangle_failed; do
			check_eq "$k" "$(nat_counter $k)" "${before[$k]}"
		done
	fi
	nat_impl_unload
	log "INFO: $name done after ${SECONDS}s"
}

RS_SKIPPED=0
for impl in ${RNM_FTP_IMPLS-c rs}; do
	nat_suite "$impl"
done

[ $RET = 0 ] || exit $RET
[ $RS_SKIPPED = 1 ] && skip "nf_conntrack_ftp_rs has no NAT support yet (the other runs passed)"
log "PASS: FTP through masquerade and port forwarding"
exit $RET
