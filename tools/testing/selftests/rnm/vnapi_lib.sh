#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the vnapi tests: devices on /sys/bus/vnapi, a linked pair in
# two network namespaces, counters from queue_stats.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VB=/sys/bus/vnapi
VS=/proc/sys/net/vnapi

vnapi_load() {
	rnm_builtin vnapi || [ ! -e $VB ] || die "$VB exists before the module is loaded"
	rnm_insmod vnapi
	[ -d $VB ] || die "$VB missing after loading vnapi"
}

# The module may already be gone (a test that unloads it checks that).
vnapi_cleanup() {
	cleanup_ns
	[ -d /sys/module/vnapi ] && ! rnm_builtin vnapi && rmmod vnapi 2>/dev/null
}

# vnapi_del_all ID...: those of the devices ID... that exist, deleted (on
# exit: built into the kernel, vnapi stays, and so would they).
vnapi_del_all() {
	local d
	for d in "$@"; do
		[ -e "$VB/devices/vnapi$d" ] && echo "$d" 2>/dev/null >"$VB/del_device"
	done
}

# require_bpf: the kernel has the bpf() system call, or the test is
# skipped; BPF_SRC is the source of the tests' XDP programs.
require_bpf() {
	# The sysctl is there when the kernel has the bpf() system call.
	[ -e /proc/sys/kernel/unprivileged_bpf_disabled ] ||
		skip "kernel without the bpf() system call (CONFIG_BPF_SYSCALL)"
	BPF_SRC=$(dirname "${BASH_SOURCE[0]}")/vnapi_xdp.bpf.c
	[ -f "$BPF_SRC" ] || die "$BPF_SRC is missing"
}

# bpf_obj OUT [-D...]: BPF_SRC compiled to OUT (with clang-19).
bpf_obj() {
	local out=$1
	shift
	clang-19 -O2 -g -target bpf -I"/usr/include/$(uname -m)-linux-gnu" "$@" \
		-c "$BPF_SRC" -o "$out" 2>"$out.log" ||
		die "compiling $BPF_SRC ($*) failed: $(grep -m1 'error' "$out.log")"
}

# bpffs_mount: a bpf file system mounted on a new directory, BPFFS, with
# an empty maps/ in it; its path has no dots (libbpf turns them into
# underscores in the paths it pins maps at).  bpffs_umount (on exit)
# undoes it.
BPFFS=
bpffs_mount() {
	BPFFS=$(mktemp -d /tmp/vnapi_bpffs_XXXXXX) && mount -t bpf bpf "$BPFFS" &&
		mkdir "$BPFFS/maps" || die "cannot mount a bpf file system"
}
bpffs_umount() {
	[ -n "$BPFFS" ] || return 0
	umount "$BPFFS" 2>/dev/null
	rmdir "$BPFFS" 2>/dev/null
	BPFFS=
}

# tcp_transfer NAME FROM_NS TO_NS ADDR PORT FILE: FILE sent by socat in
# FROM_NS over TCP to ADDR:PORT ([ADDR] for IPv6), where socat in TO_NS
# writes it to FILE.out, arrives intact (sha256).
tcp_transfer() {
	local name=$1 from=$2 to=$3 addr=$4 port=$5 file=$6 listen=TCP-LISTEN srv
	[[ $addr == \[* ]] && listen=TCP6-LISTEN
	rm -f "$file.out"
	timeout $((120 * RNM_TIMEOUT_SCALE)) ip netns exec "$to" socat -u "$listen:$port,reuseaddr" \
		"OPEN:$file.out,creat,trunc" &
	srv=$!
	busywait 10000 tcp_listening "$to" "$port" || fail "$name: socat not listening on port $port"
	timeout $((120 * RNM_TIMEOUT_SCALE)) ip netns exec "$from" socat -u "OPEN:$file" "TCP:$addr:$port" ||
		fail "$name: TCP transfer $from -> $addr failed"
	wait $srv
	check_eq "$name: sha256 of the transfer" "$(sha256sum <"$file.out" | cut -d' ' -f1)" \
		"$(sha256sum <"$file" | cut -d' ' -f1)"
}

# vnapi_new ID [QUEUES]
vnapi_new() {
	echo "$*" >$VB/new_device || die "new_device '$*' failed"
	[ -d $VB/devices/vnapi$1/net/vnapi$1 ] || die "vnapi$1 has no net device"
}

# qstat DEV FIELD [rx|tx]: sum of FIELD over DEV's queues in queue_stats.
qstat() {
	awk -v f="$2" -v dir="${3:-rx}" '
		index($1, dir) == 1 { for (i = 2; i < NF; i += 2) if ($i == f) s += $(i + 1) }
		END { print s + 0 }' "$VB/devices/$1/queue_stats"
}

# link_stats NS DEV rx|tx: DEV's packets, bytes and drops in that
# direction, as ip -s link has them.
link_stats() {
	ip -n "$1" -j -s link show "$2" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["stats64"][sys.argv[1]]
print(s["packets"], s["bytes"], s["dropped"])' "$3"
}

# ring_empty DEV: no frame waits in DEV's rx rings.
ring_empty() {
	[ "$(qstat "$1" ring)" = 0 ]
}

# vnapi_place N NS ADDR: vnapiN moved to namespace NS, with ADDR/24 (and
# fd00::N/64 unless IPV6=0), up.
vnapi_place() {
	ip link set "vnapi$1" netns "$2" || die "cannot move vnapi$1 to $2"
	ip -n "$2" addr add "$3/24" dev "vnapi$1"
	[ "${IPV6:-1}" = 0 ] || ip -n "$2" addr add "fd00::$1/64" dev "vnapi$1" nodad
	ip -n "$2" link set "vnapi$1" up
}

# vnapi_neighbours: static neighbours between vnapi1 and vnapi2 (no ARP
# traffic in the counts).
vnapi_neighbours() {
	ip -n "$NSA" neigh replace 10.0.0.2 dev vnapi1 nud permanent \
		lladdr "$(ip -n "$NSB" -br link show vnapi2 | awk '{print $3}')"
	ip -n "$NSB" neigh replace 10.0.0.1 dev vnapi2 nud permanent \
		lladdr "$(ip -n "$NSA" -br link show vnapi1 | awk '{print $3}')"
}

# vnapi_pair: devices 1 and 2 (QUEUES each, default 1), linked, in
# namespaces $NSA and $NSB with 10.0.0.1/24 and 10.0.0.2/24 (and
# fd00::1/2), up.  IPV6=0 disables IPv6 to keep the links quiet.
vnapi_pair() {
	local q=${1:-1} ns
	setup_ns NSA NSB
	vnapi_new 1 "$q"
	vnapi_new 2 "$q"
	echo "1 2" >$VB/link_device || die "link_device failed"
	if [ "${IPV6:-1}" = 0 ]; then
		for ns in "$NSA" "$NSB"; do
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		done
	fi
	vnapi_place 1 "$NSA" 10.0.0.1
	vnapi_place 2 "$NSB" 10.0.0.2
	vnapi_neighbours
}

# udp_send NS DST COUNT [SIZE [PORT]]: send COUNT UDP datagrams of SIZE
# bytes (default 64) to DST port PORT (default 9) from namespace NS.
udp_send() {
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
p = b"x" * int(sys.argv[3])
for _ in range(int(sys.argv[2])):
    s.sendto(p, (sys.argv[1], int(sys.argv[4])))
' "$2" "$3" "${4:-64}" "${5:-9}"
}

# reject FILE VALUE ERRNO_TEXT: writing VALUE to FILE must fail with that
# error.  For write-only files; the caller checks that nothing changed.
reject() {
	local err
	if err=$( (printf '%s' "$2" >"$1") 2>&1); then
		fail "writing '${2:0:40}' to $1 succeeded, want '$3'"
	elif [[ "$err" != *"$3"* ]]; then
		fail "writing '${2:0:40}' to $1: got '${err##*: }', want '$3'"
	fi
}
