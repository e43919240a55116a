#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi: GRO must not merge frames that still belong to different sending
# sockets.  Two consecutive TCP segments of one flow are built by hand and
# sent over a vnapi pair from AF_PACKET sockets, with coalescing set so
# that both reach the receiver's GRO in one poll:
#   - from one socket, GRO merges them (the test does reach GRO);
#   - from two sockets, GRO must keep them apart.  Merged, the first
#     frame's socket would be charged the second's memory on free:
#     "refcount_t: underflow; use-after-free" in sock_wfree (the kernel log
#     check fails the test).  veth calls skb_prepare_for_gro() for this.
# That is with TSO off on the sender.  With it on, GRO has nothing to add
# to what the sender's stack aggregated, and vnapi skips it as veth does
# (veth_skb_is_eligible_for_gro()): no merge, unless the receiver merges
# forwarded UDP (rx-udp-gro-forwarding), which takes every frame through
# GRO again.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip ethtool python3
trap vnapi_cleanup EXIT

vnapi_load
IPV6=0 vnapi_pair 1
# The interrupt comes with the second frame (rx-frames 2), or a second
# after the first (rx-usecs): both frames are in the ring when it is polled.
ip netns exec "$NSB" ethtool -C vnapi2 rx-frames 2 rx-usecs 1000000 ||
	die "ethtool -C on vnapi2"

mac_a=$(ip -n "$NSA" -br link show vnapi1 | awk '{print $3}')
mac_b=$(ip -n "$NSB" -br link show vnapi2 | awk '{print $3}')

# vstat NAME: a counter of vnapi2 (ethtool -S).
vstat() {
	ip netns exec "$NSB" ethtool -S vnapi2 | awk -v n="$1:" '$1 == n { print $2 }'
}

# send_segments SOCKETS SEQ: two TCP segments of 100 bytes of one flow,
# 10.0.0.1:40000 -> 10.0.0.2:5001, the second right after the first in
# sequence; from one AF_PACKET socket (SOCKETS=1) or one each (2).
send_segments() {
	ip netns exec "$NSA" python3 - "$1" "$2" "$mac_a" "$mac_b" <<-'EOF'
	import socket, struct, sys

	nsock, seq0 = int(sys.argv[1]), int(sys.argv[2])
	src_mac = bytes.fromhex(sys.argv[3].replace(":", ""))
	dst_mac = bytes.fromhex(sys.argv[4].replace(":", ""))
	src_ip, dst_ip = socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2")

	def csum(b):
	    if len(b) % 2:
	        b += b"\0"
	    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
	    while s >> 16:
	        s = (s & 0xFFFF) + (s >> 16)
	    return ~s & 0xFFFF

	def frame(seq, ip_id):
	    payload = bytes([seq & 0xFF]) * 100
	    # ACK only (no PSH): GRO holds the first segment for the second.
	    tcp = struct.pack("!HHIIBBHHH", 40000, 5001, seq, 1, 5 << 4, 0x10,
	                      1024, 0, 0)
	    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 6, len(tcp) + 100)
	    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp + payload)) + tcp[18:]
	    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + 100, ip_id,
	                     0x4000, 64, 6, 0, src_ip, dst_ip)
	    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
	    return dst_mac + src_mac + b"\x08\x00" + ip + tcp + payload

	socks = []
	for _ in range(nsock):
	    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
	    s.bind(("vnapi1", 0))
	    socks.append(s)
	socks[0].send(frame(seq0, 1))
	socks[-1].send(frame(seq0 + 100, 2))
	EOF
}

# segments_polled FRAMES: vnapi2 has polled FRAMES frames in all.
segments_polled() {
	[ "$(vstat rx0_frames)" = "$1" ]
}

# run_case SOCKETS SEQ MERGES: send, wait for both frames to be polled,
# check how many merges GRO reported.
run_case() {
	local frames merged
	frames=$(vstat rx0_frames)
	merged=$(vstat rx0_gro_merged)
	send_segments "$1" "$2" || die "sending from $1 socket(s) failed"
	busywait 20000 segments_polled $((frames + 2)) ||
		die "$1 socket(s): vnapi2 polled $(($(vstat rx0_frames) - frames)) frames, want 2"
	check_eq "GRO merges, $1 socket(s)" $(($(vstat rx0_gro_merged) - merged)) "$3"
}

ip netns exec "$NSA" ethtool -K vnapi1 tso off || die "ethtool -K vnapi1 tso off"
run_case 1 1000 1 && log "ok: segments from one socket merged by GRO"
ok=1
for seq in 5000 9000 13000; do
	run_case 2 $seq 0 || ok=0
done
[ $ok = 1 ] && log "ok: segments from two sockets kept apart"

ip netns exec "$NSA" ethtool -K vnapi1 tso on || die "ethtool -K vnapi1 tso on"
run_case 1 17000 0 && log "ok: from a TSO sender, GRO skipped"
ip netns exec "$NSB" ethtool -K vnapi2 rx-udp-gro-forwarding on ||
	die "ethtool -K vnapi2 rx-udp-gro-forwarding on"
run_case 1 21000 1 && log "ok: with UDP GRO forwarding, a socket's frames merged"
run_case 2 25000 0 && log "ok: with UDP GRO forwarding, two sockets kept apart"
ip netns exec "$NSB" ethtool -K vnapi2 rx-udp-gro-forwarding off ||
	die "ethtool -K vnapi2 rx-udp-gro-forwarding off"

[ $RET = 0 ] && log "PASS: GRO keeps frames of different sockets apart"
exit $RET
