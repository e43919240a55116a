#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark (not part of the test suite): TCP stream throughput and 64-byte
# UDP packet rate between two network namespaces over a vnapi pair and over
# a veth pair (GRO on), side by side in one boot, with the ratios
# vnapi / veth.  vnapi runs twice: with its NAPI polled in softirq context
# on both devices (its default), and with threaded NAPI on the server's
# device (/sys/class/net/DEV/threaded: a kernel thread per NAPI context,
# which the scheduler places), the side that receives the bulk of the
# traffic, in batches; the client's device, which receives a trickle of
# TCP acknowledgements, one per poll, keeps softirq polling, as a thread
# wake-up per acknowledgement costs more than it brings.  veth with GRO on
# hands a TSO device's frames to the transmitting CPU's backlog, which
# cannot be threaded at run time.
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
# is pinned to CPU 0 and the server to CPU 1 when there are two.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip iperf3 python3 ethtool taskset
trap vnapi_cleanup EXIT
T=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
COALESCE="$*"
PIN_C= PIN_S= STEER=
if [ "$(nproc)" -ge 2 ]; then
	PIN_C="taskset -c 0"
	PIN_S="taskset -c 1"
	[ "${BENCH_IRQ_CPU:-0}" = 1 ] && STEER=1
fi
KINDS="vnapi vnapi-thr veth"

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
		if [ "$1" = vnapi-thr ]; then
			ip netns exec "$S" sh -c 'echo 1 >/sys/class/net/eth0/threaded' ||
				die "threaded NAPI"
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
	busywait 10000 ip netns exec "$C" ping -c 1 -W 1 10.0.$net.2 >/dev/null || die "$1: no ping"
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
	udp=$(ip netns exec "$C" $PIN_C iperf3 -c 10.0.$2.2 -p 5201 -t "$t" -u -l 64 -b 0 -J |
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

median() { python3 -c 'import statistics, sys; print(statistics.median(map(float, sys.argv[1:])))' "$@"; }
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

vnapi_load
net=0
for kind in $KINDS; do
	net=$((net + 1))
	run $kind $net 3 >/dev/null
done
declare -A TCP UDP
order=$KINDS
for r in $(seq "$ROUNDS"); do
	for kind in $order; do
		net=$((net + 1))
		read -r t u < <(run $kind $net "$T")
		[ -n "$u" ] || die "round $r: $kind run failed"
		TCP[$kind]+=" $t"
		UDP[$kind]+=" $u"
		printf '# round %d %-9s TCP %s Gbit/s, UDP %s packets/s\n' "$r" $kind "$t" "$u"
	done
	# Rotate: each link goes first once every three rounds.
	order="${order#* } ${order%% *}"
done
rmmod vnapi

irqs="unsteered"
[ -n "$STEER" ] && irqs="steered to the application's CPU"
echo "vnapi settings: ${COALESCE:-defaults}, interrupts $irqs; medians of $ROUNDS rounds of ${T} s"
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
