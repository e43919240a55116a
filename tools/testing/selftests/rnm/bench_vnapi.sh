#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark (not part of the test suite): TCP stream throughput and 64-byte
# UDP packet rate between two network namespaces over a vnapi pair and over
# a veth pair (GRO on), side by side, with the ratio vnapi / veth.
#
# Runs as root where the module is built; in the project's VM:
#   scripts/in-root.sh scripts/vm.sh tools/testing/selftests/rnm/bench_vnapi.sh
# BENCH_SECONDS sets the length of each run (default 10); VNAPI_COALESCE
# gives vnapi other ethtool -C settings (for example "rx-usecs 0").

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip iperf3 python3 ethtool
trap vnapi_cleanup EXIT
T=${BENCH_SECONDS:-10}

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
		if [ -n "${VNAPI_COALESCE:-}" ]; then
			ip netns exec "$C" ethtool -C eth0 $VNAPI_COALESCE
			ip netns exec "$S" ethtool -C eth0 $VNAPI_COALESCE
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

# run KIND NET: prints "TCP_GBITS UDP_PPS"
run() {
	setup_link "$1" "$2"
	ip netns exec "$S" iperf3 -s -D -p 5201
	busywait 10000 ip netns exec "$S" ss -ltn 'sport = :5201' | grep -q LISTEN
	local tcp udp
	tcp=$(ip netns exec "$C" iperf3 -c 10.0.$2.2 -p 5201 -t "$T" -J |
		python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))')
	udp=$(ip netns exec "$C" iperf3 -c 10.0.$2.2 -p 5201 -t "$T" -u -l 64 -b 0 -J |
		python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]["sum"]
print("%.0f" % ((e["packets"] - e["lost_packets"]) / e["seconds"]))')
	cleanup_ns
	echo "$tcp $udp"
}

vnapi_load
read -r vn_tcp vn_udp < <(run vnapi 1)
read -r ve_tcp ve_udp < <(run veth 2)
rmmod vnapi

printf '%-28s %12s %12s %8s\n' link vnapi veth ratio
printf '%-28s %12s %12s %8s\n' "TCP stream (Gbit/s)" "$vn_tcp" "$ve_tcp" \
	"$(python3 -c "print('%.2f' % ($vn_tcp / $ve_tcp))")"
printf '%-28s %12s %12s %8s\n' "UDP 64-byte (packets/s)" "$vn_udp" "$ve_udp" \
	"$(python3 -c "print('%.2f' % ($vn_udp / $ve_udp))")"
