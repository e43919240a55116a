#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark (not part of the test suite): TCP stream throughput and 64-byte
# UDP packet rate between two network namespaces over a vnapi pair and over
# a veth pair (GRO on), side by side in one boot, with the ratios
# vnapi / veth.  vnapi runs twice: with its NAPI polled in softirq context
# on both devices (its default), and with threaded NAPI on the server's
# device (/sys/class/net/DEV/threaded: a kernel thread per NAPI context),
# the side that receives the bulk of the traffic, in batches; the
# client's device, which receives a trickle of TCP acknowledgements, one
# per poll, keeps softirq polling, as a thread wake-up per acknowledgement
# costs more than it brings.  veth with GRO on
# hands a TSO device's frames to the transmitting CPU's backlog, which
# cannot be threaded at run time.
#
# The NAPI thread is pinned to the server's CPU (taskset, as one places a
# NIC's NAPI threads or steers its interrupts), so that the client's CPU
# only sends.  Threaded vnapi then receives on the server's CPU, while
# veth and softirq vnapi receive on the client's CPU, which also sends:
# the threaded ratio compares that placement with veth's default.  (veth
# can move its receive to the server's CPU too, with RPS: rps_cpus, which
# the script leaves off.)  Left to the scheduler, the thread stays where
# the wake-ups of the TCP run put it, often the client's CPU, where it
# competes with the sender: the UDP rate then varied from 88 000 to
# 136 000 packets/s from run to run on one machine.  BENCH_NAPI_PIN=0
# leaves it to the scheduler.
#
# The UDP sockets get 4 MiB receive buffers (net.core.rmem_default, which
# TCP does not use, raised for the script's run and restored on exit; send
# buffers keep their defaults): the rate is that of the link, not of a
# socket buffer that the application cannot empty while it waits for the
# CPU.  With the default 208 KiB the server's socket overflowed behind
# threaded NAPI, which shares the server's CPU with it (RcvbufErrors: 9%
# of a run's datagrams); veth and softirq vnapi, whose receive runs on the
# client's CPU, lost 0.1% and 0.3%.
#
# BENCH_PROFILE=1 adds where the time goes, per frame, for the same TCP
# and UDP loads (one run of each link, after the rounds): perf samples
# every CPU's clock (cpu-clock, 1 kHz, with call chains) during the run,
# and the samples are split by call chain into the driver's transmit
# (ndo_start_xmit: vnapi's, or veth_xmit with the backlog it feeds), the
# receive path outside the stack (the poll: vnapi's NAPI poll, with GRO,
# or the backlog's process_backlog, minus what __netif_receive_skb_one_core
# and __netif_receive_skb_list_core below it take), the stack's receive
# (those two) and everything else but the idle loop, in microseconds of
# CPU per frame that the two devices received.  Emulated time: compare
# the links with each other, not with hardware.  BENCH_PROFILE_TOP=1
# also lists on stderr, for each run, the twenty functions the samples
# were taken in most (self time), in microseconds per frame.  Needs perf
# (linux-perf).
#
# Runs as root where the module is built; in the project's VM:
#   scripts/in-root.sh scripts/vm.sh tools/testing/selftests/rnm/bench_vnapi.sh [ARGS]
# ARGS, if any, are ethtool -C settings for vnapi (for example
# "rx-usecs 20 rx-frames 32"); without them vnapi runs with its defaults.
# BENCH_IRQ_CPU=1 also steers each vnapi device's interrupt (irq_cpu) to
# the CPU of the application behind it.
#
# Under emulation the figures of single runs vary by tens of percent, so
# the script first runs each link briefly to warm up (discarded), then
# BENCH_ROUNDS rounds (default 3) of BENCH_SECONDS each (default 10),
# rotating which link goes first, and compares medians.  The iperf3 client
# is pinned to CPU 0 and the server (and threaded vnapi's NAPI thread) to
# CPU 1 when there are two.
#
# BENCH_XDP=1 adds native XDP on the server's device, vnapi against veth
# (BENCH_XDP=only runs that part alone): the packet rates of XDP_DROP and
# XDP_TX for the same 64-byte iperf3 UDP stream, with the programs of
# vnapi_xdp.bpf.c (compiled here with clang-19) acting on the iperf3 data
# datagrams only, so that its TCP control connection and 4-byte UDP
# connect messages pass.  XDP_DROP: xdp_drop_udp on the server's device;
# the rate is what it counted as dropped (vnapi: ethtool -S
# rx{i}_xdp_drop, veth: rx_queue_{i}_xdp_drops).  XDP_TX: xdp_tx_reflect
# on the server's device sends the datagrams back, and xdp_drop_udp on the
# client's device drops them; the rate is what the client's device
# dropped, the frames reflected and received, so that a frame lost on the
# way back counts for neither link (veth counts a frame its peer's ring
# refused as rx_queue_{i}_xdp_tx_errors, vnapi as a receive drop of the
# peer).  That program on the client's side is also what veth needs to
# accept frames from its peer's XDP_TX (a program, or GRO, on the
# receiving side); vnapi gets the same.  It is a part of this script, not
# one of its own, because it compares the same two links in the same
# boot with the same sender, set-up, rounds and medians; it is off by
# default, so that the figures above are taken as before.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip iperf3 python3 ethtool taskset pgrep
T=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
XDP=${BENCH_XDP:-0}
case $XDP in
0 | 1 | only) ;;
*) die "BENCH_XDP is 0, 1 or only, not '$XDP'" ;;
esac
PROFILE=${BENCH_PROFILE:-0}
case $PROFILE in
0 | 1) ;;
*) die "BENCH_PROFILE is 0 or 1, not '$PROFILE'" ;;
esac
[ "$PROFILE" = 0 ] || require_cmd perf
NAPI_PIN=${BENCH_NAPI_PIN:-1}
case $NAPI_PIN in
0 | 1) ;;
*) die "BENCH_NAPI_PIN is 0 or 1, not '$NAPI_PIN'" ;;
esac
PROFILE_TOP=${BENCH_PROFILE_TOP:-0}
case $PROFILE_TOP in
0 | 1) ;;
*) die "BENCH_PROFILE_TOP is 0 or 1, not '$PROFILE_TOP'" ;;
esac
XDP_TMP=
if [ "$XDP" != 0 ]; then
	require_cmd clang-19
	[ -e /proc/sys/kernel/unprivileged_bpf_disabled ] ||
		skip "kernel without the bpf() system call (CONFIG_BPF_SYSCALL)"
	XDP_TMP=$(mktemp -d)
fi
PROF_TMP=
[ "$PROFILE" = 0 ] || PROF_TMP=$(mktemp -d)
UDP_ARGS="-u -l 64 -b 0"
# The UDP sockets' receive buffer (bytes), and the default as it was.
UDP_RCVBUF=4194304
RMEM_DEFAULT=
cleanup() {
	[ -z "$RMEM_DEFAULT" ] || sysctl -qw net.core.rmem_default="$RMEM_DEFAULT"
	[ -z "$PROF_TMP" ] || rm -rf "$PROF_TMP"
	[ -z "$XDP_TMP" ] || rm -rf "$XDP_TMP"
	vnapi_cleanup
}
trap cleanup EXIT
rmem=$(sysctl -n net.core.rmem_default) ||
	die "cannot read net.core.rmem_default"
sysctl -qw net.core.rmem_default=$UDP_RCVBUF ||
	die "cannot set net.core.rmem_default to $UDP_RCVBUF"
RMEM_DEFAULT=$rmem
COALESCE="$*"
PIN_C= PIN_S= PIN_NAPI= STEER=
if [ "$(nproc)" -ge 2 ]; then
	SRV_CPU=1
	PIN_C="taskset -c 0"
	PIN_S="taskset -c $SRV_CPU"
	[ "$NAPI_PIN" = 1 ] && PIN_NAPI=$SRV_CPU
	[ "${BENCH_IRQ_CPU:-0}" = 1 ] && STEER=1
fi
KINDS="vnapi vnapi-thr veth"
[ "$XDP" = only ] && KINDS=
XDP_KINDS="vnapi veth"

# setup_link KIND NET: namespaces $C (client, 10.0.NET.1) and $S (server,
# 10.0.NET.2) joined by a vnapi or a veth pair.
setup_link() {
	local net=$2 ns
	setup_ns C S
	case $1 in
	vnapi*)
		vnapi_new 1
		vnapi_new 2
		echo "1 2" >$VB/link_device || die "link_device"
		if [ -n "$STEER" ]; then
			echo "0 0" >$VB/devices/vnapi1/irq_cpu || die "irq_cpu of vnapi1"
			echo "0 1" >$VB/devices/vnapi2/irq_cpu || die "irq_cpu of vnapi2"
		fi
		ip link set vnapi1 netns "$C" name eth0
		ip link set vnapi2 netns "$S" name eth0
		if [ -n "$COALESCE" ]; then
			for ns in "$C" "$S"; do
				ip netns exec "$ns" ethtool -C eth0 $COALESCE || die "ethtool -C $COALESCE"
			done
		fi
		;;
	veth)
		ip link add eth0 netns "$C" type veth peer name eth0 netns "$S"
		ip netns exec "$C" ethtool -K eth0 gro on >/dev/null
		ip netns exec "$S" ethtool -K eth0 gro on >/dev/null
		;;
	esac
	ip -n "$C" addr add 10.0.$net.1/24 dev eth0
	ip -n "$S" addr add 10.0.$net.2/24 dev eth0
	ip -n "$C" link set eth0 up
	ip -n "$S" link set eth0 up
	# Up: the NAPI contexts exist (vnapi adds them when it opens).
	if [ "$1" = vnapi-thr ]; then
		ip netns exec "$S" sh -c 'echo 1 >/sys/class/net/eth0/threaded' || die "threaded NAPI"
	fi
	busywait 10000 ip netns exec "$C" ping -c 1 -W 1 10.0.$net.2 >/dev/null || die "$1: no ping"
	if [ "$1" = vnapi-thr ] && [ -n "$PIN_NAPI" ]; then
		pin_napi_thread
	fi
}

# pin_napi_thread: the NAPI thread of the server's device (one queue; the
# only device with threaded NAPI here, the links of earlier rounds are
# deleted with their threads) to the server's CPU.  Its thread is
# napi/eth0-<NAPI id>.  (Failures go to stderr: the warm-up's output is
# discarded.)
pin_napi_thread() {
	local pids
	pids=$(pgrep -x 'napi/eth0-[0-9]+' 2>/dev/null)
	[ "$(echo "$pids" | wc -w)" = 1 ] ||
		die "vnapi-thr: want one NAPI thread of the server's eth0, found '${pids//$'\n'/ }'" >&2
	taskset -pc "$PIN_NAPI" "$pids" >/dev/null ||
		die "vnapi-thr: cannot pin NAPI thread $pids to CPU $PIN_NAPI" >&2
}

# run KIND NET SECONDS: prints "TCP_GBITS UDP_PPS"
run() {
	local t=$3 tcp udp d
	setup_link "$1" "$2"
	ip netns exec "$S" $PIN_S iperf3 -s -D -p 5201
	busywait 10000 tcp_listening "$S" 5201 || die "iperf3 not listening"
	tcp=$(ip netns exec "$C" $PIN_C iperf3 -c 10.0.$2.2 -p 5201 -t "$t" -J |
		python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))') ||
		die "$1: TCP run failed"
	udp=$(ip netns exec "$C" $PIN_C iperf3 -c 10.0.$2.2 -p 5201 -t "$t" $UDP_ARGS -J |
		python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]["sum"]
print("%.0f" % ((e["packets"] - e["lost_packets"]) / e["seconds"]))') ||
		die "$1: UDP run failed"
	cleanup_ns
	case $1 in
	vnapi*) for d in 1 2; do echo $d >$VB/del_device || die "del_device $d"; done ;;
	esac
	echo "$tcp $udp"
}

# XDP: the programs act on the iperf3 data datagrams only: UDP from or to
# port 5201 with 64 bytes of payload.
xdp_obj() {
	clang-19 -O2 -g -target bpf -I"/usr/include/$(uname -m)-linux-gnu" \
		-DUDP_PORT=5201 -DUDP_MIN_PAYLOAD=64 -c "$(dirname "$0")/vnapi_xdp.bpf.c" \
		-o "$XDP_TMP/bench.o" || die "compiling vnapi_xdp.bpf.c failed"
}

# xdp_on NS PROG: program xdp_PROG on eth0 of NS, in native mode.  (The
# XDP part's functions run in command substitutions: their causes of
# failure go to stderr.)
xdp_on() {
	ip -n "$1" link set dev eth0 xdpdrv obj "$XDP_TMP/bench.o" sec "xdp/$2" ||
		die "attaching xdp_$2 to eth0 in $1 failed" >&2
}

# xstat NS ERE: the sum of eth0's ethtool -S counters whose names match ERE.
xstat() {
	ip netns exec "$1" ethtool -S eth0 |
		awk -v re="$2" '{ n = $1; sub(/:$/, "", n) } n ~ re { s += $2 } END { print s + 0 }'
}

# xdp_rate KIND NET SECONDS PROG NS: xdp_PROG on the server's device, the
# 64-byte UDP stream for SECONDS; prints the packets per second that
# xdp_drop_udp dropped on eth0 of NS.
xdp_rate() {
	local re n0 n1
	case $1 in
	vnapi*) re='^rx[0-9]+_xdp_drop$' ;;
	veth) re='^rx_queue_[0-9]+_xdp_drops$' ;;
	esac
	xdp_on "$S" "$4"
	n0=$(xstat "$5" "$re")
	ip netns exec "$C" $PIN_C iperf3 -c 10.0.$2.2 -p 5201 -t "$3" $UDP_ARGS >/dev/null ||
		die "$1: UDP run with xdp_$4 failed" >&2
	n1=$(xstat "$5" "$re")
	ip -n "$S" link set dev eth0 xdpdrv off || die "$1: detaching xdp_$4 failed" >&2
	[ "$n1" -gt "$n0" ] ||
		die "$1: with xdp_$4, no packet counted by ${re//[\^$]/} in $5" >&2
	python3 -c "print('%.0f' % (($n1 - $n0) / $3))"
}

# run_xdp KIND NET SECONDS: prints "XDP_DROP_PPS XDP_TX_PPS"
run_xdp() {
	local drop tx
	setup_link "$1" "$2"
	ip netns exec "$S" $PIN_S iperf3 -s -D -p 5201
	busywait 10000 tcp_listening "$S" 5201 || die "iperf3 not listening" >&2
	drop=$(xdp_rate "$1" "$2" "$3" drop_udp "$S") || exit $ksft_fail
	# The reflected datagrams (source port 5201) are dropped, and
	# counted, on the client's device.
	xdp_on "$C" drop_udp
	tx=$(xdp_rate "$1" "$2" "$3" tx_reflect "$C") || exit $ksft_fail
	cleanup_ns
	case $1 in
	vnapi*) for d in 1 2; do echo $d >$VB/del_device || die "del_device $d" >&2; done ;;
	esac
	echo "$drop $tx"
}

median() { python3 -c 'import statistics, sys; print(statistics.median(map(float, sys.argv[1:])))' "$@"; }
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

# rounds RUN KINDS A LABEL_A UNIT_A B LABEL_B UNIT_B: a warm-up run of
# each of KINDS (discarded), then ROUNDS rounds of RUN KIND NET SECONDS,
# which prints two figures, in rotating order (each kind goes first once
# every so many rounds); the figures are appended, by kind, to the
# associative arrays named A and B.
rounds() {
	local run=$1 kinds=$2 order kind r out x y
	local -n fa=$3 fb=$6
	for kind in $kinds; do
		net=$((net + 1))
		$run "$kind" $net 3 >/dev/null
	done
	order=$kinds
	for r in $(seq "$ROUNDS"); do
		for kind in $order; do
			net=$((net + 1))
			out=$($run "$kind" $net "$T") || die "round $r: $kind run failed${out:+: $out}"
			read -r x y <<<"$out"
			[ -n "$y" ] || die "round $r: $kind run gave no figures"
			fa[$kind]+=" $x"
			fb[$kind]+=" $y"
			printf '# round %d %-9s %s %s %s, %s %s %s\n' "$r" "$kind" "$4" "$x" "$5" "$7" "$y" "$8"
		done
		order="${order#* } ${order%% *}"
	done
}

# profile KIND NET LOAD: one run of LOAD (tcp or udp) over KIND under
# perf; prints the CPU microseconds per received frame of: the driver's
# transmit, its receive outside the stack, the stack's receive, the rest.
profile() {
	local kind=$1 net=$2 args= f0 f1 data=$PROF_TMP/perf.data
	[ "$3" = udp ] && args=$UDP_ARGS
	setup_link "$kind" "$net"
	ip netns exec "$S" $PIN_S iperf3 -s -D -p 5201
	busywait 10000 tcp_listening "$S" 5201 || die "iperf3 not listening"
	f0=$(rx_frames)
	perf record -q -o "$data" -a -e cpu-clock -F 1000 -g -- \
		ip netns exec "$C" $PIN_C iperf3 -c 10.0.$net.2 -p 5201 -t "$T" $args >/dev/null ||
		die "$kind: $3 run under perf failed"
	f1=$(rx_frames)
	perf script -i "$data" -F period,ip,sym 2>/dev/null |
		python3 "$(dirname "$0")/perf_chains.py" vnapi "$kind" $((f1 - f0)) "$PROFILE_TOP" ||
		die "$kind: no profile of the $3 run"
	cleanup_ns
	case $kind in
	vnapi*) for d in 1 2; do echo $d >$VB/del_device || die "del_device $d"; done ;;
	esac
}

# rx_frames: frames received by eth0 in both namespaces.
rx_frames() {
	local ns n=0
	for ns in "$C" "$S"; do
		n=$((n + $(ip netns exec "$ns" cat /sys/class/net/eth0/statistics/rx_packets)))
	done
	echo $n
}

vnapi_load
net=0
declare -A TCP UDP XDROP XTX
rounds run "$KINDS" TCP TCP Gbit/s UDP UDP packets/s
if [ "$XDP" != 0 ]; then
	xdp_obj
	rounds run_xdp "$XDP_KINDS" XDROP XDP_DROP packets/s XTX XDP_TX packets/s
fi
declare -A PROF
if [ "$PROFILE" = 1 ]; then
	for load in tcp udp; do
		for kind in $KINDS; do
			net=$((net + 1))
			PROF[$kind-$load]=$(profile "$kind" $net $load) || {
				echo "${PROF[$kind-$load]}"
				exit $ksft_fail
			}
		done
	done
fi
rmmod vnapi

irqs="unsteered"
[ -n "$STEER" ] && irqs="steered to the application's CPU"
thread=
if [ -n "$KINDS" ]; then
	thread=", NAPI thread scheduler-placed"
	[ -n "$PIN_NAPI" ] && thread=", NAPI thread on the server's CPU"
fi
echo "vnapi settings: ${COALESCE:-defaults}, interrupts $irqs$thread; UDP receive buffers $UDP_RCVBUF bytes; medians of $ROUNDS rounds of ${T} s"
if [ -n "$KINDS" ]; then
	declare -A MT MU
	for kind in $KINDS; do
		MT[$kind]=$(median ${TCP[$kind]})
		MU[$kind]=$(median ${UDP[$kind]})
	done
	printf '%-24s %12s %12s %12s %8s %8s\n' link vnapi vnapi-thr veth ratio ratio-thr
	printf '%-24s %12.2f %12.2f %12.2f %8s %8s\n' "TCP stream (Gbit/s)" \
		"${MT[vnapi]}" "${MT[vnapi-thr]}" "${MT[veth]}" \
		"$(ratio "${MT[vnapi]}" "${MT[veth]}")" "$(ratio "${MT[vnapi-thr]}" "${MT[veth]}")"
	printf '%-24s %12.0f %12.0f %12.0f %8s %8s\n' "UDP 64-byte (packets/s)" \
		"${MU[vnapi]}" "${MU[vnapi-thr]}" "${MU[veth]}" \
		"$(ratio "${MU[vnapi]}" "${MU[veth]}")" "$(ratio "${MU[vnapi-thr]}" "${MU[veth]}")"
fi
if [ "$XDP" != 0 ]; then
	declare -A MD MX
	for kind in $XDP_KINDS; do
		MD[$kind]=$(median ${XDROP[$kind]})
		MX[$kind]=$(median ${XTX[$kind]})
	done
	echo "native XDP on the server's device, 64-byte UDP: packets/s dropped; reflected and received"
	printf '%-24s %12s %12s %8s\n' action vnapi veth ratio
	printf '%-24s %12.0f %12.0f %8s\n' XDP_DROP "${MD[vnapi]}" "${MD[veth]}" "$(ratio "${MD[vnapi]}" "${MD[veth]}")"
	printf '%-24s %12.0f %12.0f %8s\n' XDP_TX "${MX[vnapi]}" "${MX[veth]}" "$(ratio "${MX[vnapi]}" "${MX[veth]}")"
fi
if [ "$PROFILE" = 1 ] && [ -n "$KINDS" ]; then
	echo "CPU time per received frame (us; perf cpu-clock, one run of ${T} s each):"
	printf '%-10s %-9s %8s %8s %8s %8s %8s %10s\n' load link xmit rx-drv rx-stack rest total frames
	for load in tcp udp; do
		for kind in $KINDS; do
			read -r x p st r f <<<"${PROF[$kind-$load]}"
			printf '%-10s %-9s %8s %8s %8s %8s %8s %10s\n' "$load" "$kind" "$x" "$p" "$st" "$r" \
				"$(python3 -c "print('%.1f' % ($x + $p + $st + $r))")" "$f"
		done
	done
fi
