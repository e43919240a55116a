#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi: a new_device that fails after its bus device appeared (its net
# device name is taken) while unprivileged readers keep opening that bus
# device's attribute files.  Every failed creation must return, and so must
# every later bus write and the unload.  (The creation used to remove its
# bus device while holding the lock the readers' show callbacks waited for:
# device removal waited for the readers, the readers for the lock.)
#
# Each step that could hang runs in the background with a deadline; a hang
# is reported as a failure and the module is left loaded (it cannot be
# unloaded any more).

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip python3
ATTEMPTS=${ATTEMPTS:-200}
HUNG=0
READERS=()

cleanup() {
	local p
	for p in "${READERS[@]}"; do
		kill "$p" 2>/dev/null
	done
	if [ $HUNG = 1 ]; then
		# Hung readers cannot be waited for.
		log "vnapi left loaded: a bus write hangs"
		cleanup_ns
	else
		wait "${READERS[@]}" 2>/dev/null
		vnapi_cleanup
	fi
}
trap cleanup EXIT

gone() { ! kill -0 "$1" 2>/dev/null; }

# bounded WHAT CMD...: CMD must return within 120 s (times
# RNM_TIMEOUT_SCALE); its exit status is returned.  A hang marks the test
# failed and stops it.
bounded() {
	local what=$1 pid
	shift
	"$@" &
	pid=$!
	if ! busywait 120000 gone $pid; then
		HUNG=1
		die "$what did not return within $((120 * RNM_TIMEOUT_SCALE)) s (deadlock)"
	fi
	wait $pid
}

# reader: as nobody, open and read every file of vnapi7 on the bus, in a
# loop; on SIGTERM print how many times a file could be opened.
reader() {
	exec python3 -c '
import os, signal, sys
os.setgid(65534)
os.setuid(65534)
d = "/sys/bus/vnapi/devices/vnapi7/"
names = ["queue_stats", "ring_size", "napi_weight", "rx_frames", "rx_usecs",
         "queues", "peer", "irq_cpu"]
opened = 0
def done(*_):
    print(opened)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
while True:
    for n in names:
        try:
            fd = os.open(d + n, os.O_RDONLY)
        except OSError:
            continue
        opened += 1
        try:
            os.read(fd, 4096)
        except OSError:
            pass
        os.close(fd)
' >"$1"
}

# creator N OUT PROGRESS: N times "7" into new_device; appends a byte to
# PROGRESS after each write, and prints "<errno name> <count>" for each
# outcome to OUT.
creator() {
	exec python3 -c '
import collections, errno, os, sys
seen = collections.Counter()
progress = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
for _ in range(int(sys.argv[1])):
    fd = os.open("/sys/bus/vnapi/new_device", os.O_WRONLY)
    try:
        os.write(fd, b"7\n")
        seen["ok"] += 1
    except OSError as e:
        seen[errno.errorcode.get(e.errno, str(e.errno))] += 1
    os.close(fd)
    os.write(progress, b".")
with open(sys.argv[2], "w") as f:
    for k, v in sorted(seen.items()):
        print(k, v, file=f)
' "$@"
}

# progressing WHAT PID FILE: wait for PID to end while FILE keeps growing;
# FILE not growing for 120 s (times RNM_TIMEOUT_SCALE) is a hang (each
# write takes well under a second, even under emulation on a loaded
# machine).
progressing() {
	local what=$1 pid=$2 file=$3 size=-1 now last
	last=$(date +%s)
	while kill -0 "$pid" 2>/dev/null; do
		now=$(stat -c %s "$file" 2>/dev/null || echo 0)
		if [ "$now" != "$size" ]; then
			size=$now
			last=$(date +%s)
		elif [ $(($(date +%s) - last)) -gt $((120 * RNM_TIMEOUT_SCALE)) ]; then
			HUNG=1
			die "$what: no progress for $((120 * RNM_TIMEOUT_SCALE)) s after $size writes (deadlock)"
		fi
		sleep 1
	done
	wait "$pid"
}

vnapi_load
vnapi_new 3
ip link set vnapi3 name vnapi7 || die "cannot rename vnapi3"
T=$(mktemp -d)
for i in 1 2; do
	reader "$T/reader$i" &
	READERS+=($!)
done
creator "$ATTEMPTS" "$T/creator" "$T/progress" &
progressing "new_device 7 with the name taken" $! "$T/progress"
log "new_device 7 x $ATTEMPTS: $(tr '\n' ' ' <"$T/creator")"
check_eq "outcomes of new_device 7" "$(cat "$T/creator")" "EEXIST $ATTEMPTS"
kill "${READERS[@]}"
wait "${READERS[@]}"
READERS=()
log "vnapi7's files opened by the readers: $(cat "$T"/reader* | tr '\n' ' ')"
[ -e $VB/devices/vnapi7 ] && fail "bus device vnapi7 left behind"
check_eq "bus devices" "$(ls $VB/devices | tr '\n' ' ')" "vnapi3 "
check_eq "live devices" "$(cat $VB/live_devices)" 1

# The bus still works: the name is free again after a rename.
ip link set vnapi7 name vnapi3 || fail "cannot rename back"
bounded "new_device 7" sh -c "echo 7 >$VB/new_device" || fail "new_device 7 failed"
bounded "link_device" sh -c "echo '3 7' >$VB/link_device" || fail "link_device 3 7 failed"
check_eq "peer of 7" "$(cat $VB/devices/vnapi7/peer)" 3
bounded "del_device 3" sh -c "echo 3 >$VB/del_device" || fail "del_device 3 failed"
bounded "rmmod" rmmod vnapi || fail "rmmod failed"
[ -e $VB ] && fail "$VB still there after unload"
rm -rf "$T"
[ $RET = 0 ] && log "PASS: vnapi new_device failing under readers"
exit $RET
