#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi and the netdev netlink family, through the kernel's own ynl: each
# queue pair's queues name its NAPI context (queue-get); the contexts
# (napi-get) keep their NAPI ids, and the queues their contexts, across
# down and up, a ring resize and a change of channels; napi-set's defer-hard-irqs and
# gro-flush-timeout take effect on the simulated interrupt (the same paced
# traffic interrupts less than half as often) and survive down and up; a
# socket with SO_BUSY_POLL and SO_PREFER_BUSY_POLL receives through its
# own polls of the device's NAPI context (TcpExt BusyPollRxPackets), with
# interrupts suspended; so does an epoll instance busy polling by NAPI id
# (EPIOCSPARAMS), and napi-set's irq-suspend-timeout keeps the interrupt
# suspended while it finds events; napi-set's threaded starts and stops
# one context's kernel thread; qstats-get gives ethtool -S's counters per
# queue and ip -s link's per device.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip python3 ping ethtool
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; vnapi_cleanup' EXIT

# ynl: the kernel tree's own (tools/net/ynl), in-tree or in the
# linux-source tree of the build root, with the netdev family's spec.
YNL_TREE=
for t in "$RNM_TOP" /opt/rnm/src/linux-source-*; do
	[ -f "$t/tools/net/ynl/pyynl/cli.py" ] &&
		[ -f "$t/Documentation/netlink/specs/netdev.yaml" ] && { YNL_TREE=$t; break; }
done
if [ -z "$YNL_TREE" ]; then
	[ "${RNM_STRICT:-0}" = 1 ] && die "no kernel tree with tools/net/ynl"
	skip "no kernel tree with tools/net/ynl"
fi
python3 -c 'import yaml' 2>/dev/null || {
	[ "${RNM_STRICT:-0}" = 1 ] && die "python3-yaml (for ynl) is missing"
	skip "python3-yaml (for ynl) is missing"
}

# ynl NS ARGS...: the netdev family in namespace NS, JSON out.
ynl() {
	local ns=$1
	shift
	ip netns exec "$ns" python3 "$YNL_TREE/tools/net/ynl/pyynl/cli.py" --no-schema \
		--spec "$YNL_TREE/Documentation/netlink/specs/netdev.yaml" --output-json "$@"
}

# jq-like field extraction with python: json_get EXPR reads JSON on stdin
# and prints eval(EXPR) with the JSON as `j`.
json_get() {
	python3 -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

vnapi_load
vnapi_pair 2
IFA=$(ip netns exec "$NSA" cat /sys/class/net/vnapi1/ifindex)
IFB=$(ip netns exec "$NSB" cat /sys/class/net/vnapi2/ifindex)
busywait 10000 ip netns exec "$NSA" ping -c 1 -W 1 10.0.0.2 >/dev/null ||
	die "no ping from $NSA to $NSB"

# NAPI ids of DEV's contexts (namespace NS, ifindex IF), sorted.
# ("ERR" if ynl fails.)
napi_ids() { # NS IF
	local out
	out=$(ynl "$1" --dump napi-get --json "{\"ifindex\": $2}") || { echo ERR; return; }
	echo "$out" | json_get '" ".join(str(n["id"]) for n in sorted(j, key=lambda n: n["id"]))' ||
		echo ERR
}
# "TYPEqueue:napi-id" of every queue of IF ("-" for none), rx then tx.
queues() { # NS IF
	ynl "$1" --dump queue-get --json "{\"ifindex\": $2}" |
		json_get '" ".join("%s%d:%s" % (q["type"], q["id"], q.get("napi-id", "-")) for q in sorted(j, key=lambda q: (q["type"] != "rx", q["id"])))'
}

ids=$(napi_ids "$NSA" "$IFA")
set -- $ids
[ $# = 2 ] || die "napi-get for vnapi1: ids '$ids', want 2"
N0=$1 N1=$2
[ "$N0" != "$N1" ] || fail "two NAPI contexts with the same id $N0"
q=$(queues "$NSA" "$IFA")
case "$q" in
"rx0:$N0 rx1:$N1 tx0:$N0 tx1:$N1" | "rx0:$N1 rx1:$N0 tx0:$N1 tx1:$N0") ;;
*) fail "queue-get for vnapi1 up: '$q', want queue pair N (rx N, tx N) with one NAPI context each ($N0 $N1)" ;;
esac
log "ok: vnapi1 up: NAPI contexts $N0 $N1, queues $q"

# Down, the queues are unlinked (the core lists no queue of a device that
# is down) and the contexts deleted (see the threaded switch below); up,
# they are added and linked again, with the same ids.
ip -n "$NSA" link set vnapi1 down
check_eq "queue-get for vnapi1 down" "$(queues "$NSA" "$IFA")" ""
ip -n "$NSA" link set vnapi1 up
check_eq "NAPI ids after down and up" "$(napi_ids "$NSA" "$IFA")" "$N0 $N1"
check_eq "queue-get for vnapi1 up again" "$(queues "$NSA" "$IFA")" "$q"
ip netns exec "$NSA" ethtool -G vnapi1 rx 512 || fail "ethtool -G vnapi1 rx 512"
check_eq "queue-get for vnapi1 after a ring resize" "$(queues "$NSA" "$IFA")" "$q"
# One channel: the second queue pair is gone and its context deleted;
# two again: both as before, with the same ids.
r0=${q%% *} r0=${r0#rx0:}
ip netns exec "$NSA" ethtool -L vnapi1 combined 1 || fail "ethtool -L vnapi1 combined 1"
check_eq "queue-get for vnapi1 with one channel" "$(queues "$NSA" "$IFA")" "rx0:$r0 tx0:$r0"
check_eq "napi-get for vnapi1 with one channel" "$(napi_ids "$NSA" "$IFA")" "$r0"
ip netns exec "$NSA" ethtool -L vnapi1 combined 2 || fail "ethtool -L vnapi1 combined 2"
check_eq "NAPI ids after 2 -> 1 -> 2 channels" "$(napi_ids "$NSA" "$IFA")" "$N0 $N1"
check_eq "queue-get for vnapi1 after 2 -> 1 -> 2 channels" "$(queues "$NSA" "$IFA")" "$q"
log "ok: down and up, ring resize, 2 -> 1 -> 2 channels: the same NAPI ids, the same queues"

busy_rx() { # NS: TcpExt BusyPollRxPackets
	ip netns exec "$1" awk '$1 == "TcpExt:" { if (!n) { for (i = 2; i <= NF; i++) if ($i == "BusyPollRxPackets") c = i; n = 1 } else print $c + 0 }' /proc/net/netstat
}

# paced WHAT RECEIVER ARG: 200 UDP datagrams from NSA, 2 ms apart, to
# 10.0.0.2:7000, received in NSB by the python program RECEIVER (which
# gets the file to create when it is ready, then ARG).  Sets IRQ and
# POLLED to vnapi2's interrupts and NSB's BusyPollRxPackets during it.
paced() {
	local what=$1 i0 b0 rcv
	rm -f "$TMP/ready"
	i0=$(qstat vnapi2 interrupts) b0=$(busy_rx "$NSB")
	timeout $((120 * RNM_TIMEOUT_SCALE)) ip netns exec "$NSB" python3 -c "$2" "$TMP/ready" "$3" &
	rcv=$!
	busywait 20000 test -e "$TMP/ready" || fail "receiver ($what) not ready"
	ip netns exec "$NSA" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(200):
    s.sendto(b"x" * 100, ("10.0.0.2", 7000))
    time.sleep(0.002)
'
	wait $rcv || fail "the receiver ($what) did not get 200 datagrams"
	IRQ=$(($(qstat vnapi2 interrupts) - i0))
	POLLED=$(($(busy_rx "$NSB") - b0))
}

# paced_rx BUSY: one socket receives; with BUSY=1 it busy-polls
# (SO_BUSY_POLL 50 ms, SO_PREFER_BUSY_POLL, SO_BUSY_POLL_BUDGET 16).
paced_rx() {
	paced "busy poll $1" '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if sys.argv[2] == "1":
    s.setsockopt(socket.SOL_SOCKET, 46, 50000)  # SO_BUSY_POLL, us
    s.setsockopt(socket.SOL_SOCKET, 69, 1)      # SO_PREFER_BUSY_POLL
    s.setsockopt(socket.SOL_SOCKET, 70, 16)     # SO_BUSY_POLL_BUDGET
s.bind(("10.0.0.2", 7000))
open(sys.argv[1], "w").close()
for _ in range(200):
    s.recv(2048)   # blocking: busy-polls first if asked to
' "$1"
}

# paced_epoll: the socket is waited for with epoll, which busy-polls the
# NAPI context its socket last received from (EPIOCSPARAMS: 100 ms, far
# longer than the datagrams' gap, budget 16, prefer busy poll) and, with
# napi-set irq-suspend-timeout, keeps that context's interrupts suspended
# for as long as it finds events.  After each batch of datagrams the
# application works for 10 ms (it sleeps) before it waits again.
paced_epoll() {
	paced "epoll busy poll" '
import fcntl, select, socket, struct, sys, time
EPIOCSPARAMS = 0x40088A01  # _IOW(0x8A, 1, struct epoll_params)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.2", 7000))
s.setblocking(False)
ep = select.epoll()
# struct epoll_params: busy_poll_usecs, busy_poll_budget, prefer_busy_poll
fcntl.ioctl(ep.fileno(), EPIOCSPARAMS, struct.pack("IHBB", 100000, 16, 1, 0))
ep.register(s.fileno(), select.EPOLLIN)
open(sys.argv[1], "w").close()
n = 0
while n < 200:
    for _ in ep.poll():
        while n < 200:
            try:
                s.recv(2048)
            except BlockingIOError:
                break
            n += 1
    time.sleep(0.01)
' -
}

# napi_all NS IF JSON: napi-set JSON (without the id) on every context.
napi_all() {
	local id
	for id in $(napi_ids "$1" "$2"); do
		ynl "$1" --do napi-set --json "{\"id\": $id, $3}" >/dev/null ||
			fail "napi-set $3 on NAPI $id"
	done
}

# Interrupt deferral: after a poll that did work, two more polls by the
# core's NAPI timer (10 ms) before the interrupt is unmasked.  The same
# paced traffic then interrupts far less.
paced_rx 0
irq_base=$IRQ
napi_all "$NSB" "$IFB" '"defer-hard-irqs": 2, "gro-flush-timeout": 10000000'
paced_rx 0
irq_defer=$IRQ
[ $((irq_defer * 2)) -lt "$irq_base" ] ||
	fail "interrupts for 200 datagrams: $irq_defer with defer-hard-irqs 2, $irq_base without; want less than half"
log "ok: napi-set defer-hard-irqs 2, gro-flush-timeout 10 ms: $irq_defer interrupts for 200 datagrams, $irq_base without"

# Kept over down and up.
ip -n "$NSB" link set vnapi2 down
ip -n "$NSB" link set vnapi2 up
ip -n "$NSB" neigh replace 10.0.0.1 dev vnapi2 nud permanent \
	lladdr "$(ip -n "$NSA" -br link show vnapi1 | awk '{print $3}')"
for id in $(napi_ids "$NSB" "$IFB"); do
	got=$(ynl "$NSB" --do napi-get --json "{\"id\": $id}" |
		json_get '"%s %s" % (j.get("defer-hard-irqs"), j.get("gro-flush-timeout"))')
	check_eq "NAPI $id settings after down and up" "$got" "2 10000000"
done
busywait 20000 ip netns exec "$NSA" ping -c 1 -W 1 10.0.0.2 >/dev/null ||
	fail "no ping with deferred interrupts"

# Busy polling, with interrupts suspended while the application polls
# (prefer busy poll, with the deferral above): the datagrams come up
# through the application's polls, not the interrupt.
paced_rx 1
irq_busy=$IRQ polled=$POLLED
[ "$polled" -ge 100 ] || fail "BusyPollRxPackets +$polled for 200 datagrams, want at least 100"
[ $((irq_busy * 2)) -lt "$irq_base" ] ||
	fail "interrupts for 200 datagrams: $irq_busy busy polling, $irq_base without; want less than half"
log "ok: busy polling: BusyPollRxPackets +$polled, $irq_busy interrupts for 200 datagrams"

# epoll busy polling by NAPI id, and IRQ suspension.  Each busy poll
# that finds datagrams leaves the interrupt masked for the deferral (one
# poll after 2 ms), shorter than the application's 10 ms of work: then
# the interrupt is unmasked and fires for the datagrams that arrive while
# the application works.  With irq-suspend-timeout (50 ms times
# RNM_TIMEOUT_SCALE, longer than that work) epoll, each time it finds
# events, keeps the interrupt masked for that long instead: the datagrams
# wait in the ring for the next busy poll, as on a NIC.  (The deferral is
# long enough not to end between the busy poll's end and epoll's
# suspending the interrupt, however slow the kernel.)
napi_all "$NSB" "$IFB" '"defer-hard-irqs": 1, "gro-flush-timeout": 2000000, "irq-suspend-timeout": 0'
paced_epoll
irq_nosus=$IRQ polled_nosus=$POLLED
# (50 ms times the kernel's slowness: the application's work takes longer
# there, its 10 ms sleep does not.)
suspend=$((50000000 * RNM_TIMEOUT_SCALE))
napi_all "$NSB" "$IFB" "\"irq-suspend-timeout\": $suspend"
got=$(ynl "$NSB" --do napi-get --json "{\"id\": $(napi_ids "$NSB" "$IFB" | cut -d' ' -f1)}" |
	json_get 'j.get("irq-suspend-timeout")')
check_eq "napi-get irq-suspend-timeout" "$got" $suspend
paced_epoll
irq_sus=$IRQ polled_sus=$POLLED
[ "$polled_sus" -ge 100 ] ||
	fail "epoll busy poll, IRQs suspended: BusyPollRxPackets +$polled_sus for 200 datagrams, want at least 100"
[ $((irq_sus * 2)) -lt "$irq_nosus" ] ||
	fail "interrupts for 200 datagrams under epoll busy poll: $irq_sus with irq-suspend-timeout $((suspend / 1000000)) ms, $irq_nosus without; want less than half"
log "ok: epoll busy poll by NAPI id: BusyPollRxPackets +$polled_nosus, $irq_nosus interrupts; with irq-suspend-timeout $((suspend / 1000000)) ms +$polled_sus, $irq_sus interrupts"

napi_all "$NSB" "$IFB" '"defer-hard-irqs": 0, "gro-flush-timeout": 0, "irq-suspend-timeout": 0'
frames0=$(qstat vnapi2 frames)
paced_rx 0
irq_after=$IRQ
[ $(($(qstat vnapi2 frames) - frames0)) -ge 200 ] || fail "fewer than 200 frames polled after the settings were undone"
log "ok: settings undone: $irq_after interrupts for 200 datagrams"

# napi-set threaded: one context gets a kernel thread, then loses it.
set -- $(napi_ids "$NSB" "$IFB")
T=$1
ynl "$NSB" --do napi-set --json "{\"id\": $T, \"threaded\": \"enabled\"}" >/dev/null ||
	fail "napi-set threaded enabled on NAPI $T"
pid=$(ynl "$NSB" --do napi-get --json "{\"id\": $T}" | json_get 'j.get("pid", 0)')
[ "$pid" -gt 0 ] 2>/dev/null || fail "NAPI $T threaded: no pid ('$pid')"
[ "$pid" -gt 0 ] 2>/dev/null && case "$(cat /proc/$pid/comm 2>/dev/null)" in
napi/vnapi2-*) ;;
*) fail "NAPI $T threaded: pid $pid is '$(cat /proc/$pid/comm 2>/dev/null)'" ;;
esac
check_eq "NAPI threads of vnapi2" "$(pgrep -c '^napi/vnapi2-')" 1
paced_rx 0
ynl "$NSB" --do napi-set --json "{\"id\": $T, \"threaded\": \"disabled\"}" >/dev/null ||
	fail "napi-set threaded disabled on NAPI $T"
busywait 10000 sh -c "! pgrep '^napi/vnapi2-' >/dev/null" || fail "NAPI thread left after threaded disabled"
log "ok: napi-set threaded on NAPI $T: thread $pid, then none"

# Threaded NAPI on, one channel, threaded off: the context of the channel
# that went is deleted with its thread, so switching off does not wait for
# it (the core waits without end for a disabled context left in the
# device's list, holding the device's lock).  Two channels again: neither
# context is threaded.
threads() { pgrep -c '^napi/vnapi2-'; }
want_threads() { # N WHAT
	busywait 10000 sh -c "[ \"\$(pgrep -c '^napi/vnapi2-')\" = $1 ]" ||
		fail "$2: $(threads) NAPI threads of vnapi2, want $1"
}
threaded_of() { # the threaded state of vnapi2's contexts, sorted
	local out
	out=$(ynl "$NSB" --dump napi-get --json "{\"ifindex\": $IFB}") || { echo ERR; return; }
	echo "$out" | json_get '" ".join(sorted(n["threaded"] for n in j))' || echo ERR
}
set_threaded() { # 0|1
	ip netns exec "$NSB" bash -c "echo $1 >/sys/class/net/vnapi2/threaded"
}
set_threaded 1 || fail "threaded on vnapi2"
want_threads 2 "threaded, two channels"
ip netns exec "$NSB" ethtool -L vnapi2 combined 1 || fail "ethtool -L vnapi2 combined 1"
want_threads 1 "threaded, one channel"
set_threaded 0 &
off=$!
if ! busywait 20000 sh -c "! kill -0 $off 2>/dev/null"; then
	# The writer holds the device's lock: cleaning up would wait for it.
	trap - EXIT
	die "threaded off on vnapi2 with one of its two channels in use: still waiting after 20 s"
fi
wait $off || fail "threaded off on vnapi2 with one channel"
want_threads 0 "threaded off"
ip netns exec "$NSB" ethtool -L vnapi2 combined 2 || fail "ethtool -L vnapi2 combined 2"
check_eq "threaded of vnapi2's contexts after 1 -> 2 channels" "$(threaded_of)" "disabled disabled"
want_threads 0 "threaded off, 1 -> 2 channels"

# Threaded on survives down and up and channel changes: the contexts
# added again are threaded, with threads of their own.
restore_vnapi2() {
	ip -n "$NSB" link set vnapi2 up
	ip -n "$NSB" addr replace fd00::2/64 dev vnapi2 nodad
	vnapi_neighbours
}
set_threaded 1 || fail "threaded on vnapi2"
ip -n "$NSB" link set vnapi2 down
want_threads 0 "threaded, down"
# No context is added: the core refuses the switch.
err=$(set_threaded 0 2>&1) && fail "threaded off on vnapi2 down (no NAPI context) succeeded"
case "$err" in
*"Operation not supported"*) ;;
*) fail "threaded off on vnapi2 down: '$err', want EOPNOTSUPP" ;;
esac
restore_vnapi2
want_threads 2 "threaded, down and up"
check_eq "threaded of vnapi2's contexts after down and up" "$(threaded_of)" "enabled enabled"
ip netns exec "$NSB" ethtool -L vnapi2 combined 1 || fail "ethtool -L vnapi2 combined 1"
ip netns exec "$NSB" ethtool -L vnapi2 combined 2 || fail "ethtool -L vnapi2 combined 2"
want_threads 2 "threaded, 2 -> 1 -> 2 channels"
check_eq "threaded of vnapi2's contexts after 2 -> 1 -> 2 channels" "$(threaded_of)" "enabled enabled"
for id in $(napi_ids "$NSB" "$IFB"); do
	pgrep -x "napi/vnapi2-$id" >/dev/null || fail "no thread napi/vnapi2-$id"
done

# The switch against channel changes and down and up: every write ends.
(
	for i in $(seq 20); do
		set_threaded $((i % 2)) 2>/dev/null
	done
) &
sw=$!
for i in 1 2 3; do
	ip netns exec "$NSB" ethtool -L vnapi2 combined 1 || fail "ethtool -L vnapi2 combined 1 (round $i)"
	ip -n "$NSB" link set vnapi2 down
	restore_vnapi2
	ip netns exec "$NSB" ethtool -L vnapi2 combined 2 || fail "ethtool -L vnapi2 combined 2 (round $i)"
done
if ! busywait 60000 sh -c "! kill -0 $sw 2>/dev/null"; then
	trap - EXIT
	die "threaded switched 20 times against channel changes and down and up: still running after 60 s"
fi
set_threaded 0 || fail "threaded off on vnapi2"
want_threads 0 "threaded off at the end"
check_eq "threaded of vnapi2's contexts at the end" "$(threaded_of)" "disabled disabled"
log "ok: threaded: 2 -> 1 channels then off without waiting; kept across down and up and 2 -> 1 -> 2; 20 switches against channel changes and down and up"

# qstats-get: per-queue counters that are ethtool -S's, and device totals
# (the base and the queues in use) that are the interface's (ip -s link),
# with both channels, with one (the second queue's counts move to the
# base), and with the device down (no queue is listed; the totals stay).
# qstats_check NS DEV IF CHANNELS UP: prints what differs, nothing if all
# agree.
qstats_check() {
	ip netns exec "$1" python3 -c '
import json, subprocess, sys
ns_cmd, dev, ifindex, channels, up = sys.argv[1].split(), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
def ynl(req):
    out = subprocess.run(ns_cmd + ["--dump", "qstats-get", "--json", json.dumps(req)],
                         check=True, capture_output=True, text=True).stdout
    return [q for q in json.loads(out) if q["ifindex"] == ifindex]
eth = {}
for line in subprocess.run(["ethtool", "-S", dev], check=True, capture_output=True, text=True).stdout.splitlines()[1:]:
    k, v = line.split(":")
    eth[k.strip()] = int(v)
link = json.loads(subprocess.run(["ip", "-j", "-s", "link", "show", dev], check=True,
                                 capture_output=True, text=True).stdout)[0]["stats64"]
bad = []
queues = ynl({"ifindex": ifindex, "scope": "queue"})
want = [("rx", i) for i in range(channels)] + [("tx", i) for i in range(channels)] if up else []
got = [(q["queue-type"], q["queue-id"]) for q in queues]
if sorted(got) != sorted(want):
    bad.append("queues %s, want %s" % (got, want))
for q in queues:
    t, i = q["queue-type"], q["queue-id"]
    keys = [("packets", "frames"), ("bytes", "bytes"), ("hw-drops", "drops")]
    if t == "tx":
        keys += [("stop", "stop"), ("wake", "wake")]
    for key, name in keys:
        v, w = q.get(t + "-" + key), eth["%s%d_%s" % (t, i, name)]
        if v != w:
            bad.append("%s%d %s: %s, ethtool -S %s" % (t, i, key, v, w))
dev_q = ynl({"ifindex": ifindex})
if len(dev_q) != 1:
    bad.append("device scope: %d answers" % len(dev_q))
else:
    for t, key in (("rx", "packets"), ("rx", "bytes"), ("tx", "packets"), ("tx", "bytes")):
        v, w = dev_q[0].get(t + "-" + key), link[t][key]
        if v != w:
            bad.append("device %s-%s: %s, ip -s link %s" % (t, key, v, w))
print("; ".join(bad))
' "python3 $YNL_TREE/tools/net/ynl/pyynl/cli.py --no-schema --spec $YNL_TREE/Documentation/netlink/specs/netdev.yaml --output-json" "$2" "$3" "$4" "$5"
}
# qstats_agree WHAT NS DEV IF CHANNELS UP: the check, again (after a
# second) while unrelated traffic (IPv6 neighbour discovery) moves a
# counter between its reads.
qstats_agree() {
	local i diff
	for i in 1 2 3 4 5; do
		diff=$(qstats_check "$2" "$3" "$4" "$5" "$6") || { fail "$1: qstats check failed"; return; }
		[ -z "$diff" ] && return
		sleep 1
	done
	fail "$1: $diff"
}
# Datagrams from eight sockets, spread over both transmit queues.
for port in 1 2 3 4 5 6 7 8; do
	udp_send "$NSA" 10.0.0.2 50 200
	udp_send "$NSB" 10.0.0.1 30 100
done
qstats_agree "qstats of vnapi1, two channels" "$NSA" vnapi1 "$IFA" 2 1
qstats_agree "qstats of vnapi2, two channels" "$NSB" vnapi2 "$IFB" 2 1
for q in 0 1; do
	[ "$(ip netns exec "$NSA" ethtool -S vnapi1 | awk -v k="tx${q}_frames:" '$1 == k { print $2 }')" -gt 0 ] ||
		log "note: vnapi1 sent nothing on queue $q"
done
ip netns exec "$NSA" ethtool -L vnapi1 combined 1 || fail "ethtool -L vnapi1 combined 1"
udp_send "$NSA" 10.0.0.2 20 200
qstats_agree "qstats of vnapi1, one channel" "$NSA" vnapi1 "$IFA" 1 1
ip -n "$NSA" link set vnapi1 down
qstats_agree "qstats of vnapi1, down" "$NSA" vnapi1 "$IFA" 1 0
ip -n "$NSA" link set vnapi1 up
ip netns exec "$NSA" ethtool -L vnapi1 combined 2 || fail "ethtool -L vnapi1 combined 2"
vnapi_neighbours
qstats_agree "qstats of vnapi1, two channels again" "$NSA" vnapi1 "$IFA" 2 1
log "ok: qstats-get: per queue as ethtool -S, per device as ip -s link (2, 1 channels, down)"

ping_ok=0
ip netns exec "$NSA" ping -c 3 -i 0.2 -W 2 10.0.0.2 >/dev/null && ping_ok=1
check_eq "ping after the netlink settings" $ping_ok 1

[ $RET = 0 ] && log "PASS: vnapi netdev netlink: queues, NAPI ids, napi-set, busy poll, epoll busy poll, IRQ suspension, qstats"
exit $RET
