#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi configuration: every writable sysfs, sysctl and ethtool setting
# takes valid values and rejects bad ones (out of range, not a number,
# oversized) with the old value kept; bus commands reject malformed input,
# duplicate ids, missing devices and links they cannot make.

source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip ethtool
trap vnapi_cleanup EXIT

vnapi_load
BIG=$(head -c 5000 /dev/zero | tr '\0' 7)
BAD="abc 12abc -1 99999999999999999999 $BIG"

# Global sysctls: defaults, ranges.
for f in max_devices:64:1:1024 default_queues:1:1:16 default_ring_size:256:16:4096 \
	default_napi_weight:64:1:64 default_rx_frames:32:1:4096 default_rx_usecs:0:0:1000000; do
	IFS=: read -r name def min max <<<"$f"
	check_eq "$name default" "$(cat $VS/$name)" "$def"
	write_ok $VS/$name "$max" && check_eq "$name" "$(cat $VS/$name)" "$max"
	write_ok $VS/$name "$min" && check_eq "$name" "$(cat $VS/$name)" "$min"
	write_ok $VS/$name "$def"
	for v in $((min - 1)) $((max + 1)) x 1x "" " " 99999999999999999999 "$BIG"; do
		[ -z "$v" ] && continue
		write_rejected $VS/$name "$v"
	done
	check_eq "$name after bad writes" "$(cat $VS/$name)" "$def"
done

# New devices take the defaults.
write_ok $VS/default_ring_size 512
write_ok $VS/default_queues 3
vnapi_new 7
check_eq "ring_size from default" "$(cat $VB/devices/vnapi7/ring_size)" 512
check_eq "queues from default" "$(cat $VB/devices/vnapi7/queues)" 3
write_ok $VS/default_ring_size 256
write_ok $VS/default_queues 1

# new_device: malformed input, bad queue counts, duplicates, the limit.
# Ids go up to 65535: every name vnapi<id> fits in IFNAMSIZ.
for v in abc "1 2 3" "1 0" "1 17" -1 "1 -2" 4294967296 "1 x" " " "$BIG" \
	65536 4294967295 "4294967295 1" 99999999999; do
	reject $VB/new_device "$v" "Invalid argument"
done
reject $VB/new_device 7 "File exists"
reject $VB/new_device "7 2" "File exists"
write_ok $VS/max_devices 2
vnapi_new 8
reject $VB/new_device 9 "No space left on device"
write_ok $VS/max_devices 64
check_eq "devices after bad new_device" "$(ls $VB/devices | tr '\n' ' ')" "vnapi7 vnapi8 "

# del_device, link_device, unlink_device.
for v in abc -1 "7 8" "$BIG"; do
	reject $VB/del_device "$v" "Invalid argument"
done
reject $VB/del_device 99 "No such device"
for v in 7 "7 7" "7 8 9" abc "$BIG"; do
	reject $VB/link_device "$v" "Invalid argument"
done
reject $VB/link_device "7 99" "No such device"
reject $VB/unlink_device 7 "Invalid argument"
reject $VB/unlink_device 99 "No such device"
check_eq "peer after bad links" "$(cat $VB/devices/vnapi7/peer)" none
write_ok $VB/link_device "7 8"
vnapi_new 9
reject $VB/link_device "9 7" "Device or resource busy"
check_eq "peer of 7" "$(cat $VB/devices/vnapi7/peer)" 8
check_eq "peer of 9" "$(cat $VB/devices/vnapi9/peer)" none
check_eq "devices after bad writes" "$(ls $VB/devices | tr '\n' ' ')" "vnapi7 vnapi8 vnapi9 "

# Per-device files.
D=$VB/devices/vnapi8
for f in ring_size:256:16:4096 napi_weight:64:1:64 rx_frames:32:1:4096 rx_usecs:0:0:1000000; do
	IFS=: read -r name def min max <<<"$f"
	check_eq "$name default" "$(cat $D/$name)" "$def"
	write_ok $D/$name "$max" && check_eq "$name" "$(cat $D/$name)" "$max"
	write_ok $D/$name "$min" && check_eq "$name" "$(cat $D/$name)" "$min"
	write_ok $D/$name "$def"
	for v in $((min - 1)) $((max + 1)) $BAD " " "1 2"; do
		write_rejected $D/$name "$v"
	done
	check_eq "$name after bad writes" "$(cat $D/$name)" "$def"
done

# irq_cpu: "QUEUE CPU" or "QUEUE local", for a queue that exists and a CPU
# that is online.  vnapi9 has 2 queues.
echo 9 >$VB/del_device || fail "del_device 9"
vnapi_new 9 2
I=$VB/devices/vnapi9/irq_cpu
check_eq "irq_cpu default" "$(cat $I | tr '\n' ' ')" "rx0 local rx1 local "
# The last online CPU, and the first id past every possible one.
last=$(sed 's/.*[-,]//' /sys/devices/system/cpu/online)
past=$(($(sed 's/.*[-,]//' /sys/devices/system/cpu/possible) + 1))
write_ok $I "1 $last"
write_ok $I "0 0"
check_eq "irq_cpu" "$(cat $I | tr '\n' ' ')" "rx0 0 rx1 $last "
for v in "2 0" "0 $past" "0 4096" "0 4294967295" "0 -1" "-1 0" "0" "local" "0 Local" \
	"0 1 2" "0 x" "x 0" "0 1x" " " "0 $BIG" "$BIG 0"; do
	write_rejected $I "$v"
done
check_eq "irq_cpu after bad writes" "$(cat $I | tr '\n' ' ')" "rx0 0 rx1 $last "
write_ok $I "1 local"
check_eq "irq_cpu back to local" "$(cat $I | tr '\n' ' ')" "rx0 0 rx1 local "

# ethtool -G / -C: the same limits.
ethtool -G vnapi8 rx 1024 || fail "ethtool -G rx 1024"
check_eq "ring_size after ethtool -G" "$(cat $D/ring_size)" 1024
ethtool -G vnapi8 rx 8 2>/dev/null && fail "ethtool -G rx 8 accepted"
ethtool -G vnapi8 rx 5000 2>/dev/null && fail "ethtool -G rx 5000 accepted"
ethtool -G vnapi8 tx 64 2>/dev/null && fail "ethtool -G tx 64 accepted"
check_eq "ring_size after bad ethtool -G" "$(cat $D/ring_size)" 1024
ethtool -C vnapi8 rx-frames 8 rx-usecs 50 || fail "ethtool -C"
check_eq "rx_frames after ethtool -C" "$(cat $D/rx_frames)" 8
check_eq "rx_usecs after ethtool -C" "$(cat $D/rx_usecs)" 50
ethtool -C vnapi8 rx-frames 0 2>/dev/null && fail "ethtool -C rx-frames 0 accepted"
ethtool -C vnapi8 rx-usecs 2000000 2>/dev/null && fail "ethtool -C rx-usecs 2000000 accepted"
ethtool -C vnapi8 rx-frames 5000 rx-usecs 10 2>/dev/null && fail "ethtool -C rx-frames 5000 accepted"
ethtool -C vnapi8 tx-usecs 10 2>/dev/null && fail "ethtool -C tx-usecs accepted"
check_eq "rx_frames after bad ethtool -C" "$(cat $D/rx_frames)" 8
check_eq "rx_usecs after bad ethtool -C" "$(cat $D/rx_usecs)" 50
ethtool -c vnapi8 | grep -q '^rx-frames:[[:space:]]*8' || fail "ethtool -c"

# 16 queues: queue_stats shows every queue (a line each, ending at a
# line boundary if very large counters ever made it exceed a page), and a
# rejected ring_size leaves every ring as it was.
vnapi_new 65535 16
D=$VB/devices/vnapi65535
lines=$(wc -l <$D/queue_stats) || fail "reading queue_stats of 16 queues failed"
check_eq "queue_stats lines with 16 queues" "$lines" 32
check_eq "queue_stats ends with a newline" "$(tail -c 1 $D/queue_stats | od -An -c | tr -d ' ')" '\n'
write_ok $D/ring_size 4096
for v in 4097 15 0 abc "16 16" 4294967296; do
	write_rejected $D/ring_size "$v"
done
check_eq "ring_size of 16 queues after bad writes" "$(cat $D/ring_size)" 4096
ethtool -g vnapi65535 | grep -A4 'Current' | grep -q '^RX:[[:space:]]*4096' || fail "ethtool -g after bad writes"
write_ok $D/ring_size 16
check_eq "ring_size of 16 queues" "$(cat $D/ring_size)" 16
echo 65535 >$VB/del_device || fail "del_device 65535"

rmmod vnapi || fail "rmmod with devices failed"
[ -e $VB ] && fail "$VB still there after unload"
[ $RET = 0 ] && log "PASS: vnapi configuration validated"
exit $RET
