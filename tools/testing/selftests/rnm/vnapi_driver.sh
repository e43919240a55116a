#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi's driver on its bus: a new device is bound at once (its driver
# link, its net device under it) and its uevent carries the alias the
# module declares; unbind removes the net device but keeps the bus device
# and its id (its files fail with ENODEV, the net device's name is free),
# bind makes a new net device; with drivers_autoprobe 0 a new device stays
# unbound until drivers_probe binds it; bad bind and unbind writes fail and
# change nothing; a device unbound and bound again while a flood crosses
# its link leaves no frame or device behind, and carries traffic again
# once linked again.  Unloading unbinds whatever is still bound.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip python3 ping modinfo
trap 'kill $FLOOD 2>/dev/null; vnapi_cleanup' EXIT
DRV=$VB/drivers/vnapi
FLOOD=

# driver_of N: the driver vnapiN is bound to, or "none".
driver_of() {
	local l
	l=$(readlink "$VB/devices/vnapi$1/driver") || { echo none; return; }
	basename "$l"
}

# bound N: vnapiN is bound, with its net device under it.
bound() {
	check_eq "vnapi$1's driver" "$(driver_of "$1")" vnapi
	[ -e "$DRV/vnapi$1" ] || fail "no vnapi$1 in $DRV"
	[ -d "$VB/devices/vnapi$1/net/vnapi$1" ] || fail "vnapi$1 bound without its net device"
}

# unbound N: vnapiN is on the bus, with no driver and no net device.
unbound() {
	[ -d "$VB/devices/vnapi$1" ] || fail "bus device vnapi$1 gone"
	check_eq "vnapi$1's driver" "$(driver_of "$1")" none
	[ -e "$VB/devices/vnapi$1/net" ] && fail "vnapi$1 unbound with a net device"
	[ -e "$DRV/vnapi$1" ] && fail "vnapi$1 still in $DRV"
	return 0
}

vnapi_load
[ -d $DRV ] || die "no driver directory $DRV"
check_eq "the driver's module" "$(basename "$(readlink $DRV/module)")" vnapi
check_eq "the module's alias" "$(modinfo -F alias "$(rnm_ko vnapi)")" vnapi:vnapi

# Bound when created; the uevent names the alias.
vnapi_new 1
bound 1
grep -qx MODALIAS=vnapi:vnapi $VB/devices/vnapi1/uevent ||
	fail "vnapi1's uevent has no MODALIAS=vnapi:vnapi: $(tr '\n' ' ' <$VB/devices/vnapi1/uevent)"
log "ok: vnapi1 bound at creation, uevent MODALIAS=vnapi:vnapi"

# Unbind and bind again.
vnapi_new 2
write_ok $DRV/unbind vnapi1
unbound 1
ip link show vnapi1 >/dev/null 2>&1 && fail "net device vnapi1 left after unbind"
cat $VB/devices/vnapi1/ring_size >/dev/null 2>&1 && fail "ring_size readable while unbound"
err=$(cat $VB/devices/vnapi1/ring_size 2>&1)
[[ "$err" == *"No such device"* ]] || fail "ring_size while unbound: '$err', want 'No such device'"
reject $VB/link_device "1 2" "No such device"
reject $VB/unlink_device 1 "No such device"
reject $DRV/unbind vnapi1 "No such device"
reject $VB/new_device 1 "File exists"
check_eq "live devices while unbound" "$(cat $VB/live_devices)" 1
write_ok $DRV/bind vnapi1
bound 1
check_eq "live devices bound again" "$(cat $VB/live_devices)" 2
write_ok $VB/del_device 2
log "ok: unbind removes the net device and keeps the bus device; bind makes it again"

# Bad writes change nothing.
reject $DRV/bind vnapi9 "No such device"
reject $DRV/bind vnapi1 "Device or resource busy"
reject $DRV/unbind vnapi9 "No such device"
bound 1
log "ok: bind and unbind of unknown or bound devices fail"

# drivers_autoprobe 0: created unbound, bound by drivers_probe.
write_ok $VB/drivers_autoprobe 0
vnapi_new_unbound() { echo "$1" >$VB/new_device || die "new_device $1 failed"; }
vnapi_new_unbound 3
unbound 3
check_eq "live devices with vnapi3 unbound" "$(cat $VB/live_devices)" 1
write_ok $VB/drivers_probe vnapi3
bound 3
write_ok $VB/drivers_autoprobe 1
write_ok $VB/del_device 3
[ -e $VB/devices/vnapi3 ] && fail "vnapi3 left after del_device"
log "ok: drivers_autoprobe 0 leaves vnapi3 unbound until drivers_probe"

# Unbind and bind a linked device under a flood, several times.
write_ok $VB/del_device 1
vnapi_pair 2
busywait 10000 ip netns exec "$NSA" ping -c 1 -W 1 10.0.0.2 >/dev/null ||
	die "no ping from $NSA to $NSB"
ip netns exec "$NSA" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    try:
        s.sendto(b"x" * 1000, ("10.0.0.2", 9))
    except OSError:
        pass
' &
FLOOD=$!
reached2() { [ "$(qstat vnapi2 frames)" -gt 0 ]; }
for round in 1 2 3; do
	busywait 10000 reached2 || fail "round $round: no frames reached vnapi2"
	write_ok $DRV/unbind vnapi2
	unbound 2
	check_eq "round $round: vnapi1's peer after vnapi2 unbound" "$(cat $VB/devices/vnapi1/peer)" none
	write_ok $DRV/bind vnapi2
	bound 2
	write_ok $VB/link_device "1 2"
	vnapi_place 2 "$NSB" 10.0.0.2
	vnapi_neighbours
done
busywait 10000 ip netns exec "$NSA" ping -c 1 -W 1 10.0.0.2 >/dev/null ||
	fail "no ping after vnapi2 was bound and linked again"
kill $FLOOD
wait $FLOOD 2>/dev/null
FLOOD=
log "ok: vnapi2 unbound and bound 3 times under a flood; ping after"

# The counters come back: unbinding takes the frames in the rings with it.
write_ok $DRV/unbind vnapi1
write_ok $DRV/unbind vnapi2
check_eq "live devices, both unbound" "$(cat $VB/live_devices)" 0
busywait 10000 test "$(cat $VB/live_frames)" = 0 ||
	fail "live frames with both unbound: $(cat $VB/live_frames)"

# Unloading with one device bound and one not.
write_ok $DRV/bind vnapi1
cleanup_ns
rnm_rmmod vnapi
[ -e $VB ] && fail "$VB still there after unload"

[ $RET = 0 ] && log "PASS: vnapi driver: bind, unbind, autoprobe, uevent, rebinding under traffic"
exit $RET
