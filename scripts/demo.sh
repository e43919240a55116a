#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the guest (see run.sh): load each module, show what it does,
# unload it, and show the kernel log.

set -e
TOP=$(cd "$(dirname "$0")/.." && pwd)
ko() { find "$TOP" -name "$1.ko" -not -path '*/target/*' | head -n1; }
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

echo "== nf_conntrack_ftp_rs"
modprobe nf_conntrack
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

echo "== kernel log"
dmesg
if dmesg | grep -Eq 'WARNING:|BUG:|Oops|Call Trace:|Invalid relocation'; then
	echo "error: the kernel log shows a problem"
	exit 1
fi
