#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi: unloading the module while other processes keep writing to the
# bus files (new_device, link_device, unlink_device, del_device).  After
# each unload no vnapi net device or bus may remain, the module loads again
# and works, and the kernel log stays clean (run_in_guest.sh checks it).
# (Devices created or linked after the unload had deleted the devices used
# to outlive the module, and the next use of them ran code that was gone.)
# First random writers over a dozen ids, then, many times, writers pinned
# to one pair of devices, which hit the moment right after the deletion.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip python3
ROUNDS=${ROUNDS:-4}
WRITERS=()
HUNG=0

cleanup() {
	local p
	for p in "${WRITERS[@]}"; do
		kill "$p" 2>/dev/null
	done
	[ $HUNG = 1 ] && { cleanup_ns; return; }
	wait "${WRITERS[@]}" 2>/dev/null
	vnapi_cleanup
}
trap cleanup EXIT

gone() { ! kill -0 "$1" 2>/dev/null; }

# writer SEED: until the bus is gone, create two random devices, link
# them, and sometimes unlink or delete one (ids 0..11, so that most writes
# fail while the bus is full, and succeed as soon as it is emptied).
writer() {
	exec python3 -c '
import os, random, sys
random.seed(int(sys.argv[1]))
vb = "/sys/bus/vnapi/"
def put(f, s):
    try:
        fd = os.open(vb + f, os.O_WRONLY)
    except OSError:
        return
    try:
        os.write(fd, s.encode())
    except OSError:
        pass
    os.close(fd)
while os.path.exists(vb):
    a, b = random.sample(range(12), 2)
    put("new_device", f"{a} {random.randrange(1, 4)}")
    put("new_device", f"{b}")
    put("link_device", f"{a} {b}")
    op = random.randrange(4)
    if op == 0:
        put("unlink_device", f"{a}")
    elif op == 1:
        put("del_device", f"{a}")
' "$1"
}

# linked: some device has a peer now.
linked() {
	cat $VB/devices/*/peer 2>/dev/null | grep -qv none
}

no_vnapi_left() {
	local left
	left=$(ip -br link | awk '$1 ~ /^vnapi/ { print $1 }' | tr '\n' ' ')
	check_eq "vnapi net devices after unload (round $1)" "$left" ""
	[ -e $VB ] && fail "$VB still there after unload (round $1)"
}

# unload_under_writers ROUND: rmmod while the WRITERS run; every writer
# ends with the bus, and nothing of the module is left.
unload_under_writers() {
	local pid p
	rmmod vnapi &
	pid=$!
	busywait 120000 gone $pid || { HUNG=1; die "rmmod did not return within 120 s"; }
	wait $pid || die "rmmod failed in round $1"
	for p in "${WRITERS[@]}"; do
		busywait 60000 gone "$p" || { HUNG=1; die "a bus writer hangs after unload"; }
	done
	wait "${WRITERS[@]}"
	WRITERS=()
	no_vnapi_left "$1"
}

for round in $(seq "$ROUNDS"); do
	vnapi_load
	for i in 1 2 3; do
		writer "$((round * 10 + i))" &
		WRITERS+=($!)
	done
	# Unload once devices and links exist and the writers are busy.
	busywait 60000 linked ||
		log "round $round: no linked device seen before the unload"
	log "round $round: devices before unload: $(ls $VB/devices 2>/dev/null | tr '\n' ' ')"
	unload_under_writers "$round"
	[ $RET = 0 ] || break
done

# pinned_writer FILE VALUE: until the bus is gone, write VALUE to FILE
# as fast as a shell can (a builtin echo, no process per write).
pinned_writer() {
	exec bash -c 'while [ -e "$1" ]; do echo "$2" >"$1"; done 2>/dev/null' _ "$VB/$1" "$2"
}

# The narrow case, many times: one writer keeps creating device 0, one
# device 1, one keeps linking them, so that the moment the unload has
# deleted the devices, a linked pair can appear again.  (A linked pair
# holds itself alive through its peers: if one appears after the unload
# deleted the devices, it outlives the module.)
for round in $(seq "$ROUNDS"); do
	vnapi_load
	pinned_writer new_device 0 &
	WRITERS+=($!)
	pinned_writer new_device 1 &
	WRITERS+=($!)
	pinned_writer link_device "0 1" &
	WRITERS+=($!)
	busywait 60000 linked || log "pinned round $round: no linked pair before the unload"
	unload_under_writers "pinned $round"
	[ $RET = 0 ] || break
done

# Loaded again, the module works.
vnapi_load
vnapi_pair
busywait 10000 ip netns exec "$NSA" ping -c 1 -W 1 10.0.0.2 >/dev/null || fail "no ping after reloading"
cleanup_ns
rmmod vnapi || fail "rmmod failed"
no_vnapi_left final

[ $RET = 0 ] && log "PASS: vnapi unload racing with bus writes"
exit $RET
