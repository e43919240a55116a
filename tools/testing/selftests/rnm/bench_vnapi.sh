#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark (not part of the test suite): TCP stream throughput and 64-byte
# UDP packet rate between two network namespaces over a vnapi pair and over
# a veth pair (GRO on), side by side in one boot, with the ratio
# vnapi / veth.
#
# Runs as root where the module is built; in the project's VM:
#   scripts/in-root.sh scripts/vm.sh tools/testing/selftests/rnm/bench_vnapi.sh [ARGS]
# ARGS, if any, are ethtool -C settings for vnapi (for example
# "rx-usecs 0"); without them vnapi runs with its defaults.
#
# Under emulation the figures of single runs vary by tens of percent, so
# the script first runs each link briefly to warm up (discarded), then
# BENCH_ROUNDS rounds (default 3) of BENCH_SECONDS each (default 10),
# alternating which link goes first, and compares medians.  The iperf3
# client is pinned to CPU 0 and the server to CPU 1 when there are two.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip iperf3 python3 ethtool taskset
trap vnapi_cleanup EXIT
T=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
COALESCE="$*"
PIN_C= PIN_S=
if [ "$(nproc)" -ge 2 ]; then
	PIN_C="taskset -c 0"
	PIN_S="taskset -c 1"
fi

# setup_link KIND: namespaces $C (client, 10.0.K.1) and $S (server,
# 10.0.K.2) joined by a vnapi or a veth pair.
setup_link() {
	local net=$2
	setup_ns C S
	case $1 in
	vnapi)
		vnapi_new 1
		vnapi_new 2
		echo "1 2" >$VB/link_device
		ip link set vnapi1 netns "$C" name eth0
		ip link set vnapi2 netns "$S" name eth0
		if [ -n "$COALESCE" ]; then
			ip netns exec "$C" ethtool -C eth0 $COALESCE || die "ethtool -C $COALESCE"
			ip netns exec "$S" ethtool -C eth0 $COALESCE || die "ethtool -C $COALESCE"
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
	busywait 10000 ip netns exec "$S" ss -ltn 'sport = :5201' | grep -q LISTEN
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
	if [ "$1" = vnapi ]; then
		for d in 1 2; do echo $d >$VB/del_device || die "del_device $d"; done
	fi
	echo "$tcp $udp"
}

median() { python3 -c 'import statistics, sys; print(statistics.median(map(float, sys.argv[1:])))' "$@"; }

vnapi_load
net=0
for kind in vnapi veth; do
	net=$((net + 1))
	run $kind $net 3 >/dev/null
done
declare -A TCP UDP
for r in $(seq "$ROUNDS"); do
	order="vnapi veth"
	[ $((r % 2)) = 0 ] && order="veth vnapi"
	for kind in $order; do
		net=$((net + 1))
		read -r t u < <(run $kind $net "$T")
		[ -n "$u" ] || die "round $r: $kind run failed"
		TCP[$kind]+=" $t"
		UDP[$kind]+=" $u"
		printf '# round %d %-5s TCP %s Gbit/s, UDP %s packets/s\n' "$r" $kind "$t" "$u"
	done
done
rmmod vnapi

vn_tcp=$(median ${TCP[vnapi]}) ve_tcp=$(median ${TCP[veth]})
vn_udp=$(median ${UDP[vnapi]}) ve_udp=$(median ${UDP[veth]})
echo "vnapi settings: ${COALESCE:-defaults}; medians of $ROUNDS rounds of ${T} s"
printf '%-28s %12s %12s %8s\n' link vnapi veth ratio
printf '%-28s %12.2f %12.2f %8s\n' "TCP stream (Gbit/s)" "$vn_tcp" "$ve_tcp" \
	"$(python3 -c "print('%.2f' % ($vn_tcp / $ve_tcp))")"
printf '%-28s %12.0f %12.0f %8s\n' "UDP 64-byte (packets/s)" "$vn_udp" "$ve_udp" \
	"$(python3 -c "print('%.2f' % ($vn_udp / $ve_udp))")"
