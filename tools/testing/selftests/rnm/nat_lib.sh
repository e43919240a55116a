#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Set-up shared by the FTP NAT tests: a client behind a masquerading
# router, a public host, and a server behind a port-forwarding router.
#
#   C   (client)   eth0 10.0.0.2 10.0.0.3 fd00:a::2 fd00:a::3
#   R1  (masquerades the client's network)
#                  lan0 10.0.0.1 fd00:a::1 | wan0 203.0.113.200 2001:db8:c::200
#   P   (public host: the internet between the routers, routing)
#                  r1 203.0.113.193 2001:db8:c::1 | r2 203.0.113.5 2001:db8:5::5
#   R2  (forwards tcp/21 of its public address to S)
#                  wan0 203.0.113.1 2001:db8:5::1 | lan0 192.168.100.1 fd00:b::1
#   S   (server)   eth0 192.168.100.200 fd00:b::200
#
# FTP servers (nat_servers): vsftpd on P; pyftpdlib (IPv4) and vsftpd
# (IPv6) on S.
# The three topologies of a NAT helper: (a) C to a server on P, through
# R1's masquerade; (b) P to the server S, through R2's port forwarding;
# (c) C to S, through both.  The private networks are routed nowhere else:
# a peer that uses an address the routers did not rewrite gets "network
# unreachable".  The addresses differ in length on purpose: the client's
# 10.0.0.2 becomes 203.0.113.200 (longer), the server's 192.168.100.200
# becomes 203.0.113.1 (shorter), so that rewriting changes the payload's
# length and the routers must adjust TCP sequence numbers.
#
# Each router's firewall forwards only established and related traffic
# and new control connections (R1: from its LAN; R2: port-forwarded ones),
# so that a data connection passes only as the helper's expectation.

source "$(dirname "${BASH_SOURCE[0]}")/ftp_lib.sh"

C4=10.0.0.2 C4B=10.0.0.3 C6=fd00:a::2 C6B=fd00:a::3
R1_4=203.0.113.200 R1_6=2001:db8:c::200
P4=203.0.113.5 P6=2001:db8:5::5
R2_4=203.0.113.1 R2_6=2001:db8:5::1
S4=192.168.100.200 S6=fd00:b::200
CT_DUMP="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ct_dump.py"

# nat_link NS1 DEV1 NS2 DEV2: a veth pair between two namespaces, up.
nat_link() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || die "veth $2-$4"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# nat_addr NS DEV ADDR/LEN...
nat_addr() {
	local ns=$1 dev=$2 a
	shift 2
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$dev" nodad ;;
		*) ip -n "$ns" addr add "$a" dev "$dev" ;;
		esac || die "address $a on $dev"
	done
}

# nat_route NS GW4 GW6: the default routes of NS.
nat_route() {
	ip -n "$1" route add default via "$2" || die "route via $2"
	ip -n "$1" -6 route add default via "$3" || die "route via $3"
}

nat_neigh_ok() {
	nsx "$1" ping -c1 -W1 -q "$2" >/dev/null 2>&1
}

nat_topology() {
	local ns pair
	setup_ns NS_C NS_R1 NS_P NS_R2 NS_S
	ftp_reserve_ports "$NS_C"
	nat_link "$NS_C" eth0 "$NS_R1" lan0
	nat_link "$NS_R1" wan0 "$NS_P" r1
	nat_link "$NS_P" r2 "$NS_R2" wan0
	nat_link "$NS_R2" lan0 "$NS_S" eth0
	nat_addr "$NS_C" eth0 $C4/24 $C4B/24 $C6/64
	# Not a source address unless bound: C's connections come from C6.
	ip -n "$NS_C" addr add $C6B/64 dev eth0 nodad preferred_lft 0 || die "address $C6B"
	nat_addr "$NS_R1" lan0 10.0.0.1/24 fd00:a::1/64
	nat_addr "$NS_R1" wan0 $R1_4/26 $R1_6/64
	nat_addr "$NS_P" r1 203.0.113.193/26 2001:db8:c::1/64
	nat_addr "$NS_P" r2 $P4/26 $P6/64
	nat_addr "$NS_R2" wan0 $R2_4/26 $R2_6/64
	nat_addr "$NS_R2" lan0 192.168.100.1/24 fd00:b::1/64
	nat_addr "$NS_S" eth0 $S4/24 $S6/64
	nat_route "$NS_C" 10.0.0.1 fd00:a::1
	nat_route "$NS_R1" 203.0.113.193 2001:db8:c::1
	nat_route "$NS_R2" $P4 $P6
	nat_route "$NS_S" 192.168.100.1 fd00:b::1
	for ns in "$NS_R1" "$NS_P" "$NS_R2"; do
		nsx "$ns" sysctl -qw net.ipv4.ip_forward=1
		nsx "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
	done
	for pair in "$NS_C 10.0.0.1" "$NS_C fd00:a::1" "$NS_R1 203.0.113.193" \
		"$NS_R1 2001:db8:c::1" "$NS_R2 $P4" "$NS_R2 $P6" \
		"$NS_S 192.168.100.1" "$NS_S fd00:b::1"; do
		# shellcheck disable=SC2086
		busywait 10000 nat_neigh_ok $pair || die "no link: ping $pair"
	done
}

# nat_firewall [HELPER]: the rulesets of both routers.  With a helper
# name, new control connections get that conntrack helper assigned (in
# prerouting at filter priority, after conntrack and R2's DNAT).  nf_nat
# adds the sequence adjustment extension a helper's mangling needs: R1
# when it sets up the masquerade of a connection that already has a helper
# (nf_nat_setup_info), R2 when the helper is assigned to a connection that
# is already DNATed (nft_ct).
nat_firewall() {
	local helper=$1
	nat_router_rules "$NS_R1" "$helper" \
		'iifname "lan0" tcp dport 21 ct state new accept' ''
	nat_router_rules "$NS_R2" "$helper" \
		'ct status dnat tcp dport 21 ct state new accept' \
		"iifname \"wan0\" ip daddr $R2_4 tcp dport 21 dnat ip to $S4
		iifname \"wan0\" ip6 daddr $R2_6 tcp dport 21 dnat ip6 to $S6"
	# A control connection that R1 saw before (reused source ports,
	# another helper) must not keep its old helper.
	nsx "$NS_R1" conntrack -F >/dev/null 2>&1
	nsx "$NS_R2" conntrack -F >/dev/null 2>&1
}

# nat_router_rules NS HELPER CONTROL_RULE DNAT_RULES: a router's ruleset;
# it masquerades what leaves through wan0.
nat_router_rules() {
	local ns=$1 helper=$2 control=$3 dnat=$4
	nsx "$ns" nft flush ruleset
	{
		echo "table inet nat {"
		if [ -n "$helper" ]; then
			echo "  ct helper ftp-h { type \"$helper\" protocol tcp; }"
			echo "  chain pre { type filter hook prerouting priority filter; policy accept;"
			echo "    tcp dport 21 ct helper set \"ftp-h\""
			echo "  }"
		fi
		if [ -n "$dnat" ]; then
			echo "  chain prenat { type nat hook prerouting priority dstnat; policy accept;"
			echo "    $dnat"
			echo "  }"
		fi
		echo "  chain forward { type filter hook forward priority filter; policy drop;"
		echo "    ct state established,related accept"
		echo "    $control"
		echo "    icmp type echo-request accept"
		echo "    icmpv6 type echo-request accept"
		echo "  }"
		echo "  chain post { type nat hook postrouting priority srcnat; policy accept;"
		echo "    oifname \"wan0\" masquerade"
		echo "  }"
		echo "}"
	} | nsx "$ns" nft -f - || die "cannot load the ruleset of $ns"
}

# nat_impl_load c|rs: the FTP helper with NAT support of one
# implementation; its conntrack helper's name goes into NAT_HELPER.
#   c   nf_conntrack_ftp + nf_nat_ftp
#   rs  nf_conntrack_ftp_rs (NAT in the same module)
nat_impl_load() {
	modprobe nf_conntrack || skip "no nf_conntrack"
	modprobe nf_nat || skip "no nf_nat"
	case $1 in
	c)
		modprobe nf_conntrack_ftp || die "cannot load nf_conntrack_ftp"
		modprobe nf_nat_ftp || die "cannot load nf_nat_ftp"
		;;
	rs)
		rnm_insmod nf_conntrack_ftp_rs
		;;
	*) die "unknown implementation '$1' (c or rs)" ;;
	esac
	NAT_HELPER=ftp
}

# nat_impl_unload: flush what holds the helpers, unload both
# implementations.
nat_impl_unload() {
	local ns
	for ns in "$NS_R1" "$NS_R2"; do
		[ -n "$ns" ] || continue
		nsx "$ns" nft flush ruleset
		nsx "$ns" conntrack -F >/dev/null 2>&1
	done
	modprobe -r nf_nat_ftp 2>/dev/null
	modprobe -r nf_conntrack_ftp 2>/dev/null
	if [ -d /sys/module/nf_conntrack_ftp_rs ]; then
		rmmod nf_conntrack_ftp_rs || fail "rmmod nf_conntrack_ftp_rs failed"
	fi
	! lsmod | grep -qE '^nf_(nat|conntrack)_ftp' || fail "an FTP helper is still loaded"
}

# nat_impl_name c|rs: how the reports name an implementation.
nat_impl_name() {
	case $1 in
	c) echo "nf_conntrack_ftp + nf_nat_ftp" ;;
	rs) echo "nf_conntrack_ftp_rs" ;;
	esac
}

# nat_rs_has_nat: the Rust helper was built with NAT support (its NAT
# counters exist).  Load it first.
nat_rs_has_nat() {
	[ -e /sys/kernel/nf_conntrack_ftp_rs/nat_rewritten ]
}

# nat_counter NAME: one of the Rust helper's counters.
nat_counter() {
	cat "/sys/kernel/nf_conntrack_ftp_rs/$1"
}

# nat_vsftpd NS NAME [ADDR6]: vsftpd in NS, anonymous and read-only,
# serving $FTP_TMP/srv on port 21 of all its addresses (IPv4 and IPv6), or
# of IPv6 address ADDR6 only.  It opens active data connections when a
# transfer starts (from port 20), and refuses a PORT or EPRT address other
# than the control connection's peer (compared as addresses: unlike
# pyftpdlib, which compares the text, it takes the full form "%pI6" in
# which nf_nat_ftp writes an IPv6 address).  It logs the commands it
# receives to $FTP_TMP/vsftpd-NAME.log.
nat_vsftpd() {
	local ns=$1 name=$2 addr6=$3
	mkdir -p "$FTP_TMP/empty" "$FTP_TMP/srv"
	chmod 755 "$FTP_TMP/empty" "$FTP_TMP/srv"
	cat >"$FTP_TMP/vsftpd-$name.conf" <<-EOF
		listen=NO
		listen_ipv6=YES
		${addr6:+listen_address6=$addr6}
		background=NO
		anonymous_enable=YES
		no_anon_password=YES
		local_enable=NO
		write_enable=NO
		anon_root=$FTP_TMP/srv
		secure_chroot_dir=$FTP_TMP/empty
		ftp_username=ftp
		connect_from_port_20=YES
		seccomp_sandbox=NO
		isolate=NO
		isolate_network=NO
		xferlog_enable=YES
		xferlog_std_format=NO
		vsftpd_log_file=$FTP_TMP/vsftpd-$name.log
		log_ftp_protocol=YES
	EOF
	nsx "$ns" vsftpd "$FTP_TMP/vsftpd-$name.conf" >"$FTP_TMP/vsftpd-$name.out" 2>&1 &
}

# nat_pyftpdlib NS ADDR...: pyftpdlib (anonymous, read-only) on each ADDR.
nat_pyftpdlib() {
	local ns=$1 a
	shift
	for a in "$@"; do
		nsx "$ns" python3 -m pyftpdlib -i "$a" -p 21 -d "$FTP_TMP/srv" \
			>"$FTP_TMP/pyftpdlib-$a.log" 2>&1 &
	done
}

nat_listening() {
	[ "$(nsx "$1" ss -Hltn 'sport = :21' | wc -l)" -ge "$2" ]
}

# nat_servers: vsftpd on P (IPv4 and IPv6); on S pyftpdlib (IPv4) and
# vsftpd (IPv6).
nat_servers() {
	nat_vsftpd "$NS_P" P
	nat_vsftpd "$NS_S" S $S6
	nat_pyftpdlib "$NS_S" $S4
	busywait 30000 nat_listening "$NS_P" 1 ||
		die "vsftpd not listening: $(cat "$FTP_TMP/vsftpd-P.out")"
	busywait 30000 nat_listening "$NS_S" 2 ||
		die "FTP servers of S not listening: $(cat "$FTP_TMP/vsftpd-S.out")"
}

# nat_transfer NS NAME CMD...: as ftp_transfer, from namespace NS.
nat_transfer() {
	local NS_C=$1
	shift
	ftp_transfer "$@"
}

# nat_files N KIB: N files f01..fN of KIB KiB of random bytes that the
# servers offer; NAT_FILES lists them, $FTP_TMP/sha256 has the sha256 of
# each and of data.bin (ftp_data).
nat_files() {
	local i
	NAT_FILES=
	for i in $(seq -w 1 "$1"); do
		head -c $(($2 << 10)) /dev/urandom >"$FTP_TMP/srv/f$i"
		NAT_FILES="$NAT_FILES f$i"
	done
	# shellcheck disable=SC2086
	(cd "$FTP_TMP/srv" && sha256sum $NAT_FILES data.bin) >"$FTP_TMP/sha256" ||
		die "sha256sum of the served files"
}

# nat_session NS NAME DIR CMD...: CMD (run in NS) downloads the files
# $NAT_FILES and data.bin, in one control connection, into DIR; every file
# must be intact (sha256).
nat_session() {
	local ns=$1 name=$2 dir=$3 bad
	shift 3
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! nsx "$ns" timeout $((600 * RNM_TIMEOUT_SCALE)) "$@" >"$FTP_TMP/session.log" 2>&1; then
		fail "$name: session failed: $(tail -n2 "$FTP_TMP/session.log")"
		return 1
	fi
	bad=$(cd "$dir" && sha256sum -c "$FTP_TMP/sha256" 2>&1 | grep -v ': OK$')
	if [ -n "$bad" ]; then
		fail "$name: files missing or different: $(echo $bad | head -c 200)"
		return 1
	fi
	log "ok: $name ($(wc -l <"$FTP_TMP/sha256") transfers in one session)"
}

# nat_blocked NS NAME CMD...: CMD (run in NS) must fail to fetch data.bin.
nat_blocked() {
	local ns=$1 name=$2 t=$SECONDS
	shift 2
	rm -f "$FTP_TMP/out"
	if nsx "$ns" timeout $((60 * RNM_TIMEOUT_SCALE)) "$@" >"$FTP_TMP/blocked.log" 2>&1 &&
		cmp -s "$FTP_TMP/out" "$FTP_TMP/srv/data.bin"; then
		fail "$name: the transfer passed"
		return 1
	fi
	log "ok: $name: blocked after $((SECONDS - t))s ($(tail -n1 "$FTP_TMP/blocked.log"))"
}
