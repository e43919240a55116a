#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi teardown under traffic: delete a device while a flood and a TCP
# stream cross it, then unload the module while another pair carries
# traffic.  The live-object counters (devices, frames in rings) go back
# to zero and the kernel log stays clean (run_in_guest.sh checks it).

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip iperf3 python3
trap vnapi_cleanup EXIT

flood() { # NS DST: UDP until killed
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    try:
        s.sendto(b"x" * 1000, (sys.argv[1], 9))
    except OSError:
        pass
' "$2" &
}

# arrived DEV N: more than N frames reached DEV's rings (taken or dropped).
arrived() {
	[ $(($(qstat "$1" frames) + $(qstat "$1" drops) + $(qstat "$1" ring))) -gt "$2" ]
}

vnapi_load
vnapi_pair 2
ip netns exec "$NSB" iperf3 -s -D -p 5201
busywait 10000 ip netns exec "$NSA" ping -c 1 -W 1 10.0.0.2 >/dev/null || die "no ping"
busywait 10000 tcp_listening "$NSB" 5201 || die "iperf3 not listening"
ip netns exec "$NSA" iperf3 -c 10.0.0.2 -t 30 -p 5201 >/dev/null 2>&1 &
flood "$NSA" 10.0.0.2
# Small ring, long coalescing: frames sit in the ring when it goes.
echo 16 >$VB/devices/vnapi2/ring_size
echo 1000000 >$VB/devices/vnapi2/rx_usecs
echo 4096 >$VB/devices/vnapi2/rx_frames
busywait 30000 arrived vnapi2 1000 || fail "no traffic before the delete"
log "frames in vnapi2's ring before delete: $(qstat vnapi2 ring), live frames $(cat $VB/live_frames)"
echo 2 >$VB/del_device || fail "del_device 2 under traffic failed"
check_eq "live devices after deleting one" "$(cat $VB/live_devices)" 1
echo 1 >$VB/del_device || fail "del_device 1 failed"
check_eq "live devices" "$(cat $VB/live_devices)" 0
check_eq "live frames" "$(cat $VB/live_frames)" 0
cleanup_ns

# A second pair, traffic flowing, and unload the module under it.
vnapi_pair 4
busywait 10000 ip netns exec "$NSA" ping -c 1 -W 1 10.0.0.2 >/dev/null || die "no ping on the second pair"
flood "$NSA" 10.0.0.2
flood "$NSB" 10.0.0.1
echo 1000000 >$VB/devices/vnapi1/rx_usecs
echo 4096 >$VB/devices/vnapi1/rx_frames
busywait 30000 arrived vnapi2 1000 || fail "no traffic before unload"
log "live frames before unload: $(cat $VB/live_frames)"
rmmod vnapi || fail "rmmod under traffic failed"
[ -e $VB ] && fail "$VB still there after unload"
dmesg | grep -q 'vnapi: unloading: live devices 0, live frames 0' ||
	fail "live objects left at unload: $(dmesg | grep 'vnapi: unloading')"
cleanup_ns

[ $RET = 0 ] && log "PASS: vnapi teardown under traffic"
exit $RET
