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

echo "== kernel log"
dmesg
if dmesg | grep -Eq 'WARNING:|BUG:|Oops|Call Trace:|Invalid relocation'; then
	echo "error: the kernel log shows a problem"
	exit 1
fi
