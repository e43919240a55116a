#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi and ethtool: the operations vnapi implements work (-i, -S, -g/-G,
# -c/-C, -l, -T; -L in vnapi_channels.sh), with statistics sized by the
# core's count, and software transmit timestamps reach the sockets that ask
# for them; the operations it does not implement are refused by the core
# itself ("Operation not supported"); netpoll (netconsole) refuses the
# device, whose transmit path is not netpoll-safe.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip ethtool modprobe
trap 'rmmod netconsole 2>/dev/null; vnapi_cleanup' EXIT

vnapi_load
vnapi_new 3 2
vnapi_new 4 3
echo "3 4" >$VB/link_device || die "link_device failed"

# -i: the driver's name.
check_eq "driver" "$(ethtool -i vnapi3 | awk '$1 == "driver:" { print $2 }')" vnapi

# -S: 8 counters per receive queue, 3 per transmit queue, names in order;
# values match queue_stats.
names() { # DEV: the statistics' names, one line
	ethtool -S "$1" | awk 'NR > 1 { sub(":", "", $1); printf "%s ", $1 }'
}
want_names() { # QUEUES
	local i n
	for ((i = 0; i < $1; i++)); do
		for n in frames bytes drops interrupts polls budget_exhausted gro_merged \
			remote_interrupts xdp_pass xdp_drop xdp_tx xdp_redirect xdp_aborted \
			xdp_errors; do
			printf 'rx%d_%s ' $i $n
		done
	done
	for ((i = 0; i < $1; i++)); do
		for n in frames bytes drops xdp_xmit xdp_xmit_errors stop wake; do
			printf 'tx%d_%s ' $i $n
		done
	done
}
check_eq "statistics of vnapi3" "$(names vnapi3)" "$(want_names 2)"
check_eq "statistics of vnapi4" "$(names vnapi4)" "$(want_names 3)"
check_eq "supports-statistics" "$(ethtool -i vnapi4 | awk '$1 == "supports-statistics:" { print $2 }')" yes
# Frames from vnapi3 to vnapi4 (vnapi4 up first, so that none is dropped;
# no IPv6, to keep the link quiet): the counts of both sides agree.
sysctl -qw net.ipv6.conf.vnapi3.disable_ipv6=1 net.ipv6.conf.vnapi4.disable_ipv6=1
ip link set vnapi4 up
ip link set vnapi3 up
ip addr add 10.9.0.1/24 dev vnapi3
ip neigh replace 10.9.0.2 dev vnapi3 lladdr 02:00:00:00:00:04 nud permanent
ping -c 3 -i 0.2 -W 1 10.9.0.2 >/dev/null 2>&1
estat() { # DEV NAME
	ethtool -S "$1" | awk -v n="$2:" '$1 == n { print $2 }'
}
tx_sum() {
	echo $(($(estat vnapi3 tx0_frames) + $(estat vnapi3 tx1_frames)))
}
rx_sum() {
	echo $(($(estat vnapi4 rx0_frames) + $(estat vnapi4 rx1_frames) + $(estat vnapi4 rx2_frames)))
}
rx_caught_up() { [ "$(rx_sum)" = "$(tx_sum)" ] && ring_empty vnapi4; }
busywait 20000 rx_caught_up || fail "vnapi4 received $(rx_sum) frames, vnapi3 sent $(tx_sum)"
[ "$(tx_sum)" -ge 3 ] || fail "vnapi3 sent $(tx_sum) frames, want at least 3"
check_eq "rx frames, ethtool -S and queue_stats" "$(rx_sum)" "$(qstat vnapi4 frames)"
log "ok: ethtool -S names and counts"

# -g/-G, -c/-C, -l.
ethtool -G vnapi4 rx 512 || fail "ethtool -G rx 512"
check_eq "ethtool -g" "$(ethtool -g vnapi4 | awk '$1 == "RX:" { print $2 }' | tr '\n' ' ')" "4096 512 "
check_eq "ring_size" "$(cat $VB/devices/vnapi4/ring_size)" 512
ethtool -C vnapi4 rx-usecs 20 rx-frames 16 || fail "ethtool -C"
check_eq "ethtool -c rx-usecs" "$(ethtool -c vnapi4 | awk '$1 == "rx-usecs:" { print $2 }')" 20
check_eq "ethtool -c rx-frames" "$(ethtool -c vnapi4 | awk '$1 == "rx-frames:" { print $2 }')" 16
check_eq "ethtool -l" "$(ethtool -l vnapi4 | awk '$1 == "Combined:" { print $2 }' | tr '\n' ' ')" "3 3 "
log "ok: ethtool -g/-G, -c/-C, -l"

# -T and software transmit timestamps: the device reports them, and a
# socket that asks for them (SO_TIMESTAMPING, SOF_TIMESTAMPING_TX_SOFTWARE)
# gets one, and only one, on its error queue for a datagram sent through
# it, stamped by the driver when it took the frame (SCM_TSTAMP_SND), as
# veth does.  (The core reports software receive timestamps for every
# device.)
ts_caps=$(ethtool -T vnapi3) || fail "ethtool -T vnapi3"
grep -qw -- software-transmit <<<"$ts_caps" ||
	fail "ethtool -T vnapi3: no software-transmit in: $(echo $ts_caps)"
if out=$(python3 - 10.9.0.2 $((20 * RNM_TIMEOUT_SCALE)) <<'PY' 2>&1
import select, socket, struct, sys, time
SO_TIMESTAMPING, IP_RECVERR, SCM_TSTAMP_SND, SO_EE_ORIGIN_TIMESTAMPING = 37, 11, 0, 4
TX_SOFTWARE, SOFTWARE, OPT_ID, OPT_TSONLY = 1 << 1, 1 << 4, 1 << 7, 1 << 11
tmo = float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"vnapi3")
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING, TX_SOFTWARE | SOFTWARE | OPT_ID | OPT_TSONLY)
s.sendto(b"x" * 64, (sys.argv[1], 9))
deadline = time.monotonic() + tmo
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        sys.exit("no transmit timestamp on the error queue within %.0f s" % tmo)
    # A message on the error queue makes the socket readable (POLLERR).
    select.select([s], [], [], left)
    try:
        _, anc, _, _ = s.recvmsg(64, 1024, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    except BlockingIOError:
        continue
    break
ts = err = None
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPING:
        ts = struct.unpack("qq", data[:16])
    elif level == socket.IPPROTO_IP and kind == IP_RECVERR:
        err = struct.unpack("IBBBBII", data[:16])
if ts is None or err is None:
    sys.exit("error queue message without a timestamp or its origin: %r" % (anc,))
if err[1] != SO_EE_ORIGIN_TIMESTAMPING or err[5] != SCM_TSTAMP_SND:
    sys.exit("origin %d, kind %d: want %d, %d (SCM_TSTAMP_SND)"
             % (err[1], err[5], SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND))
if ts == (0, 0):
    sys.exit("software timestamp is zero")
# The frame was stamped once: nothing more on the error queue.
try:
    s.recvmsg(64, 1024, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    sys.exit("a second message on the error queue for one datagram")
except BlockingIOError:
    pass
print("%d.%09d" % ts)
PY
); then
	log "ok: ethtool -T; one software transmit timestamp, $out"
else
	fail "software transmit timestamp: $out"
fi

# Operations vnapi does not implement: the core refuses them.
refused() { # WANT WHAT ARGS...: ethtool ARGS fails with the error WANT
	local want=$1 what=$2 err
	shift 2
	if err=$(ethtool "$@" 2>&1); then
		fail "ethtool $* ($what): succeeded, want '$want'"
		return 1
	elif [[ "$err" != *"$want"* ]]; then
		fail "ethtool $* ($what): got '$err', want '$want'"
		return 1
	fi
}
ok=1
refused "Operation not supported" "get_pauseparam" -a vnapi4 || ok=0
refused "Operation not supported" "set_pauseparam" -A vnapi4 rx on || ok=0
refused "Operation not supported" "self_test" -t vnapi4 || ok=0
[ $ok = 1 ] && log "ok: unimplemented operations: Operation not supported"
# A coalescing parameter vnapi does not take (COALESCE_PARAMS).
refused "unsupported parameter" "tx coalescing" -C vnapi4 tx-usecs 10 &&
	log "ok: unsupported coalescing parameter refused"

# netpoll: netconsole must refuse the device.
if modprobe -n netconsole 2>/dev/null; then
	modprobe netconsole netconsole="6665@10.9.0.1/vnapi3,6666@10.9.0.2/02:00:00:00:00:04" \
		2>/dev/null
	if dmesg | grep -q "vnapi3 doesn't support polling"; then
		log "ok: netconsole refused vnapi3"
	else
		fail "netconsole did not refuse vnapi3 (netpoll not disabled)"
	fi
	rmmod netconsole 2>/dev/null
elif [ "${RNM_STRICT:-0}" = 1 ]; then
	fail "netconsole module missing"
fi

[ $RET = 0 ] && log "PASS: ethtool operations and netpoll"
exit $RET
