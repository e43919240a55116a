#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi transmit backpressure: a transmit queue with a qdisc stops when the
# peer's rx ring is full, as a NIC's stops when its transmit ring is, and
# the peer's poll wakes it once it has made room: a burst into a slow
# receiver then waits in the qdisc instead of being dropped at the ring.
# Without a qdisc (noqueue, the default) the ring drops what it has no
# room for, as before.  A queue stopped for a ring whose frames move to
# another (ethtool -L on the peer) is woken by that ring's poll; one
# stopped when the peer goes down, or when the link goes away, is woken
# then (its frames are dropped as any sent to a device that is down, or
# without a peer), and the device sends again once the peer is up or
# linked.  tx{i}_stop and tx{i}_wake (ethtool -S, the netdev family's
# tx-stop and tx-wake) count it.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip python3 ethtool tc
trap vnapi_cleanup EXIT

vnapi_load
IPV6=0 vnapi_pair 2
D2=$VB/devices/vnapi2
settle() { busywait 30000 ring_empty vnapi2 || fail "vnapi2's ring does not drain"; }
# frames_reach N R0: vnapi2 has received N frames since it had R0.
frames_reach() { [ $(($(qstat vnapi2 frames) - $2)) -ge "$1" ]; }
# txstat NAME: vnapi1's tx*_NAME of ethtool -S, summed over its queues.
txstat() {
	ip netns exec "$NSA" ethtool -S vnapi1 |
		awk -v n="_$1:" '$1 ~ /^tx[0-9]+_/ && substr($1, length($1) - length(n) + 1) == n { s += $2 }
			END { print s + 0 }'
}
stopped_since() { [ "$(txstat stop)" -gt "$1" ]; }

# xps_to Q: every CPU sends on vnapi1's transmit queue Q (XPS), so that
# the frames go to vnapi2's ring Q.
xps_to() {
	local all q
	all=$(printf '%x' $(((1 << $(nproc)) - 1)))
	for q in 0 1; do
		ip netns exec "$NSA" sh -c "echo $([ "$q" = "$1" ] && echo "$all" || echo 0) \
			>/sys/class/net/vnapi1/queues/tx-$q/xps_cpus" || fail "xps_cpus of tx-$q"
	done
}
xps_to 0

# A slow receiver: 16-frame rings whose interrupt waits rx-usecs (the
# frame count never raises it), so a burst fills them before the poll.
slow() { # RX_USECS
	echo 16 >$D2/ring_size || fail "ring_size 16"
	ip netns exec "$NSB" ethtool -C vnapi2 rx-frames 4096 rx-usecs "$1" ||
		fail "ethtool -C vnapi2 rx-usecs $1"
	settle
}
slow 1000000

# noqueue: the ring drops the burst's excess; nothing stops.
check_eq "qdisc of vnapi1" "$(tc -n "$NSA" qdisc show dev vnapi1 | awk '{print $2; exit}')" noqueue
N=200
d0=$(qstat vnapi2 drops)
s0=$(txstat stop)
udp_send "$NSA" 10.0.0.2 $N
settle
drops=$(($(qstat vnapi2 drops) - d0))
log "noqueue: $N frames into a 16-frame ring: $drops dropped"
[ "$drops" -ge $((N / 2)) ] || fail "noqueue: only $drops of $N frames dropped by a 16-frame ring"
check_eq "noqueue: stops of vnapi1's queues" $(($(txstat stop) - s0)) 0

# A qdisc: the queue stops at each full ring and the poll wakes it; every
# frame arrives, none is dropped.
slow 100000
tc -n "$NSA" qdisc replace dev vnapi1 root pfifo limit 1000 || fail "tc qdisc pfifo"
d0=$(qstat vnapi2 drops)
r0=$(qstat vnapi2 frames)
s0=$(txstat stop)
w0=$(txstat wake)
udp_send "$NSA" 10.0.0.2 $N
busywait 60000 frames_reach $N "$r0" || fail "pfifo: vnapi2 received $(($(qstat vnapi2 frames) - r0)) of $N frames"
settle
stops=$(($(txstat stop) - s0))
wakes=$(($(txstat wake) - w0))
log "pfifo: $N frames into a 16-frame ring: $(($(qstat vnapi2 frames) - r0)) received, $stops stops, $wakes wakes"
check_eq "pfifo: drops on vnapi2" $(($(qstat vnapi2 drops) - d0)) 0
check_eq "pfifo: frames received by vnapi2" $(($(qstat vnapi2 frames) - r0)) $N
# The ring holds 16 and the poll wakes the queue only when it is at most
# half full: at least one stop per 16 frames but the last.
[ "$stops" -ge $((N / 16 - 1)) ] || fail "pfifo: $stops stops for $N frames, want >= $((N / 16 - 1))"
check_eq "pfifo: wakes of vnapi1's queue" "$wakes" "$stops"
drops_q=$(tc -n "$NSA" -s qdisc show dev vnapi1 | awk '/dropped/ { sub(",", "", $7); print $7; exit }')
check_eq "pfifo: drops of vnapi1's qdisc" "$drops_q" 0

# stopped queue, its ring's frames moved: the queue (1) stops for ring 1,
# whose frames then move to ring 0 (ethtool -L vnapi2 combined 1), which
# queue 1 now feeds too: ring 0's poll wakes it.  (The interrupt waits a
# second: the queue stops before a poll.)
slow 1000000
xps_to 1
N=48
r0=$(qstat vnapi2 frames)
d0=$(qstat vnapi2 drops)
s0=$(txstat stop)
udp_send "$NSA" 10.0.0.2 $N
busywait 10000 stopped_since "$s0" || fail "channels: vnapi1's queue did not stop"
ip netns exec "$NSB" ethtool -L vnapi2 combined 1 || fail "ethtool -L vnapi2 combined 1"
busywait 60000 frames_reach $N "$r0" ||
	fail "channels: vnapi2 received $(($(qstat vnapi2 frames) - r0)) of $N frames"
settle
check_eq "channels: drops on vnapi2" $(($(qstat vnapi2 drops) - d0)) 0
check_eq "channels: wakes of vnapi1's queues" "$(txstat wake)" "$(txstat stop)"
ip netns exec "$NSB" ethtool -L vnapi2 combined 2 || fail "ethtool -L vnapi2 combined 2"
xps_to 0
[ $RET = 0 ] && log "ok: a queue stopped for a ring whose frames moved to another: $N of $N frames arrived"

# stopped queue, peer down: going down wakes it, and what it then sends is
# dropped by the peer (as it is down); the frames of the ring arrive once
# it is up again.  Every frame is received or dropped.
slow 1000000
r0=$(qstat vnapi2 frames)
d0=$(qstat vnapi2 drops)
s0=$(txstat stop)
t0=$(txstat frames)
udp_send "$NSA" 10.0.0.2 $N
busywait 10000 stopped_since "$s0" || fail "peer down: vnapi1's queue did not stop"
ip -n "$NSB" link set vnapi2 down || fail "vnapi2 down"
check_eq "peer down: wakes of vnapi1's queues" "$(txstat wake)" "$(txstat stop)"
ip -n "$NSB" link set vnapi2 up || fail "vnapi2 up"
# all_counted: every frame sent has arrived or been dropped.
all_counted() { [ $(($(qstat vnapi2 frames) - r0 + $(qstat vnapi2 drops) - d0)) -ge $N ]; }
busywait 60000 all_counted || fail "peer down and up: $(($(qstat vnapi2 frames) - r0)) received, \
$(($(qstat vnapi2 drops) - d0)) dropped of $N frames"
settle
received=$(($(qstat vnapi2 frames) - r0))
dropped=$(($(qstat vnapi2 drops) - d0))
sent=$(($(txstat frames) - t0))
log "peer down and up: vnapi1 sent $sent, vnapi2 received $received, dropped $dropped"
# Going down flushed vnapi2's neighbours: its ICMP errors ask for vnapi1's
# address, and vnapi1's ARP reply is one frame more than the datagrams.
[ "$sent" -ge $N ] || fail "peer down and up: vnapi1 sent $sent of $N frames"
check_eq "peer down and up: frames received and dropped" $((received + dropped)) "$sent"
[ "$received" -ge 16 ] || fail "peer down and up: only $received frames received, the ring held 16"
check_eq "peer down and up: wakes of vnapi1's queues" "$(txstat wake)" "$(txstat stop)"
vnapi_neighbours
[ $RET = 0 ] && log "ok: a queue stopped while the peer went down and up: $received received, $dropped dropped"

# stopped queue, link gone: unlinking wakes the queue (its frames are then
# dropped for want of a peer); linked again, the device sends.
s0=$(txstat stop)
w0=$(txstat wake)
udp_send "$NSA" 10.0.0.2 $N
busywait 10000 stopped_since "$s0" || fail "unlink: vnapi1's queue did not stop"
echo 1 >$VB/unlink_device || fail "unlink_device 1"
check_eq "unlink: wakes of vnapi1's queues" $(($(txstat wake) - w0)) $(($(txstat stop) - s0))
settle
echo "1 2" >$VB/link_device || fail "link_device 1 2"
slow 0
carrier() { ip -n "$NSA" link show vnapi1 | grep -q LOWER_UP; }
busywait 10000 carrier || fail "linked again: vnapi1 has no carrier"
r0=$(qstat vnapi2 frames)
d0=$(qstat vnapi2 drops)
udp_send "$NSA" 10.0.0.2 $N
busywait 30000 frames_reach $N "$r0" ||
	fail "linked again: vnapi2 received $(($(qstat vnapi2 frames) - r0)) of $N frames"
check_eq "linked again: drops on vnapi2" $(($(qstat vnapi2 drops) - d0)) 0
[ $RET = 0 ] && log "ok: a queue stopped when the link went away sends again once linked"

settle
check_eq "stops and wakes of vnapi1 at the end" "$(txstat stop)" "$(txstat wake)"
tc -n "$NSA" qdisc del dev vnapi1 root
[ $RET = 0 ] && log "PASS: vnapi transmit backpressure"
exit $RET
