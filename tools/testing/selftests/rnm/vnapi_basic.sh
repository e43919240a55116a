#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi: create two devices, link them, move them into two namespaces,
# ping and a TCP transfer (checksums compared) in both directions over IPv4
# and IPv6, also with threaded NAPI; tcpdump on the device sees both
# directions, ethtool reports, unlink (carrier off, traffic stops), relink,
# delete.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip ping socat tcpdump ethtool sha256sum
trap vnapi_cleanup EXIT

vnapi_load
vnapi_pair 2
check_eq "peer of 1" "$(cat $VB/devices/vnapi1/peer)" 2
check_eq "peer of 2" "$(cat $VB/devices/vnapi2/peer)" 1
check_eq "queues" "$(cat $VB/devices/vnapi1/queues)" 2
check_eq "live devices" "$(cat $VB/live_devices)" 2

busywait 10000 ip netns exec "$NSA" ping -c 1 -W 1 10.0.0.2 >/dev/null ||
	die "no ping from $NSA to $NSB"
ip netns exec "$NSA" ping -c 5 -i 0.2 -W 2 10.0.0.2 >/dev/null || fail "ping $NSA -> $NSB"
ip netns exec "$NSB" ping -c 5 -i 0.2 -W 2 10.0.0.1 >/dev/null || fail "ping $NSB -> $NSA"
ip netns exec "$NSA" ping -6 -c 3 -i 0.2 -W 2 fd00::2 >/dev/null || fail "ping -6 $NSA -> $NSB"
log "ok: ping both directions, IPv4 and IPv6"

# TCP transfer with checksum, both directions.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; vnapi_cleanup' EXIT
head -c 4000000 /dev/urandom >"$tmp/data"
tcp_transfer "IPv4 A -> B" "$NSA" "$NSB" 10.0.0.2 5001 "$tmp/data"
tcp_transfer "IPv4 B -> A" "$NSB" "$NSA" 10.0.0.1 5002 "$tmp/data"
tcp_transfer "IPv6 A -> B" "$NSA" "$NSB" "[fd00::2]" 5003 "$tmp/data"
log "ok: 4 MB TCP transfers, checksums equal"

# Threaded NAPI (the core's /sys/class/net/DEV/threaded): a kernel thread
# per NAPI context polls it; the same transfers pass, through the polls.
ip netns exec "$NSA" sh -c 'echo 1 >/sys/class/net/vnapi1/threaded' || fail "threaded on vnapi1"
ip netns exec "$NSB" sh -c 'echo 1 >/sys/class/net/vnapi2/threaded' || fail "threaded on vnapi2"
check_eq "NAPI threads" "$(pgrep -c '^napi/vnapi[12]-')" 4
# Each time a NAPI thread has polled its queue empty, it sleeps.
napi_sleeps() { # DEV: voluntary context switches of DEV's NAPI threads
	local p
	for p in $(pgrep "^napi/$1-"); do cat /proc/$p/status; done |
		awk '$1 == "voluntary_ctxt_switches:" { s += $2 } END { print s + 0 }'
}
s1=$(napi_sleeps vnapi1) s2=$(napi_sleeps vnapi2)
tcp_transfer "threaded NAPI, IPv4 A -> B" "$NSA" "$NSB" 10.0.0.2 5004 "$tmp/data"
tcp_transfer "threaded NAPI, IPv4 B -> A" "$NSB" "$NSA" 10.0.0.1 5005 "$tmp/data"
[ "$(napi_sleeps vnapi1)" -gt "$s1" ] || fail "vnapi1's NAPI threads did not run"
[ "$(napi_sleeps vnapi2)" -gt "$s2" ] || fail "vnapi2's NAPI threads did not run"
ip netns exec "$NSA" sh -c 'echo 0 >/sys/class/net/vnapi1/threaded' || fail "threaded off on vnapi1"
ip netns exec "$NSB" sh -c 'echo 0 >/sys/class/net/vnapi2/threaded' || fail "threaded off on vnapi2"
busywait 10000 sh -c "! pgrep '^napi/vnapi[12]-' >/dev/null" || fail "NAPI threads left"
log "ok: TCP transfers with threaded NAPI"

# tcpdump on the receiving device sees requests and replies.
timeout $((60 * RNM_TIMEOUT_SCALE)) ip netns exec "$NSB" tcpdump -n -i vnapi2 -c 6 -w "$tmp/cap" icmp 2>/dev/null &
dump=$!
busywait 10000 test -e "$tmp/cap"
sleep 1
ip netns exec "$NSA" ping -c 3 -i 0.2 10.0.0.2 >/dev/null
wait $dump
req=$(tcpdump -n -r "$tmp/cap" 2>/dev/null | grep -c 'echo request')
rep=$(tcpdump -n -r "$tmp/cap" 2>/dev/null | grep -c 'echo reply')
check_eq "tcpdump echo requests" "$req" 3
check_eq "tcpdump echo replies" "$rep" 3

# ethtool reports.
ip netns exec "$NSA" ethtool -i vnapi1 | grep -q '^driver: vnapi' || fail "ethtool -i"
ip netns exec "$NSA" ethtool -l vnapi1 | grep -q 'Combined:.*2' || fail "ethtool -l"
ip netns exec "$NSA" ethtool -g vnapi1 | grep -A1 'Pre-set' | grep -q 'RX:.*4096' || fail "ethtool -g"
ip netns exec "$NSA" ethtool -S vnapi1 | grep -q 'rx1_gro_merged' || fail "ethtool -S"
# The two are read one after the other: a late frame of the transfers
# above (an ACK, a neighbour solicitation) may land in between, so they
# are compared until they agree.
ethtool_rx() {
	ip netns exec "$NSB" ethtool -S vnapi2 | awk '/rx[0-9]_frames/ {s += $2} END {print s}'
}
rx_agree() { [ "$(ethtool_rx)" = "$(qstat vnapi2 frames)" ]; }
busywait 10000 rx_agree ||
	check_eq "ethtool -S rx frames = sysfs" "$(ethtool_rx)" "$(qstat vnapi2 frames)"
ip -n "$NSB" -s link show vnapi2 | grep -q . || fail "ip -s link"

# The transmit path owns each frame it gets: pktgen may not hand it the
# same sk_buff again and again (clone_skb, burst), which ether_setup()
# allows a device (IFF_TX_SKB_SHARING) unless its driver says otherwise.
if modprobe pktgen 2>/dev/null; then
	ip netns exec "$NSA" sh -c '
		echo "add_device vnapi1" >/proc/net/pktgen/kpktgend_0 || exit 2
		echo "flag SHARED" >/proc/net/pktgen/vnapi1 || exit 2
		r=0
		echo "clone_skb 10" 2>/dev/null >/proc/net/pktgen/vnapi1 && r=1
		echo "burst 8" 2>/dev/null >/proc/net/pktgen/vnapi1 && r=1
		echo rem_device_all >/proc/net/pktgen/kpktgend_0
		exit $r'
	case $? in
	0) log "ok: pktgen may not share sk_buffs with vnapi (clone_skb, burst refused)" ;;
	1) fail "pktgen may share sk_buffs with vnapi (clone_skb or burst accepted)" ;;
	*) fail "pktgen: cannot add vnapi1" ;;
	esac
	rmmod pktgen 2>/dev/null
else
	log "INFO: no pktgen module: shared sk_buffs not checked"
fi

# Unlink: carrier goes, traffic stops; relink: it comes back.
echo 1 >$VB/unlink_device || fail "unlink_device failed"
check_eq "peer after unlink" "$(cat $VB/devices/vnapi2/peer)" none
ip -n "$NSA" link show vnapi1 | grep -q NO-CARRIER || fail "vnapi1 has carrier after unlink"
ip -n "$NSB" link show vnapi2 | grep -q NO-CARRIER || fail "vnapi2 has carrier after unlink"
ip netns exec "$NSA" ping -c 2 -i 0.2 -W 1 10.0.0.2 >/dev/null && fail "ping works while unlinked"
echo "2 1" >$VB/link_device || fail "relink failed"
ip -n "$NSA" link show vnapi1 | grep -q NO-CARRIER && fail "vnapi1 has no carrier after relink"
busywait 10000 ip netns exec "$NSA" ping -c 1 -W 1 10.0.0.2 >/dev/null || fail "no ping after relink"
log "ok: unlink stops traffic, relink restores it"

# A device returns to the initial namespace when its namespace goes.
ip netns del "$NSB"
busywait 10000 ip link show vnapi2 >/dev/null 2>&1 || fail "vnapi2 not back in init_net"

echo 2 >$VB/del_device || fail "del_device 2 failed"
check_eq "peer after delete" "$(cat $VB/devices/vnapi1/peer)" none
ip -n "$NSA" link show vnapi1 | grep -q NO-CARRIER || fail "no carrier loss when the peer goes"
echo 1 >$VB/del_device || fail "del_device 1 failed"
[ -e $VB/devices/vnapi1 ] && fail "vnapi1 still on the bus"
check_eq "live devices" "$(cat $VB/live_devices)" 0
check_eq "live frames" "$(cat $VB/live_frames)" 0
rnm_rmmod vnapi

[ $RET = 0 ] && log "PASS: vnapi link, traffic, unlink, delete"
exit $RET
