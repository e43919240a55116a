#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the guest (see run.sh): load each module, show what it does,
# unload it, and show the kernel log.

set -e
TOP=$(cd "$(dirname "$0")/.." && pwd)
# The modules of the build tree (kbuild puts them at its top; out/ may hold
# other builds, for the debug kernel).
ko() {
	[ -f "$TOP/$1.ko" ] || { echo "demo: $1.ko is not built in $TOP" >&2; exit 1; }
	echo "$TOP/$1.ko"
}
dmesg -n 1
dmesg -C
echo "== kernel $(uname -r)"

echo "== rust_sysctl_sample"
insmod "$(ko rust_sysctl_sample)"
grep . /proc/sys/dev/rust_sysctl_sample/*
echo "-- write 500 to limit"
echo 500 >/proc/sys/dev/rust_sysctl_sample/limit
echo "-- write 5000 to limit (out of range)"
echo 5000 >/proc/sys/dev/rust_sysctl_sample/limit || true
grep . /proc/sys/dev/rust_sysctl_sample/*
echo "-- taint: $(cat /sys/module/rust_sysctl_sample/taint)"
rmmod rust_sysctl_sample

echo "== vnapi: NAPI virtual NIC"
insmod "$(ko vnapi)"
B=/sys/bus/vnapi
echo "1 2" >$B/new_device
echo "2 2" >$B/new_device
echo "1 2" >$B/link_device
ip netns add vnapi-a
ip netns add vnapi-b
ip link set vnapi1 netns vnapi-a
ip link set vnapi2 netns vnapi-b
ip -n vnapi-a addr add 10.99.0.1/24 dev vnapi1
ip -n vnapi-b addr add 10.99.0.2/24 dev vnapi2
ip -n vnapi-a link set vnapi1 up
ip -n vnapi-b link set vnapi2 up
ip netns exec vnapi-a ping -c 3 -i 0.2 10.99.0.2
echo "-- $B/devices/vnapi2/queue_stats"
cat $B/devices/vnapi2/queue_stats
ip netns exec vnapi-b ethtool -c vnapi2 | grep -E '^rx-(usecs|frames):'
echo "-- unlink: $(echo 1 >$B/unlink_device; ip -n vnapi-a -br link show vnapi1)"
echo 1 >$B/del_device
echo 2 >$B/del_device
echo "-- live devices $(cat $B/live_devices), live frames $(cat $B/live_frames)"
ip netns del vnapi-a
ip netns del vnapi-b
rmmod vnapi
echo "== nf_conntrack_ftp_rs"
modprobe nf_conntrack
modprobe nf_nat
insmod "$(ko nf_conntrack_ftp_rs)"
echo "-- sysctls (per network namespace)"
grep . /proc/sys/net/netfilter/nf_conntrack_ftp_rs/*
echo "-- counters"
grep . /sys/kernel/nf_conntrack_ftp_rs/*
echo "-- max_expected 0 (out of range)"
echo 0 >/proc/sys/net/netfilter/nf_conntrack_ftp_rs/max_expected || true
echo "-- the helper is found by name from nftables"
nft -f - <<'NFT'
table inet demo_ftp {
	ct helper ftp-standard { type "ftp" protocol tcp; }
	chain pre {
		type filter hook prerouting priority filter;
		tcp dport 21 ct helper set "ftp-standard"
	}
}
NFT
nft list table inet demo_ftp | grep -A1 'ct helper ftp'
nft delete table inet demo_ftp
rmmod nf_conntrack_ftp_rs
"$TOP/scripts/demo-ftp.sh"

echo "== kernel log"
dmesg
if dmesg | grep -Eq 'WARNING:|BUG:|Oops|Call Trace:|Invalid relocation'; then
	echo "error: the kernel log shows a problem"
	exit 1
fi
