#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi's VLAN offloads, as a NIC's: a pair vnapi1 (NSA) - vnapi2 (NSB)
# with an 802.1Q VLAN (id 100) and an 802.1ad one (id 200) on each end,
# and 802.1Q VLAN 300 inside the 802.1ad one (QinQ).
# - ethtool -k: rx-vlan-offload, rx-vlan-stag-hw-parse, tx-vlan-offload
#   and tx-vlan-stag-hw-insert are on, and changeable;
# - ping crosses each VLAN both ways;
# - for both protocols, and each setting of vnapi1's transmit offloads and
#   vnapi2's receive offloads, an XDP program on vnapi2 (xdp_vlan of
#   vnapi_xdp.bpf.c, which sees frames before the stack, which takes any
#   tag out of the frame) finds the tag out of the frame when vnapi2's
#   receive offload of its protocol is on, whether the sender's stack left
#   it out or put it in, and in the frame when it is off; on a kernel with
#   BTF, bpf_xdp_metadata_rx_vlan_tag() gives the tag taken out (TPID and
#   id) or -ENODATA; the socket on the VLAN device gets every datagram,
#   so a tag taken out goes back on the frame the program passes;
# - QinQ: the outer (802.1ad) tag is taken out, the inner one stays in the
#   frame;
# - TCP transfers over 802.1Q (64 KB GSO frames, the tag moved into or out
#   of them) are intact, with the offloads on and with the tag moved
#   either way;
# - nothing dropped, no frame left alive once the devices are deleted.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip ethtool python3 socat sha256sum clang-19 bpftool
require_bpf
tmp=$(mktemp -d)
cleanup() {
	vnapi_del_all 1 2
	bpffs_umount
	rm -rf "$tmp"
	vnapi_cleanup
}
trap cleanup EXIT

N=20		# datagrams per case
PORT=9100	# the cases' destination ports: the first case's is PORT + 1

if [ ! -d /sys/module/8021q ] && ! modinfo 8021q >/dev/null 2>&1; then
	[ "${RNM_STRICT:-0}" = 1 ] && die "kernel without 802.1Q VLANs (CONFIG_VLAN_8021Q)"
	skip "kernel without 802.1Q VLANs (CONFIG_VLAN_8021Q)"
fi
modprobe 8021q 2>/dev/null || [ -d /sys/module/8021q ] || die "cannot load 8021q"

vnapi_load
IPV6=0 vnapi_pair 1

# ethtool -k: the four VLAN offloads, on and not fixed.
VLAN_FEATURES="rx-vlan-offload rx-vlan-stag-hw-parse tx-vlan-offload tx-vlan-stag-hw-insert"
features() { # NS DEV: "NAME:VALUE[fixed]" of each, in the order above
	local f out
	out=$(ip netns exec "$1" ethtool -k "$2") || return
	for f in $VLAN_FEATURES; do
		awk -v f="$f:" '$1 == f { printf "%s%s%s ", $1, $2, ($3 == "[fixed]" ? "[fixed]" : "") }' <<<"$out"
	done
}
want="rx-vlan-offload:on rx-vlan-stag-hw-parse:on tx-vlan-offload:on tx-vlan-stag-hw-insert:on "
check_eq "VLAN offloads of vnapi1" "$(features "$NSA" vnapi1)" "$want"
check_eq "VLAN offloads of vnapi2" "$(features "$NSB" vnapi2)" "$want"

# The VLANs: .100 (802.1Q) in 10.1.0.0/24, .200 (802.1ad) in 10.2.0.0/24,
# .200.300 (802.1Q in 802.1ad) in 10.3.0.0/24; host N has address .N.
vlan_add() { # NS PARENT NAME PROTO ID SUBNET HOST
	ip -n "$1" link add link "$2" name "$3" type vlan protocol "$4" id "$5" ||
		die "cannot add VLAN $3 ($4 id $5)"
	ip -n "$1" addr add "$6.$7/24" dev "$3"
	ip -n "$1" link set "$3" up
}
for side in "$NSA vnapi1 1" "$NSB vnapi2 2"; do
	read -r ns dev h <<<"$side"
	vlan_add "$ns" "$dev" "$dev.100" 802.1Q 100 10.1.0 "$h"
	vlan_add "$ns" "$dev" "$dev.200" 802.1ad 200 10.2.0 "$h"
	vlan_add "$ns" "$dev.200" "$dev.200.300" 802.1Q 300 10.3.0 "$h"
done
for net in 10.1.0 10.2.0 10.3.0; do
	busywait 10000 ip netns exec "$NSA" ping -c 1 -W 1 "$net.2" >/dev/null ||
		fail "no ping from $NSA to $net.2"
	ip netns exec "$NSB" ping -c 2 -i 0.2 -W 2 "$net.1" >/dev/null ||
		fail "no ping from $NSB to $net.1"
done
log "ok: ping over 802.1Q, 802.1ad and QinQ, both ways"

# udp_sink OUT DEV: a UDP socket on port $PORT in NSB, bound to DEV (so
# that a datagram that lost its tag, received on vnapi2 itself, does not
# count), takes datagrams until it has $N or none came for 10 s, and
# writes their count to OUT.  OUT.ready appears once it listens.
udp_sink() {
	ip netns exec "$NSB" python3 -c '
import socket, sys
out, dev, port, want, idle = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
s.bind(("0.0.0.0", port))
s.settimeout(idle)
open(out + ".ready", "w").close()
n = 0
try:
    while n < want:
        s.recv(2048)
        n += 1
except socket.timeout:
    pass
open(out, "w").write("%d\n" % n)
' "$1" "$2" $PORT $N $((10 * RNM_TIMEOUT_SCALE))
}

# offloads NS DEV on|off: all four VLAN offloads of DEV.
offloads() {
	local f args=()
	for f in $VLAN_FEATURES; do args+=("$f" "$3"); done
	ip netns exec "$1" ethtool -K "$2" "${args[@]}" || fail "ethtool -K $2 ${args[*]}"
}

# xdp_vlan on vnapi2, bound to it (for the kfunc) on a kernel with BTF.
bpffs_mount
defs=(-DVLAN) bound=()
if [ -e /sys/kernel/btf/vmlinux ]; then
	defs+=(-DMETA) bound=(xdpmeta_dev vnapi2)
else
	log "kernel without BTF (/sys/kernel/btf/vmlinux): bpf_xdp_metadata_rx_vlan_tag() not checked"
fi
bpf_obj "$tmp/vlan.o" "${defs[@]}"
err=$(ip netns exec "$NSB" bpftool prog loadall "$tmp/vlan.o" "$BPFFS/progs" \
	type xdp "${bound[@]}" pinmaps "$BPFFS/maps" 2>&1) ||
	die "loading xdp_vlan failed: $(echo "$err" | tail -n3 | tr '\n' ' ')"

# seen PORT: what xdp_vlan counted of the datagrams to PORT, one line
# "COUNT in=TAGS oob=TAG" per kind: TAGS the tags in the frame ("TPID/ID",
# outer first, "-" for none), TAG the one the kfunc gave ("-": -ENODATA,
# "?": not called, without BTF).
seen() {
	bpftool -j map dump pinned "$BPFFS/maps/vlan" | python3 -c '
import json, struct, sys
port = int(sys.argv[1])
rows = []
for e in json.load(sys.stdin):
    k = bytes(int(b, 16) for b in e["key"])
    v = bytes(int(b, 16) for b in e["value"])
    p, t0, t1, v0, v1, ot, ov, _, ret = struct.unpack("<HHHHHHHHi", k)
    if p != port:
        continue
    tags = ",".join("0x%04x/%d" % (t, i) for t, i in ((t0, v0), (t1, v1)) if t) or "-"
    oob = "0x%04x/%d" % (ot, ov) if ret == 0 else "-" if ret == -61 else "?" if ret == 1 else "err%d" % ret
    rows.append("%d in=%s oob=%s" % (struct.unpack("<Q", v)[0], tags, oob))
print("; ".join(sorted(rows)))' "$1"
}

# The VLAN device of each destination.
declare -A VLAN_DEV=([10.1.0.2]=vnapi2.100 [10.2.0.2]=vnapi2.200 [10.3.0.2]=vnapi2.200.300)

# case_vlan NAME DST TX RX IN OOB: $N datagrams from NSA to DST, to a port
# of their own, with every VLAN offload on but those of TX on vnapi1 and
# RX on vnapi2 ("FEATURE on|off ...", for ethtool -K).  xdp_vlan must see
# all of them with the tags IN in the frame and (with BTF) OOB out of it,
# and the socket on the VLAN device get all of them.
case_vlan() {
	local name=$1 dst=$2 want_in=$5 want_oob=$6 sink got
	PORT=$((PORT + 1))
	offloads "$NSA" vnapi1 on
	offloads "$NSB" vnapi2 on
	# shellcheck disable=SC2086 # "FEATURE VALUE ..."
	[ -z "$3" ] || ip netns exec "$NSA" ethtool -K vnapi1 $3 || fail "$name: ethtool -K vnapi1 $3"
	# shellcheck disable=SC2086
	[ -z "$4" ] || ip netns exec "$NSB" ethtool -K vnapi2 $4 || fail "$name: ethtool -K vnapi2 $4"
	rm -f "$tmp"/sink*
	udp_sink "$tmp/sink" "${VLAN_DEV[$dst]}" &
	sink=$!
	busywait 20000 test -e "$tmp/sink.ready" || fail "$name: socket not ready"
	udp_send "$NSA" "$dst" $N 64 $PORT || fail "$name: sending failed"
	wait $sink
	check_eq "$name: datagrams the socket got" "$(cat "$tmp/sink" 2>/dev/null)" $N
	[ ${#bound[@]} = 0 ] && want_oob="?"
	got=$(seen $PORT)
	check_eq "$name: what xdp_vlan saw" "$got" "$N in=$want_in oob=$want_oob"
}

ip -n "$NSB" link set dev vnapi2 xdpdrv pinned "$BPFFS/progs/xdp_vlan" ||
	die "attaching xdp_vlan to vnapi2 failed"
# The cases' own outcome, for the summary line.
ret=$RET RET=0
q="0x8100/100" ad="0x88a8/200"
case_vlan "802.1Q, offloads on" 10.1.0.2 "" "" - "$q"
case_vlan "802.1Q, tag put in by the sender, taken out" 10.1.0.2 \
	"tx-vlan-offload off" "" - "$q"
case_vlan "802.1Q, receive offload off" 10.1.0.2 "" "rx-vlan-offload off" "$q" -
case_vlan "802.1Q, both off" 10.1.0.2 "tx-vlan-offload off" "rx-vlan-offload off" "$q" -
case_vlan "802.1ad, offloads on" 10.2.0.2 "" "" - "$ad"
case_vlan "802.1ad, tag put in by the sender, taken out" 10.2.0.2 \
	"tx-vlan-stag-hw-insert off" "" - "$ad"
case_vlan "802.1ad, receive offload off" 10.2.0.2 "" "rx-vlan-stag-hw-parse off" "$ad" -
case_vlan "802.1ad, both off" 10.2.0.2 "tx-vlan-stag-hw-insert off" \
	"rx-vlan-stag-hw-parse off" "$ad" -
# The 802.1Q offloads do not act on 802.1ad tags, nor the other way round.
case_vlan "802.1ad, 802.1Q offloads off" 10.2.0.2 "tx-vlan-offload off" \
	"rx-vlan-offload off" - "$ad"
case_vlan "802.1Q, 802.1ad offloads off" 10.1.0.2 "tx-vlan-stag-hw-insert off" \
	"rx-vlan-stag-hw-parse off" - "$q"
case_vlan "QinQ, offloads on" 10.3.0.2 "" "" 0x8100/300 "$ad"
case_vlan "QinQ, receive offload off" 10.3.0.2 "" "rx-vlan-stag-hw-parse off" \
	"$ad,0x8100/300" -
offloads "$NSA" vnapi1 on
offloads "$NSB" vnapi2 on
ip -n "$NSB" link set dev vnapi2 xdpdrv off || fail "detaching xdp_vlan failed"
[ $RET = 0 ] &&
	log "ok: tags out of the frame with the receive offload on, in it with it off, $N datagrams each"
RET=$((RET | ret))

# TCP over the VLAN: 64 KB GSO frames, with the tag out of band all the
# way, put into them by vnapi (receive offload off) and taken out of them
# (put in by the sender's stack).
head -c 2000000 /dev/urandom >"$tmp/data"
tcp_transfer "TCP over 802.1Q, offloads on" "$NSA" "$NSB" 10.1.0.2 5101 "$tmp/data"
ip netns exec "$NSB" ethtool -K vnapi2 rx-vlan-offload off || fail "ethtool -K vnapi2 rx-vlan-offload off"
tcp_transfer "TCP over 802.1Q, receive offload off" "$NSA" "$NSB" 10.1.0.2 5102 "$tmp/data"
offloads "$NSB" vnapi2 on
ip netns exec "$NSA" ethtool -K vnapi1 tx-vlan-offload off || fail "ethtool -K vnapi1 tx-vlan-offload off"
tcp_transfer "TCP over 802.1Q, transmit offload off" "$NSA" "$NSB" 10.1.0.2 5103 "$tmp/data"
offloads "$NSA" vnapi1 on
log "ok: 2 MB TCP transfers over 802.1Q, checksums equal"

# Nothing dropped on the way; no frame left once the devices are gone.
read -r _ _ drops <<<"$(link_stats "$NSB" vnapi2 rx)"
check_eq "rx_dropped of vnapi2" "$drops" 0
check_eq "rx drops of vnapi2 (queue_stats)" "$(qstat vnapi2 drops)" 0
echo 1 >$VB/del_device || fail "del_device 1 failed"
echo 2 >$VB/del_device || fail "del_device 2 failed"
check_eq "live frames" "$(cat $VB/live_frames)" 0
rnm_rmmod vnapi

[ $RET = 0 ] && log "PASS: vnapi VLAN offloads"
exit $RET
