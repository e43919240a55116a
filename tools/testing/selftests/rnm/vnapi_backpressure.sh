#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi transmit backpressure: a transmit queue with a qdisc stops when the
# peer's rx ring is full, as a NIC's stops when its transmit ring is, and
# the peer's poll wakes it once it has made room: a burst into a slow
# receiver then waits in the qdisc instead of being dropped at the ring.
# Without a qdisc (noqueue, the default) the ring drops what it has no
# room for, as before.  A queue stopped when the peer goes down waits for
# it to come up; one stopped when the link goes away is woken, so that the
# device sends again once linked.  tx{i}_stop and tx{i}_wake (ethtool -S,
# the netdev family's tx-stop and tx-wake) count it.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip python3 ethtool tc
trap vnapi_cleanup EXIT

vnapi_load
IPV6=0 vnapi_pair 1
D2=$VB/devices/vnapi2
settle() { busywait 30000 ring_empty vnapi2 || fail "vnapi2's ring does not drain"; }
# frames_reach N R0: vnapi2 has received N frames since it had R0.
frames_reach() { [ $(($(qstat vnapi2 frames) - $2)) -ge "$1" ]; }

# A slow receiver: a 16-frame ring whose interrupt waits rx-usecs (the
# frame count never raises it), so a burst fills it before the poll.
slow() { # RX_USECS
	echo 16 >$D2/ring_size || fail "ring_size 16"
	ip netns exec "$NSB" ethtool -C vnapi2 rx-frames 4096 rx-usecs "$1" ||
		fail "ethtool -C vnapi2 rx-usecs $1"
	settle
}
slow 100000

# noqueue: the ring drops the burst's excess; nothing stops.
check_eq "qdisc of vnapi1" "$(tc -n "$NSA" qdisc show dev vnapi1 | awk '{print $2; exit}')" noqueue
N=200
d0=$(qstat vnapi2 drops)
s0=$(qstat vnapi1 stop tx)
udp_send "$NSA" 10.0.0.2 $N
settle
drops=$(($(qstat vnapi2 drops) - d0))
log "noqueue: $N frames into a 16-frame ring: $drops dropped"
[ "$drops" -ge $((N / 2)) ] || fail "noqueue: only $drops of $N frames dropped by a 16-frame ring"
check_eq "noqueue: stops of vnapi1's queue" $(($(qstat vnapi1 stop tx) - s0)) 0

# A qdisc: the queue stops at each full ring and the poll wakes it; every
# frame arrives, none is dropped.
tc -n "$NSA" qdisc replace dev vnapi1 root pfifo limit 1000 || fail "tc qdisc pfifo"
d0=$(qstat vnapi2 drops)
r0=$(qstat vnapi2 frames)
s0=$(qstat vnapi1 stop tx)
w0=$(qstat vnapi1 wake tx)
udp_send "$NSA" 10.0.0.2 $N
busywait 60000 frames_reach $N "$r0" || fail "pfifo: vnapi2 received $(($(qstat vnapi2 frames) - r0)) of $N frames"
settle
stops=$(($(qstat vnapi1 stop tx) - s0))
wakes=$(($(qstat vnapi1 wake tx) - w0))
log "pfifo: $N frames into a 16-frame ring: $(($(qstat vnapi2 frames) - r0)) received, $stops stops, $wakes wakes"
check_eq "pfifo: drops on vnapi2" $(($(qstat vnapi2 drops) - d0)) 0
check_eq "pfifo: frames received by vnapi2" $(($(qstat vnapi2 frames) - r0)) $N
# The ring holds 16 and the poll wakes the queue only when it is at most
# half full: at least one stop per 16 frames but the last.
[ "$stops" -ge $((N / 16 - 1)) ] || fail "pfifo: $stops stops for $N frames, want >= $((N / 16 - 1))"
check_eq "pfifo: wakes of vnapi1's queue" "$wakes" "$stops"
drops_q=$(tc -n "$NSA" -s qdisc show dev vnapi1 | awk '/dropped/ { sub(",", "", $7); print $7; exit }')
check_eq "pfifo: drops of vnapi1's qdisc" "$drops_q" 0

# stopped queue, peer down: the frames wait in the qdisc and arrive once the
# peer is up again.  (The ring's interrupt waits a second: the queue stops
# before the poll.)
stopped_since() { [ "$(qstat vnapi1 stop tx)" -gt "$1" ]; }
slow 1000000
N=48
r0=$(qstat vnapi2 frames)
d0=$(qstat vnapi2 drops)
s0=$(qstat vnapi1 stop tx)
udp_send "$NSA" 10.0.0.2 $N
busywait 10000 stopped_since "$s0" || fail "peer down: vnapi1's queue did not stop"
ip -n "$NSB" link set vnapi2 down || fail "vnapi2 down"
ip -n "$NSB" link set vnapi2 up || fail "vnapi2 up"
busywait 60000 frames_reach $N "$r0" ||
	fail "peer down and up: vnapi2 received $(($(qstat vnapi2 frames) - r0)) of $N frames"
settle
check_eq "peer down and up: drops on vnapi2" $(($(qstat vnapi2 drops) - d0)) 0
check_eq "peer down and up: wakes of vnapi1's queue" "$(qstat vnapi1 wake tx)" "$(qstat vnapi1 stop tx)"
[ $RET = 0 ] && log "ok: a queue stopped while the peer went down and up: $N of $N frames arrived"

# stopped queue, link gone: unlinking wakes the queue (its frames are then
# dropped for want of a peer); linked again, the device sends.
s0=$(qstat vnapi1 stop tx)
w0=$(qstat vnapi1 wake tx)
udp_send "$NSA" 10.0.0.2 $N
busywait 10000 stopped_since "$s0" || fail "unlink: vnapi1's queue did not stop"
echo 1 >$VB/unlink_device || fail "unlink_device 1"
check_eq "unlink: wakes of vnapi1's queue" $(($(qstat vnapi1 wake tx) - w0)) $(($(qstat vnapi1 stop tx) - s0))
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
check_eq "stops and wakes of vnapi1 at the end" "$(qstat vnapi1 stop tx)" "$(qstat vnapi1 wake tx)"
tc -n "$NSA" qdisc del dev vnapi1 root
[ $RET = 0 ] && log "PASS: vnapi transmit backpressure"
exit $RET
