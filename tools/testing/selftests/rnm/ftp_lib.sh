#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Set-up shared by the FTP conntrack helper tests: three namespaces joined
# by veth pairs, a router whose nftables ruleset forwards only
# established/related traffic and new control connections, FTP servers.
#
#   client  c0 10.0.1.2 fd00:1::2
#   router  r0 10.0.1.1 fd00:1::1 | r1 10.0.2.1 fd00:2::1
#   server  s0 10.0.2.2 fd00:2::2 (FTP), 10.0.2.3 fd00:2::3 (echo server)

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FTP_PEER="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ftp_peer.py"
FTP_TMP=$(mktemp -d)
C4=10.0.1.2 C6=fd00:1::2 S4=10.0.2.2 S6=fd00:2::2 E4=10.0.2.3 E6=fd00:2::3

ftp_cleanup() {
	cleanup_ns
	rm -rf "$FTP_TMP"
}

# nsx NS CMD...: run CMD in namespace NS.
nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# ftp_reserve_ports NS: keeps the ports the tests' clients bind themselves
# (source ports of scripted sessions, data ports they listen on: 40000 to
# 43999) out of the ephemeral range of NS.  Otherwise a connection an
# earlier client (curl, lftp, ftplib) made may have been given one of them
# and still hold it, and the bind fails with EADDRINUSE.
ftp_reserve_ports() {
	nsx "$1" sysctl -qw net.ipv4.ip_local_reserved_ports=40000-43999 ||
		die "cannot reserve ports 40000-43999 in $1"
}

ftp_topology() {
	setup_ns NS_C NS_R NS_S
	ftp_reserve_ports "$NS_C"
	ip link add c0 netns "$NS_C" type veth peer name r0 netns "$NS_R" || die "veth"
	ip link add s0 netns "$NS_S" type veth peer name r1 netns "$NS_R" || die "veth"
	ip -n "$NS_C" addr add $C4/24 dev c0
	ip -n "$NS_C" addr add $C6/64 dev c0 nodad
	ip -n "$NS_R" addr add 10.0.1.1/24 dev r0
	ip -n "$NS_R" addr add fd00:1::1/64 dev r0 nodad
	ip -n "$NS_R" addr add 10.0.2.1/24 dev r1
	ip -n "$NS_R" addr add fd00:2::1/64 dev r1 nodad
	ip -n "$NS_S" addr add $S4/24 dev s0
	ip -n "$NS_S" addr add $S6/64 dev s0 nodad
	ip -n "$NS_S" addr add $E4/24 dev s0
	ip -n "$NS_S" addr add $E6/64 dev s0 nodad
	ip -n "$NS_C" link set c0 up
	ip -n "$NS_S" link set s0 up
	ip -n "$NS_R" link set r0 up
	ip -n "$NS_R" link set r1 up
	ip -n "$NS_C" route add default via 10.0.1.1
	ip -n "$NS_C" -6 route add default via fd00:1::1
	ip -n "$NS_S" route add default via 10.0.2.1
	ip -n "$NS_S" -6 route add default via fd00:2::1
	nsx "$NS_R" sysctl -qw net.ipv4.ip_forward=1
	nsx "$NS_R" sysctl -qw net.ipv6.conf.all.forwarding=1
	busywait 10000 nsx "$NS_C" ping -c1 -W1 -q $S4 >/dev/null || die "no IPv4 route"
	busywait 10000 nsx "$NS_C" ping -6 -c1 -W1 -q $S6 >/dev/null || die "no IPv6 route"
}

# ftp_firewall [HELPER]: the router's ruleset.  With a helper name, new
# control connections get that conntrack helper assigned.
ftp_firewall() {
	local helper=$1
	nsx "$NS_R" nft flush ruleset
	{
		echo "table inet fw {"
		if [ -n "$helper" ]; then
			echo "  ct helper ftp-h { type \"$helper\" protocol tcp; }"
			echo "  chain pre { type filter hook prerouting priority filter; policy accept;"
			echo "    tcp dport 21 ct helper set \"ftp-h\""
			echo "  }"
		fi
		echo "  chain forward { type filter hook forward priority filter; policy drop;"
		echo "    ct state established,related accept"
		echo "    tcp dport 21 ct state new accept"
		echo "    icmp type echo-request accept"
		echo "    icmpv6 type echo-request accept"
		echo "  }"
		echo "}"
	} | nsx "$NS_R" nft -f - || die "cannot load the router's ruleset"
}

# ftp_servers: pyftpdlib (anonymous, read-only) on S4 and S6 serving
# $FTP_TMP/srv, and the echo server on E4 and E6.
ftp_servers() {
	mkdir -p "$FTP_TMP/srv"
	local a
	for a in $S4 $S6; do
		nsx "$NS_S" python3 -m pyftpdlib -i "$a" -p 21 -d "$FTP_TMP/srv" \
			>"$FTP_TMP/pyftpdlib-$a.log" 2>&1 &
	done
	for a in $E4 $E6; do
		nsx "$NS_S" python3 "$FTP_PEER" echo-server "$a" >/dev/null 2>&1 &
	done
	busywait 30000 ftp_listening 4 || die "FTP servers not listening"
}

# ftp_data MIB: a file of MIB MiB of random bytes the servers offer as
# data.bin; FTP_WANT is its sha256.
ftp_data() {
	head -c $(($1 << 20)) /dev/urandom >"$FTP_TMP/srv/data.bin"
	FTP_WANT=$(sha256sum <"$FTP_TMP/srv/data.bin" | cut -d' ' -f1)
}

# ftp_transfer NAME CMD...: CMD (run in the client) fetches data.bin into
# $FTP_TMP/out, which must be intact.
ftp_transfer() {
	local name=$1 got
	shift
	rm -f "$FTP_TMP/out"
	if ! nsx "$NS_C" timeout $((120 * RNM_TIMEOUT_SCALE)) "$@" >"$FTP_TMP/transfer.log" 2>&1; then
		fail "$name: transfer failed: $(tail -n2 "$FTP_TMP/transfer.log")"
		return 1
	fi
	got=$(sha256sum <"$FTP_TMP/out" | cut -d' ' -f1)
	check_eq "$name: sha256" "$got" "$FTP_WANT" && log "ok: $name"
}

ftp_listening() {
	[ "$(nsx "$NS_S" ss -Hltn 'sport = :21' | wc -l)" -ge "$1" ]
}

# ftp_expect_list: the router's expectation table, one per line, without
# the remaining lifetime (first field), sorted.
ftp_expect_list() {
	ftp_expect_raw | cut -d' ' -f2- | sort
}

# ftp_expect_raw: the router's expectations of both families.
ftp_expect_raw() {
	nsx "$NS_R" conntrack -L expect -f ipv4 2>/dev/null
	nsx "$NS_R" conntrack -L expect -f ipv6 2>/dev/null
}

ftp_expect_count() {
	ftp_expect_raw | grep -c 'proto=6'
}

ftp_expect_count_ge() {
	[ "$(ftp_expect_count)" -ge "$1" ]
}

# ftp_expect_flush: remove the router's expectations (those of closed
# control connections stay until their timeout otherwise).
ftp_expect_flush() {
	nsx "$NS_R" conntrack -F expect >/dev/null 2>&1
	busywait 10000 ftp_expect_none || fail "cannot flush the expectations"
}

ftp_expect_none() {
	[ "$(ftp_expect_count)" -eq 0 ]
}

# ftp_session TAG ADDR SPORT LINE...: a scripted control connection from
# the client, held open (in the background) until ftp_release TAG.
ftp_session() {
	local tag=$1
	shift
	rm -f "$FTP_TMP/hold-$tag"
	nsx "$NS_C" python3 "$FTP_PEER" session "$1" "$2" "$FTP_TMP/hold-$tag" "${@:3}" \
		>"$FTP_TMP/session-$tag.out" 2>&1 &
	busywait 60000 grep -q HOLDING "$FTP_TMP/session-$tag.out" ||
		fail "session $tag did not complete: $(tail -n2 "$FTP_TMP/session-$tag.out")"
}

ftp_release() {
	touch "$FTP_TMP/hold-$1"
}
