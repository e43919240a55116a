#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi channels (ethtool -l/-L): a device created with 4 queue pairs has
# 4 combined channels at most and in use; -L changes that at run time.
# Fewer channels: the frames already in the rings of the channels that go
# move to the ones that stay and are delivered, none lost, with the
# interface up or down; the stack sees only the queues in use (sysfs) and
# steers all traffic to them.  More: the queues come back and take
# traffic again.  Under a flow of datagrams, many changes lose nothing.
# Bad counts are refused and change nothing.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip python3 ethtool
SINK=
TMP=$(mktemp -d)
trap '[ -z "$SINK" ] || kill $SINK 2>/dev/null; rm -rf "$TMP"; vnapi_cleanup' EXIT

vnapi_load
IPV6=0 vnapi_pair 4
# A socket on port 9 in NSB that never reads: the datagrams are received
# and dropped there, with no ICMP error (and so no ARP) coming back.
ip netns exec "$NSB" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.2", 9))
open(sys.argv[1], "w").close()
time.sleep(3600)
' "$TMP/sink" &
SINK=$!
busywait 120000 test -e "$TMP/sink" || die "UDP sink did not start"

combined() { # max and current combined channels of vnapi2
	ip netns exec "$NSB" ethtool -l vnapi2 | awk '$1 == "Combined:" { print $2 }' | tr '\n' ' '
}
sysfs_queues() { # vnapi2's queue directories, as the stack sees them
	ip netns exec "$NSB" ls /sys/class/net/vnapi2/queues | tr '\n' ' '
}
rx_frames() { # I: frames received by vnapi2's queue I
	ip netns exec "$NSB" ethtool -S vnapi2 | awk -v n="rx$1_frames:" '$1 == n { print $2 }'
}
rx_polls() { # frames and polls of vnapi2's queues 1-3
	ip netns exec "$NSB" ethtool -S vnapi2 | awk '$1 ~ /^rx[123]_(frames|polls):$/ { printf "%s ", $2 }'
}
settle() {
	busywait 20000 ring_empty vnapi2 || fail "vnapi2's rings do not drain"
}

check_eq "ethtool -l (max, current)" "$(combined)" "4 4 "
check_eq "queues in sysfs" "$(sysfs_queues)" "rx-0 rx-1 rx-2 rx-3 tx-0 tx-1 tx-2 tx-3 "

# burst [DOWN] COUNT [CHANNELS]: in one process (fast enough for the 1 s
# the interrupt is held): COUNT datagrams from NSA over 64 flows (source
# ports), which vnapi1 spreads over its transmit queues and vnapi2
# receives on the ring of the same index; then, with DOWN, vnapi2 brought
# down (SIOCSIFFLAGS); then, with CHANNELS, vnapi2's channels set
# (SIOCETHTOOL ETHTOOL_SCHANNELS).  Prints the frames each ring held just
# before the change.
burst() {
	local down=0
	[ "$1" = down ] && { down=1; shift; }
	ip netns exec "$NSB" python3 -c '
import ctypes, fcntl, os, socket, struct, sys
count, channels, down, nsa, stats = sys.argv[1:6]
ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # in NSB
with open("/var/run/netns/" + nsa) as f:
    os.setns(f.fileno(), os.CLONE_NEWNET)
flows = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(64)]  # in NSA
for i in range(int(count)):
    flows[i % 64].sendto(b"x" * 64, ("10.0.0.2", 9))
rings = []
for line in open(stats):
    w = line.split()
    if w[0].startswith("rx"):
        rings.append(w[w.index("ring") + 1])
if down == "1":
    ifr = struct.pack("16sH22x", b"vnapi2", 0)
    flags = struct.unpack("16sH22x", fcntl.ioctl(ctl, 0x8913, ifr))[1]  # SIOCGIFFLAGS
    fcntl.ioctl(ctl, 0x8914, struct.pack("16sH22x", b"vnapi2", flags & ~1))  # SIOCSIFFLAGS, not IFF_UP
if channels:
    # struct ethtool_channels: cmd (ETHTOOL_SCHANNELS), 4 maxima, rx, tx,
    # other, combined
    ch = (ctypes.c_uint32 * 9)(0x3D, 0, 0, 0, 0, 0, 0, 0, int(channels))
    fcntl.ioctl(ctl, 0x8946, struct.pack("16sP16x", b"vnapi2", ctypes.addressof(ch)))  # SIOCETHTOOL
print(" ".join(rings))
' "$1" "${2:-}" "$down" "$NSA" "$VB/devices/vnapi2/queue_stats"
}

# Spread: with 4 channels every ring takes some of 400 datagrams.
settle
before=$(for i in 0 1 2 3; do rx_frames $i; done)
burst 400 >/dev/null || fail "sending over 64 flows failed"
settle
i=0
for b in $before; do
	got=$(($(rx_frames $i) - b))
	[ "$got" -gt 0 ] || fail "ring $i got no frame of 400 over 64 flows with 4 channels"
	i=$((i + 1))
done

# Down to 1 channel, up: frames held in the 4 rings (the interrupt waits
# up to 1 s for 4096 frames) when the change comes are all delivered.
ip netns exec "$NSB" ethtool -G vnapi2 rx 4096 || fail "ethtool -G vnapi2 rx 4096"
ip netns exec "$NSB" ethtool -C vnapi2 rx-frames 4096 rx-usecs 1000000 || fail "ethtool -C"
settle
rx0=$(qstat vnapi2 frames) d0=$(qstat vnapi2 drops)
held=$(burst 400 1) || fail "burst and ethtool -L combined 1 failed"
# From here the queues that went receive and poll nothing: what they held
# is delivered by queue 0.
gone=$(rx_polls)
log "rings held $held frames when the channels went from 4 to 1"
set -- $held
[ $(($2 + $3 + $4)) -gt 0 ] || fail "rings 1-3 held no frame at the change (timer fired early?)"
check_eq "ethtool -l after -L combined 1" "$(combined)" "4 1 "
check_eq "queues in sysfs with 1 channel" "$(sysfs_queues)" "rx-0 tx-0 "
settle
check_eq "frames received after 4 -> 1 channels" $(($(qstat vnapi2 frames) - rx0)) 400
check_eq "drops after 4 -> 1 channels" $(($(qstat vnapi2 drops) - d0)) 0
check_eq "frames and polls of queues 1-3 after they went" "$(rx_polls)" "$gone"

# With 1 channel, every flow lands on ring 0.
f0=$(rx_frames 0)
burst 200 >/dev/null || fail "sending over 64 flows failed"
settle
check_eq "frames on ring 0 with 1 channel" $(($(rx_frames 0) - f0)) 200

# Bad counts: refused, nothing changed.
for bad in "combined 0" "combined 5" "rx 1" "tx 1"; do
	# shellcheck disable=SC2086
	ip netns exec "$NSB" ethtool -L vnapi2 $bad 2>/dev/null && fail "ethtool -L vnapi2 $bad succeeded"
	check_eq "ethtool -l after -L $bad" "$(combined)" "4 1 "
done

# Up to 4: the queues are back and take traffic again.
ip netns exec "$NSB" ethtool -L vnapi2 combined 4 || fail "ethtool -L vnapi2 combined 4"
check_eq "ethtool -l after -L combined 4" "$(combined)" "4 4 "
check_eq "queues in sysfs with 4 channels again" "$(sysfs_queues)" "rx-0 rx-1 rx-2 rx-3 tx-0 tx-1 tx-2 tx-3 "
before=$(for i in 0 1 2 3; do rx_frames $i; done)
burst 400 >/dev/null || fail "sending over 64 flows failed"
settle
i=0
for b in $before; do
	[ $(($(rx_frames $i) - b)) -gt 0 ] || fail "ring $i got no frame after going back to 4 channels"
	i=$((i + 1))
done
log "ok: 4 -> 1 -> 4 channels: queues in sysfs follow, traffic on ring 0 only, then on all"

# Ten more times 4 -> 1 with frames held, then back to 4: each move
# allocates room for what it moves only, nothing piles up.
settle
rx0=$(qstat vnapi2 frames) d0=$(qstat vnapi2 drops)
for i in 1 2 3 4 5 6 7 8 9 10; do
	burst 200 1 >/dev/null || fail "burst and ethtool -L combined 1 failed (round $i)"
	ip netns exec "$NSB" ethtool -L vnapi2 combined 4 || fail "ethtool -L vnapi2 combined 4 (round $i)"
done
settle
check_eq "frames received over 10 rounds of 4 -> 1 -> 4" $(($(qstat vnapi2 frames) - rx0)) 2000
check_eq "drops over 10 rounds of 4 -> 1 -> 4" $(($(qstat vnapi2 drops) - d0)) 0

# Interface down, 4 -> 2 channels, up: the frames the rings held are
# delivered when it is up again.
settle
rx0=$(qstat vnapi2 frames) d0=$(qstat vnapi2 drops)
held=$(burst down 400 2) || fail "burst, down, and ethtool -L combined 2 failed"
log "rings held $held frames when vnapi2 went down and to 2 channels"
set -- $held
[ $(($3 + $4)) -gt 0 ] || fail "rings 2-3 held no frame at the change (timer fired early?)"
check_eq "ethtool -l down, after -L combined 2" "$(combined)" "4 2 "
ip -n "$NSB" link set vnapi2 up || fail "vnapi2 up"
settle
check_eq "frames received after down, 4 -> 2, up" $(($(qstat vnapi2 frames) - rx0)) 400
check_eq "drops after down, 4 -> 2, up" $(($(qstat vnapi2 drops) - d0)) 0
log "ok: frames held in the rings of channels that go are delivered, with the interface up or down"

# Under a flow of datagrams, the channels change 12 times, with the
# interrupt held up to 100 ms so that the rings hold frames at each
# change: every frame vnapi1 sent is received (the rings are large
# enough not to overflow).
ip netns exec "$NSB" ethtool -C vnapi2 rx-frames 4096 rx-usecs 100000 || fail "ethtool -C"
settle
tx0=$(qstat vnapi1 frames tx) rx0=$(qstat vnapi2 frames) d0=$(qstat vnapi2 drops)
ip netns exec "$NSA" python3 -c '
import os, socket, sys, time
flows = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(16)]
end = time.monotonic() + 600
while not os.path.exists(sys.argv[1]) and time.monotonic() < end:
    for s in flows:
        s.sendto(b"y" * 64, ("10.0.0.2", 9))
    time.sleep(0.001)
' "$TMP/stop" &
flood=$!
for n in 1 4 2 3 1 4 3 1 2 4 1 4; do
	ip netns exec "$NSB" ethtool -L vnapi2 combined $n || fail "ethtool -L vnapi2 combined $n under traffic"
done
touch "$TMP/stop"
wait $flood || fail "sender failed"
settle
sent=$(($(qstat vnapi1 frames tx) - tx0))
got=$(($(qstat vnapi2 frames) - rx0))
drops=$(($(qstat vnapi2 drops) - d0))
log "12 channel changes under traffic: $sent frames sent, $got received, $drops dropped"
[ "$sent" -gt 0 ] || fail "no frame sent"
check_eq "frames received under channel changes" "$got" "$sent"
check_eq "drops under channel changes" "$drops" 0
busywait 10000 ip netns exec "$NSA" ping -c 1 -W 1 10.0.0.2 >/dev/null || fail "no ping after the changes"

echo 1 >$VB/del_device
echo 2 >$VB/del_device
check_eq "live frames" "$(cat $VB/live_frames)" 0
check_eq "live devices" "$(cat $VB/live_devices)" 0
rmmod vnapi || fail "rmmod failed"

[ $RET = 0 ] && log "PASS: vnapi channels"
exit $RET
