#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vnapi native XDP, with the programs of vnapi_xdp.bpf.c (compiled here
# with clang-19, attached with ip link set DEV xdpdrv obj FILE sec xdp/NAME)
# on vnapi2 of a pair vnapi1 (NSA, 10.0.0.1) - vnapi2 (NSB, 10.0.0.2):
# - the devices advertise the XDP features basic, redirect, rx-sg,
#   ndo-xmit and ndo-xmit-sg, and the receive metadata hash and vlan-tag
#   (netdev netlink, through the kernel's ynl when there is one; the VLAN
#   tag's kfunc is tested in vnapi_vlan.sh);
# - XDP_PASS: a TCP transfer is intact, and every frame the stack got went
#   through the program;
# - XDP_DROP: datagrams are counted and dropped, none reaches the stack,
#   ping fails; detached, ping works again; the interface (ip -s link)
#   counts them as received, XDP being the first layer of the stack; their
#   pages come from and go back to vnapi2's page pools, one per queue
#   (page-pool-get and page-pool-stats-get, with ynl), and once the
#   devices are deleted their pools are freed: no page was lost;
# - XDP_TX: datagrams reflected (addresses and ports swapped) all come
#   back to the sending socket with their payloads and valid checksums
#   (vnapi completes a checksum left to offload before its program runs);
#   and they go through vnapi1's GRO though vnapi2 does TSO: a socket with
#   UDP_GRO gets them merged;
# - XDP_REDIRECT to vnapi3 (in NSB, no program), linked to vnapi4 (in NSC,
#   10.0.0.2 too): vnapi3 transmits them (ndo_xdp_xmit) and a socket in NSC
#   receives all of them, NSB's own socket none;
# - XDP_ABORTED: counted (and received, as for XDP_DROP), nothing to the
#   stack;
# - MTU: no MTU above 3502 with a program without frags, no such program
#   above 3502;
# - multi-buffer XDP: a program with frags at MTU 9000, which one without
#   cannot replace: pass (TCP), tx, drop and redirect (to vnapi3, whose
#   ndo_xdp_xmit takes frames with frags) of frames longer than a page;
# - receive metadata: a program bound to vnapi2 gets each datagram's flow
#   hash (type L4, one per flow) from bpf_xdp_metadata_rx_hash(), and
#   -EOPNOTSUPP from bpf_xdp_metadata_rx_timestamp() (with bpftool, on a
#   kernel with BTF).
# In each datagram case the XDP verdict counters of vnapi2 (ethtool -S
# rx{i}_xdp_*) account for every frame vnapi1 sent, none is an xdp_error,
# and once everything is detached and deleted no frame is left alive.

# shellcheck disable=SC2317 # functions called through trap and busywait
source "$(dirname "$0")/vnapi_lib.sh"
require_cmd ip python3 ping socat ethtool sha256sum clang-19 taskset
require_bpf
TMP=$(mktemp -d)
cleanup() {
	vnapi_del_all 1 2 3 4
	bpffs_umount
	rm -rf "$TMP"
	vnapi_cleanup
}
trap cleanup EXIT

N_DROP=200	# datagrams per drop / aborted case
N=100		# datagrams per reflect / redirect case
PORT_TX=7000	# xdp_tx_reflect reflects datagrams to (or from) this port
PORT_TX_SRC=7001
PORT_RD=7002	# xdp_redirect redirects datagrams to (or from) this port
PORT_TX_GRO=7003
PORT_META=7004	# xdp_meta looks at the datagrams to this port
PORT_META_A=7005	# ... from these two
PORT_META_B=7006
# The verdict counters: every frame that reaches a program ends in one.
VERDICTS="xdp_pass xdp_drop xdp_tx xdp_redirect xdp_aborted xdp_errors"

# xdp_prog NS DEV: "MODE NAME" of DEV's XDP program (mode 1 is native,
# XDP_ATTACHED_DRV), "0 -" without one.
xdp_prog() {
	ip -n "$1" -j -d link show dev "$2" | python3 -c '
import json, sys
x = json.load(sys.stdin)[0].get("xdp") or {}
print(x.get("mode", 0), (x.get("prog") or {}).get("name", "-"))'
}

# xdp_attach NS DEV OBJ NAME: program xdp_NAME (section xdp/NAME of OBJ)
# attached to DEV in native mode.
xdp_attach() {
	local err
	if ! err=$(ip -n "$1" link set dev "$2" xdpdrv obj "$3" sec "xdp/$4" 2>&1); then
		fail "attaching xdp_$4 to $2 in native mode failed: $(echo "$err" | tail -n2 | tr '\n' ' ')"
		return 1
	fi
	check_eq "XDP program of $2 after attaching xdp_$4" "$(xdp_prog "$1" "$2")" "1 xdp_$4"
}

# xdp_detach NS DEV
xdp_detach() {
	ip -n "$1" link set dev "$2" xdpdrv off || fail "detaching the XDP program of $2 failed"
	check_eq "XDP program of $2 after detaching" "$(xdp_prog "$1" "$2")" "0 -"
}

# counters NS DEV: DEV's per-queue counters of ethtool -S (rx0_frames,
# rx1_frames, tx0_xdp_xmit, ...) each summed over the queues, as lines
# "rx_frames 123".
counters() {
	ip netns exec "$1" ethtool -S "$2" | awk '
		$1 ~ /^(rx|tx)[0-9]+_[a-z_]+:$/ {
			n = $1; sub(/[0-9]+_/, "_", n); sub(/:$/, "", n); s[n] += $2
		}
		END { for (n in s) print n, s[n] }'
}

# val SNAPSHOT NAME: the value of NAME in a snapshot of counters.
val() {
	awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' <<<"$1"
}

# delta BEFORE AFTER NAME
delta() {
	echo $(($(val "$2" "$3") - $(val "$1" "$3")))
}

# verdicts SNAPSHOT: the frames the program of a device has seen, the sum
# of its verdict counters.
verdicts() {
	local v s=0
	for v in $VERDICTS; do
		s=$((s + $(val "$1" "rx_$v")))
	done
	echo $s
}

# rose NS DEV NAME BASE WANT: DEV's NAME has risen by WANT or more since
# the snapshot BASE (for busywait).
rose() {
	[ "$(delta "$4" "$(counters "$1" "$2")" "$3")" -ge "$5" ]
}

# settle WHAT NS DEV NAME BASE WANT: wait until DEV's NAME has risen by
# WANT since BASE, and the rings of vnapi1 and vnapi2 are empty.
settle() {
	busywait 30000 rose "$2" "$3" "$4" "$5" "$6" ||
		fail "$1: $4 of $3 rose by $(delta "$5" "$(counters "$2" "$3")" "$4"), want $6 (timed out)"
	busywait 20000 ring_empty vnapi2 || fail "$1: vnapi2's rings do not drain"
	busywait 20000 ring_empty vnapi1 || fail "$1: vnapi1's rings do not drain"
}

# mark: snapshots A0 of vnapi1's counters and B0 of vnapi2's, before a case.
mark() {
	A0=$(counters "$NSA" vnapi1)
	B0=$(counters "$NSB" vnapi2)
}

# accounted: every frame vnapi1 transmitted since the mark reached
# vnapi2's program (a verdict counter) or was dropped before it
# (rx drops: ring full).
accounted() {
	local a b
	a=$(counters "$NSA" vnapi1) b=$(counters "$NSB" vnapi2)
	[ $(($(verdicts "$b") - $(verdicts "$B0") + $(delta "$B0" "$b" rx_drops))) = \
		"$(delta "$A0" "$a" tx_frames)" ]
}

# account WHAT: accounted, and no verdict of vnapi2's program failed.
account() {
	local a b
	busywait 10000 accounted || {
		a=$(counters "$NSA" vnapi1) b=$(counters "$NSB" vnapi2)
		fail "$1: vnapi1 sent $(delta "$A0" "$a" tx_frames) frames, vnapi2's program has verdicts for $(($(verdicts "$b") - $(verdicts "$B0"))) and $(delta "$B0" "$b" rx_drops) were dropped before it"
	}
	check_eq "$1: rx xdp_errors of vnapi2" "$(delta "$B0" "$(counters "$NSB" vnapi2)" rx_xdp_errors)" 0
}

# payloads: the payload of datagram I, the same in every sender and
# receiver below (the python code of PY_PAYLOAD).
PY_PAYLOAD='def payload(i, size=64): return (b"vnapi xdp %05d" % i).ljust(size, b".")'

# udp_burst NS DST PORT COUNT [SIZE]: COUNT datagrams with distinct
# payloads of SIZE bytes (64) from NS to DST:PORT.
udp_burst() {
	ip netns exec "$1" python3 -c "$PY_PAYLOAD"'
import socket, sys
dst, port, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(payload(i, size), (dst, port))
' "$2" "$3" "$4" "${5:-64}"
}

# udp_collect NS ADDR PORT COUNT READY [SIZE]: a socket bound to
# ADDR:PORT in NS (READY is created once it is) receives until it has the
# COUNT payloads of udp_burst (of SIZE bytes, 64) or no datagram comes for
# 10 s; prints "GOT DUPLICATES OTHERS".
udp_collect() {
	ip netns exec "$1" python3 -c "$PY_PAYLOAD"'
import socket, sys
addr, port, n, ready, tmo, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), int(sys.argv[6])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 8 << 20)
s.bind((addr, port))
s.settimeout(tmo)
open(ready, "w").close()
want = {payload(i, size) for i in range(n)}
got, dup, other = set(), 0, 0
try:
    while len(got) < n:
        d = s.recv(65536)
        if d in got:
            dup += 1
        elif d in want:
            got.add(d)
        else:
            other += 1
except socket.timeout:
    pass
print(len(got), dup, other)
' "$2" "$3" "$4" "$5" $((10 * RNM_TIMEOUT_SCALE)) "${6:-64}"
}

# udp_reflect COUNT SPORT SIZE: a socket bound to 10.0.0.1:SPORT in NSA
# sends COUNT datagrams of SIZE bytes with distinct payloads to
# 10.0.0.2:PORT_TX, and receives until all came back from there or none
# comes for 10 s; prints "GOT DUPLICATES OTHERS".
udp_reflect() {
	ip netns exec "$NSA" python3 -c "$PY_PAYLOAD"'
import socket, sys
n, sport, dport, size, tmo = (int(a) for a in sys.argv[1:6])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 8 << 20)
s.bind(("10.0.0.1", sport))
s.settimeout(tmo)
sent = {payload(i, size) for i in range(n)}
for i in range(n):
    s.sendto(payload(i, size), ("10.0.0.2", dport))
got, dup, other = set(), 0, 0
try:
    while len(got) < n:
        d, src = s.recvfrom(65536)
        if src != ("10.0.0.2", dport) or d not in sent:
            other += 1
        elif d in got:
            dup += 1
        else:
            got.add(d)
except socket.timeout:
    pass
print(len(got), dup, other)
' "$1" "$2" $PORT_TX "$3" $((10 * RNM_TIMEOUT_SCALE))
}

# udp_count NS ADDR PORT READY STOP: a socket bound to ADDR:PORT in NS
# (READY is created once it is) counts what it receives until STOP
# exists; prints the count.
udp_count() {
	ip netns exec "$1" python3 -c '
import os, socket, sys
addr, port, ready, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 4 << 20)
s.bind((addr, port))
s.settimeout(0.1)
open(ready, "w").close()
n = 0
while not os.path.exists(stop):
    try:
        s.recv(4096)
        n += 1
    except socket.timeout:
        pass
s.setblocking(False)
try:
    while True:
        s.recv(4096)
        n += 1
except BlockingIOError:
    pass
print(n)
' "$2" "$3" "$4" "$5"
}

# udp_csum_errors NS: Udp InCsumErrors of NS.
udp_csum_errors() {
	# shellcheck disable=SC2016 # awk's fields
	ip netns exec "$1" awk '$1 == "Udp:" { if (!n) { for (i = 2; i <= NF; i++) if ($i == "InCsumErrors") c = i; n = 1 } else print $c + 0 }' /proc/net/snmp
}

ping_ok() {
	ip netns exec "$NSA" ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1
}

# ynl: the kernel's own (tools/net/ynl, with python3-yaml), as in
# vnapi_netlink.sh, for the netdev family; without it, the checks that
# need it alone are skipped.
YNL_TREE=
for t in "$RNM_TOP" /opt/rnm/src/linux-source-*; do
	[ -f "$t/tools/net/ynl/pyynl/cli.py" ] &&
		[ -f "$t/Documentation/netlink/specs/netdev.yaml" ] && { YNL_TREE=$t; break; }
done
python3 -c 'import yaml' 2>/dev/null || YNL_TREE=

# pp_dump CMD: the netdev family's dump CMD (page-pool-get,
# page-pool-stats-get) in the root namespace, JSON.
pp_dump() {
	python3 "$YNL_TREE/tools/net/ynl/pyynl/cli.py" --no-schema \
		--spec "$YNL_TREE/Documentation/netlink/specs/netdev.yaml" --output-json --dump "$1"
}

# pp_ids: the ids of the page pools listed in the root namespace.
pp_ids() {
	pp_dump page-pool-get | python3 -c 'import json, sys; print(" ".join(str(p["id"]) for p in json.load(sys.stdin)))'
}

# pp_stats OLD: "POOLS FAST CACHED IDS" for the page pools of the devices
# created in the root namespace and moved out of it (vnapi1 and vnapi2
# here), those that are live (no detach-time) and not among the ids OLD:
# the kernel lists them under the root namespace's loopback device (no
# ifindex) once their device has left.  How many there are, the pages
# taken from their caches and the pages put back straight into them
# (page-pool-stats-get), summed over them ("-" for both on a kernel
# without CONFIG_PAGE_POOL_STATS), and their ids.
pp_stats() {
	python3 -c '
import json, sys
old = set(sys.argv[1].split())
live = {p["id"] for p in json.loads(sys.argv[2])
        if "ifindex" not in p and "detach-time" not in p and str(p["id"]) not in old}
ids = ",".join(str(i) for i in sorted(live))
if not sys.argv[3]:
    print(len(live), "-", "-", ids)
    sys.exit()
s = [p for p in json.loads(sys.argv[3]) if p["info"]["id"] in live]
print(len(live), sum(p.get("alloc-fast", 0) for p in s),
      sum(p.get("recycle-cached", 0) for p in s), ids)' \
		"$1" "$(pp_dump page-pool-get)" "$(pp_dump page-pool-stats-get 2>/dev/null)"
}

# pp_gone IDS: none of the page pools IDS (comma-separated) is listed any
# more, that is each has been freed, every page of it back.  If one is,
# each CPU receives a frame (a ping over the loopback device, from that
# CPU): a CPU frees the frames that others handed back to it (deferred
# frees, skb_attempt_defer_free()) when it next receives, and such a frame
# may hold a page.
pp_gone() {
	local cpu
	pp_dump page-pool-get | python3 -c '
import json, sys
ids = {int(i) for i in sys.argv[1].split(",") if i}
sys.exit(any(p["id"] in ids for p in json.load(sys.stdin)))' "$1" && return 0
	for cpu in $(seq 0 $(($(nproc) - 1))); do
		taskset -c "$cpu" ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1
	done
	return 1
}

vnapi_load
PP_OLD=
[ -z "$YNL_TREE" ] || PP_OLD=$(pp_ids) || fail "page-pool-get failed"
IPV6=0 vnapi_pair 2
busywait 10000 ping_ok || die "no ping from $NSA to $NSB before any program"
bpf_obj "$TMP/xdp.o" -DUDP_PORT=$PORT_TX

# The counters this test reads must be there.
c2=$(counters "$NSB" vnapi2)
for c in rx_frames rx_drops $(for v in $VERDICTS; do echo "rx_$v"; done) \
	tx_frames tx_xdp_xmit tx_xdp_xmit_errors; do
	grep -q "^$c " <<<"$c2" || die "ethtool -S vnapi2 has no ${c%%_*}{i}_${c#*_} counters"
done

# a. XDP features and receive metadata features, from the netdev family
# (ynl): without ynl, this check alone is skipped.
if [ -z "$YNL_TREE" ]; then
	[ "${RNM_STRICT:-0}" = 1 ] && fail "no ynl (kernel tree with tools/net/ynl, python3-yaml) for the XDP features"
	log "INFO: XDP features not checked: no ynl (kernel tree with tools/net/ynl, python3-yaml)"
else
	for dev in "$NSA vnapi1" "$NSB vnapi2"; do
		read -r ns name <<<"$dev"
		ifi=$(ip netns exec "$ns" cat "/sys/class/net/$name/ifindex")
		got=$(ip netns exec "$ns" python3 "$YNL_TREE/tools/net/ynl/pyynl/cli.py" --no-schema \
			--spec "$YNL_TREE/Documentation/netlink/specs/netdev.yaml" --output-json \
			--do dev-get --json "{\"ifindex\": $ifi}" |
			python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted(d.get("xdp-features", []))), "/",
      " ".join(sorted(d.get("xdp-rx-metadata-features", []))))') ||
			fail "netdev dev-get for $name failed"
		check_eq "xdp-features / xdp-rx-metadata-features of $name" "$got" \
			"basic ndo-xmit ndo-xmit-sg redirect rx-sg / hash vlan-tag"
	done
	log "ok: xdp-features basic, redirect, rx-sg, ndo-xmit, ndo-xmit-sg; xdp-rx-metadata-features hash, vlan-tag"
fi

# b. XDP_PASS: a TCP transfer through the program, checksums compared;
# every frame vnapi2 handed to the stack went through it.
head -c 4000000 /dev/urandom >"$TMP/data"
xdp_attach "$NSB" vnapi2 "$TMP/xdp.o" pass
mark
tcp_transfer XDP_PASS "$NSA" "$NSB" 10.0.0.2 5001 "$TMP/data"
# The two counters are read in one ethtool call, but a frame may be
# between its verdict and the stack: compare until they agree.
pass_agrees() {
	local b
	b=$(counters "$NSB" vnapi2)
	[ "$(delta "$B0" "$b" rx_xdp_pass)" = "$(delta "$B0" "$b" rx_frames)" ] && ring_empty vnapi2
}
# passed_all WHAT: since the mark, every frame vnapi2 handed to the stack
# went through its program, which passed all and failed none; sets b
# (vnapi2's counters) and passed.
passed_all() {
	busywait 20000 pass_agrees || true
	b=$(counters "$NSB" vnapi2)
	passed=$(delta "$B0" "$b" rx_xdp_pass)
	[ "$passed" -gt 0 ] || fail "$1: rx xdp_pass of vnapi2 did not rise over a 4 MB transfer"
	check_eq "$1: frames to the stack = frames passed by the program" "$(delta "$B0" "$b" rx_frames)" "$passed"
	check_eq "$1: all verdicts = passes" $(($(verdicts "$b") - $(verdicts "$B0"))) "$passed"
	check_eq "$1: rx xdp_errors of vnapi2" "$(delta "$B0" "$b" rx_xdp_errors)" 0
}
passed_all XDP_PASS
# Frames the program passed count once in the interface's bytes: those of
# ethtool -S, nothing consumed.
read -r _ bytes _ <<<"$(link_stats "$NSB" vnapi2 rx)"
check_eq "XDP_PASS: bytes received by vnapi2 (ip -s link)" "$bytes" \
	"$(counters "$NSB" vnapi2 | awk '$1 == "rx_bytes" { print $2 }')"
busywait 10000 ping_ok || fail "XDP_PASS: no ping"
xdp_detach "$NSB" vnapi2
log "ok: XDP_PASS: 4 MB over TCP intact, $passed frames passed, each one to the stack"

# xdp_sink WHAT PROG COUNTER: with PROG attached to vnapi2, N_DROP
# datagrams from NSA are each counted in COUNTER of vnapi2 and none
# reaches the stack; the interface counts them as received (XDP is the
# first layer of the stack), 106 bytes each (64 of payload and the UDP,
# IPv4 and Ethernet headers).  PROG stays attached.
xdp_sink() {
	local p0 b0 rp rb
	xdp_attach "$NSB" vnapi2 "$TMP/xdp.o" "$2"
	mark
	read -r p0 b0 _ <<<"$(link_stats "$NSB" vnapi2 rx)"
	udp_send "$NSA" 10.0.0.2 $N_DROP || fail "$1: sending $N_DROP datagrams failed"
	settle "$1" "$NSB" vnapi2 "$3" "$B0" $N_DROP
	b=$(counters "$NSB" vnapi2)
	check_eq "$1: ${3/_/ } of vnapi2" "$(delta "$B0" "$b" "$3")" $N_DROP
	check_eq "$1: frames to the stack" "$(delta "$B0" "$b" rx_frames)" 0
	read -r rp rb _ <<<"$(link_stats "$NSB" vnapi2 rx)"
	check_eq "$1: packets and bytes received by vnapi2 (ip -s link)" \
		"$rp $rb" "$((p0 + N_DROP)) $((b0 + N_DROP * 106))"
	account "$1"
}

# c. XDP_DROP: every datagram is dropped by the program, none reaches the
# stack (the neighbours are static: no ARP); ping fails, and works again
# once the program is detached.  The pages the program ran on come from
# the page pools of vnapi2's two receive queues and go straight back into
# their caches, from which all the others are taken: every allocation but
# the first of each pool (which fills its empty cache) is from the cache.
PP_IDS=
[ -z "$YNL_TREE" ] || read -r pools fast0 cached0 _ <<<"$(pp_stats "$PP_OLD")"
xdp_sink XDP_DROP drop rx_xdp_drop
if [ -n "$YNL_TREE" ]; then
	read -r pools fast cached PP_IDS <<<"$(pp_stats "$PP_OLD")"
	check_eq "XDP_DROP: page pools of vnapi1 and vnapi2 (2 queues each)" "$pools" 4
	if [ "$fast" = - ] && [ "${RNM_STRICT:-0}" = 1 ]; then
		fail "no page pool statistics (CONFIG_PAGE_POOL_STATS)"
	elif [ "$fast" = - ]; then
		log "INFO: page pool statistics not checked: kernel without CONFIG_PAGE_POOL_STATS"
	else
		[ $((cached - cached0)) -ge $N_DROP ] ||
			fail "XDP_DROP: $((cached - cached0)) pages put straight back into the page pools' caches, want $N_DROP or more"
		[ $((fast - fast0)) -ge $((N_DROP - 2)) ] ||
			fail "XDP_DROP: $((fast - fast0)) pages taken from the page pools' caches, want $((N_DROP - 2)) or more"
		log "ok: XDP_DROP: $((cached - cached0)) pages recycled, $((fast - fast0)) taken from the caches of $pools page pools"
	fi
fi
ip netns exec "$NSA" ping -c 2 -i 0.2 -W 1 10.0.0.2 >/dev/null 2>&1 &&
	fail "XDP_DROP: ping works with xdp_drop on vnapi2"
xdp_detach "$NSB" vnapi2
busywait 10000 ping_ok || fail "XDP_DROP: no ping after xdp_drop was detached"
log "ok: XDP_DROP: $N_DROP datagrams dropped by the program, none to the stack; ping back once detached"

# The next programs send the frames they get back out, and the stack that
# receives them checks their checksums.  vnapi1 keeps its checksum offload
# (the stack leaves the UDP checksum to the device: only the
# pseudo-header's sum is in the frame): vnapi2 must complete it before
# its program sees the frame, as on a wire.  (veth does not: the same
# reflected datagrams fail their checksum there.)

# The receiving sockets get a 4 MiB buffer (8 MiB for udp_reflect and
# udp_collect, which also take datagrams of 8000 bytes): a frame XDP has seen sits in
# a page of its own (a truesize of about 4.5 KiB), and the default buffer
# would hold fewer than 50 of them.

# d. XDP_TX: a socket bound to 10.0.0.1:PORT_TX_SRC sends N datagrams to
# 10.0.0.2:PORT_TX; xdp_tx_reflect sends each back to vnapi1 with the
# addresses and ports swapped: all come back, from 10.0.0.2:PORT_TX,
# with their payloads.
xdp_attach "$NSB" vnapi2 "$TMP/xdp.o" tx_reflect
mark
read -r tp0 tb0 td0 <<<"$(link_stats "$NSB" vnapi2 tx)"
csum0=$(udp_csum_errors "$NSA")
got=$(udp_reflect $N $PORT_TX_SRC 64) || fail "XDP_TX: the reflecting client failed"
check_eq "XDP_TX: datagrams back with their payloads, duplicates, others" "$got" "$N 0 0"
check_eq "XDP_TX: UDP checksum errors in $NSA" $(($(udp_csum_errors "$NSA") - csum0)) 0
settle "XDP_TX" "$NSB" vnapi2 rx_xdp_tx "$B0" $N
a=$(counters "$NSA" vnapi1) b=$(counters "$NSB" vnapi2)
check_eq "XDP_TX: rx xdp_tx of vnapi2" "$(delta "$B0" "$b" rx_xdp_tx)" $N
check_eq "XDP_TX: frames to vnapi2's stack" "$(delta "$B0" "$b" rx_frames)" 0
check_eq "XDP_TX: reflected frames vnapi1 received" "$(delta "$A0" "$a" rx_frames)" $N
# The reflected frames are what vnapi2 transmitted: 106 bytes each, as
# they came (their addresses and ports swapped).
read -r tp tb td <<<"$(link_stats "$NSB" vnapi2 tx)"
check_eq "XDP_TX: packets, bytes and drops vnapi2 transmitted (ip -s link)" \
	"$((tp - tp0)) $((tb - tb0)) $((td - td0))" "$N $((N * 106)) 0"
account "XDP_TX"
log "ok: XDP_TX: $N datagrams reflected, all back to the sender with their payloads"

# d2. XDP_TX frames go through the receiver's GRO.  vnapi1 hands the
# frames of a peer with TSO (vnapi2) to the stack without GRO, as veth
# does: the peer's stack aggregated them already.  The frames vnapi2's
# program sends back are not the stack's but one MTU-sized frame each,
# and GRO must see them, as veth's XDP_TX frames: a socket with UDP_GRO
# gets them merged.  vnapi1 raises its interrupt once the GRO_N frames
# are in its ring, so that one poll sees them all.
GRO_N=8
ret=$RET RET=0
ip netns exec "$NSB" ethtool -K vnapi2 tso on || fail "ethtool -K vnapi2 tso on"
coal=$(ip netns exec "$NSA" ethtool -c vnapi1 |
	awk '$1 == "rx-usecs:" { u = $2 } $1 == "rx-frames:" { f = $2 } END { print f, u }')
ip netns exec "$NSA" ethtool -C vnapi1 rx-frames $GRO_N rx-usecs 1000000 || fail "ethtool -C vnapi1"
mark
got=$(ip netns exec "$NSA" python3 -c "$PY_PAYLOAD"'
import socket, struct, sys
n, sport, dport, tmo = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
SOL_UDP, UDP_GRO = 17, 104
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 4 << 20)
s.setsockopt(SOL_UDP, UDP_GRO, 1)
s.bind(("10.0.0.1", sport))
s.settimeout(tmo)
sent = [payload(i) for i in range(n)]
for d in sent:
    s.sendto(d, ("10.0.0.2", dport))
got, most = [], 0
try:
    while len(got) < n:
        d, anc, _, src = s.recvmsg(65536, socket.CMSG_SPACE(4))
        size = len(d)
        for level, kind, v in anc:
            if (level, kind) == (SOL_UDP, UDP_GRO):
                size = struct.unpack("i", v[:4])[0]
        segs = [d[i:i + size] for i in range(0, len(d), size)]
        most = max(most, len(segs))
        got += segs if src == ("10.0.0.2", dport) else [b"?"]
except socket.timeout:
    pass
print("intact" if got == sent else "changed", most)
' $GRO_N $PORT_TX_GRO $PORT_TX $((10 * RNM_TIMEOUT_SCALE))) || fail "XDP_TX with GRO: the client failed"
settle "XDP_TX with GRO" "$NSB" vnapi2 rx_xdp_tx "$B0" $GRO_N
a=$(counters "$NSA" vnapi1)
read -r intact most <<<"$got"
check_eq "XDP_TX with GRO: datagrams back in order with their payloads" "$intact" intact
[ "${most:-0}" -ge 2 ] ||
	fail "XDP_TX with GRO: no read returned merged datagrams (at most ${most:-0} in one)"
merged=$(delta "$A0" "$a" rx_gro_merged)
[ "$merged" -ge 1 ] || fail "XDP_TX with GRO: vnapi1's GRO merged none of the $GRO_N reflected frames"
check_eq "XDP_TX with GRO: reflected frames vnapi1 received" "$(delta "$A0" "$a" rx_frames)" $GRO_N
account "XDP_TX with GRO"
read -r frames usecs <<<"$coal"
ip netns exec "$NSA" ethtool -C vnapi1 rx-frames "$frames" rx-usecs "$usecs" ||
	fail "ethtool -C vnapi1 rx-frames $frames rx-usecs $usecs (back)"
xdp_detach "$NSB" vnapi2
[ $RET = 0 ] &&
	log "ok: XDP_TX: reflected frames from a TSO peer merged by GRO ($merged merges, up to $most datagrams a read)"
[ $RET != 0 ] || RET=$ret

# e. XDP_REDIRECT: vnapi3 (NSB, up, no address, no program) linked to
# vnapi4 (NSC, 10.0.0.2/24).  xdp_redirect on vnapi2 rewrites the
# destination MAC to vnapi4's and redirects to vnapi3, which transmits to
# vnapi4 (ndo_xdp_xmit): NSC's socket on 10.0.0.2:PORT_RD receives all N,
# NSB's socket on the same address and port none.
vnapi_new 3 2
vnapi_new 4 2
echo "3 4" >$VB/link_device || die "link_device 3 4 failed"
setup_ns NSC
ip netns exec "$NSC" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$NSC" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip link set vnapi3 netns "$NSB" || die "cannot move vnapi3 to $NSB"
ip -n "$NSB" link set vnapi3 up
IPV6=0 vnapi_place 4 "$NSC" 10.0.0.2
if3=$(ip netns exec "$NSB" cat /sys/class/net/vnapi3/ifindex)
mac4=$(ip netns exec "$NSC" cat /sys/class/net/vnapi4/address)
bpf_obj "$TMP/redirect.o" -DUDP_PORT=$PORT_RD -DREDIRECT_IFINDEX="$if3" \
	-DREDIRECT_DMAC="0x${mac4//:/,0x}"
xdp_attach "$NSB" vnapi2 "$TMP/redirect.o" redirect
udp_collect "$NSC" 10.0.0.2 $PORT_RD $N "$TMP/c.ready" >"$TMP/c.out" &
rcv_c=$!
udp_count "$NSB" 10.0.0.2 $PORT_RD "$TMP/b.ready" "$TMP/b.stop" >"$TMP/b.out" &
rcv_b=$!
busywait 20000 test -e "$TMP/c.ready" -a -e "$TMP/b.ready" || fail "XDP_REDIRECT: receivers did not start"
mark
C0=$(counters "$NSB" vnapi3) D0=$(counters "$NSC" vnapi4)
read -r tp0 tb0 td0 <<<"$(link_stats "$NSB" vnapi3 tx)"
csum0=$(udp_csum_errors "$NSC")
udp_burst "$NSA" 10.0.0.2 $PORT_RD $N || fail "XDP_REDIRECT: sending $N datagrams failed"
wait $rcv_c || fail "XDP_REDIRECT: the receiver in $NSC failed"
check_eq "XDP_REDIRECT: datagrams received in $NSC, duplicates, others" "$(cat "$TMP/c.out")" "$N 0 0"
check_eq "XDP_REDIRECT: UDP checksum errors in $NSC" $(($(udp_csum_errors "$NSC") - csum0)) 0
settle "XDP_REDIRECT" "$NSB" vnapi2 rx_xdp_redirect "$B0" $N
busywait 20000 ring_empty vnapi4 || fail "XDP_REDIRECT: vnapi4's rings do not drain"
touch "$TMP/b.stop"
wait $rcv_b || fail "XDP_REDIRECT: the receiver in $NSB failed"
check_eq "XDP_REDIRECT: datagrams received in $NSB" "$(cat "$TMP/b.out")" 0
b=$(counters "$NSB" vnapi2) c=$(counters "$NSB" vnapi3) d=$(counters "$NSC" vnapi4)
check_eq "XDP_REDIRECT: rx xdp_redirect of vnapi2" "$(delta "$B0" "$b" rx_xdp_redirect)" $N
check_eq "XDP_REDIRECT: frames to vnapi2's stack" "$(delta "$B0" "$b" rx_frames)" 0
check_eq "XDP_REDIRECT: tx xdp_xmit of vnapi3" "$(delta "$C0" "$c" tx_xdp_xmit)" $N
check_eq "XDP_REDIRECT: tx xdp_xmit_errors of vnapi3" "$(delta "$C0" "$c" tx_xdp_xmit_errors)" 0
check_eq "XDP_REDIRECT: frames to vnapi4's stack" "$(delta "$D0" "$d" rx_frames)" $N
read -r tp tb td <<<"$(link_stats "$NSB" vnapi3 tx)"
check_eq "XDP_REDIRECT: packets, bytes and drops vnapi3 transmitted (ip -s link)" \
	"$((tp - tp0)) $((tb - tb0)) $((td - td0))" "$N $((N * 106)) 0"
account "XDP_REDIRECT"
# What the program does not select still goes to NSB's stack.
busywait 10000 ping_ok || fail "XDP_REDIRECT: no ping with xdp_redirect (ICMP is passed)"
xdp_detach "$NSB" vnapi2
log "ok: XDP_REDIRECT: $N datagrams redirected to vnapi3, all received behind vnapi4, none in $NSB"

# f. XDP_ABORTED: counted, nothing to the stack.
xdp_sink XDP_ABORTED aborted rx_xdp_aborted
xdp_detach "$NSB" vnapi2
busywait 10000 ping_ok || fail "XDP_ABORTED: no ping after xdp_aborted was detached"
log "ok: XDP_ABORTED: $N_DROP datagrams counted, none to the stack"

# g. MTU: frames are at most 3520 bytes with XDP without frags, so the
# MTU is at most 3502 (3520 - Ethernet header - VLAN tag) while such a
# program is attached, and such a program cannot be attached above it.
mtu() { ip netns exec "$NSB" cat /sys/class/net/vnapi2/mtu; }
mtu_set() { ip -n "$NSB" link set dev vnapi2 mtu "$1" 2>/dev/null; }
xdp_attach "$NSB" vnapi2 "$TMP/xdp.o" pass
mtu_set 9000 && fail "MTU 9000 accepted with a program attached"
check_eq "MTU after refused 9000" "$(mtu)" 1500
mtu_set 3503 && fail "MTU 3503 accepted with a program attached"
check_eq "MTU after refused 3503" "$(mtu)" 1500
mtu_set 3502 || fail "MTU 3502 refused with a program attached"
check_eq "MTU after 3502" "$(mtu)" 3502
xdp_detach "$NSB" vnapi2
for m in 3503 9000; do
	mtu_set $m || fail "MTU $m refused without a program"
	check_eq "MTU after $m without a program" "$(mtu)" $m
	ip -n "$NSB" link set dev vnapi2 xdpdrv obj "$TMP/xdp.o" sec xdp/pass 2>/dev/null &&
		fail "xdp_pass attached with MTU $m"
	check_eq "XDP program after a refused attach at MTU $m" "$(xdp_prog "$NSB" vnapi2)" "0 -"
done
mtu_set 3502 || fail "MTU 3502 refused"
xdp_attach "$NSB" vnapi2 "$TMP/xdp.o" pass && xdp_detach "$NSB" vnapi2
mtu_set 1500 || fail "MTU 1500 refused"
check_eq "MTU restored" "$(mtu)" 1500
busywait 10000 ping_ok || fail "no ping after the MTU changes"
log "ok: MTU: at most 3502 with a program without frags, no such program above 3502"

# g2. Multi-buffer XDP: a program with frags (section xdp.frags) takes
# frames longer than a page, the part beyond the first page in frags, and
# so an MTU of 9000.  Its programs abort any selected UDP frame whose
# length, frags included, is not that of its datagram.  At MTU 9000 on
# both ends:
# - a program without frags cannot replace it;
# - XDP_PASS: 4 MB over TCP intact, in frames longer than a page (the
#   segments of vnapi1's TSO, segmented for the program);
# - XDP_TX: N datagrams of 8000 bytes reflected, all back to the sender
#   with their payloads;
# - XDP_DROP: N_DROP datagrams of 8000 bytes dropped, none to the stack;
# - XDP_REDIRECT: N datagrams of 8000 bytes to vnapi3, whose ndo_xdp_xmit
#   sends them, frags and all, to vnapi4: NSC receives all;
# - the MTU may change while it is attached.
# Their frags come from the page pools and go back: the check of the
# pools at the end counts every page.
BIG=8000
for f in pass drop_udp tx_reflect; do
	bpf_obj "$TMP/frags_$f.o" -DUDP_PORT=$PORT_TX -DFRAGS=$f
done
# frags_attach OBJ: OBJ's xdp_frags attached to vnapi2 (replacing any).
frags_attach() {
	local err
	err=$(ip -force -n "$NSB" link set dev vnapi2 xdpdrv obj "$1" sec xdp.frags 2>&1) ||
		fail "attaching xdp_frags of $(basename "$1") to vnapi2 at MTU $(mtu) failed: $(echo "$err" | tail -n2 | tr '\n' ' ')"
	check_eq "XDP program of vnapi2 after attaching $(basename "$1")" "$(xdp_prog "$NSB" vnapi2)" "1 xdp_frags"
}
mtu_set 9000 || fail "MTU 9000 refused without a program"
ip -n "$NSA" link set dev vnapi1 mtu 9000 || fail "MTU 9000 on vnapi1 refused"
frags_attach "$TMP/frags_pass.o"
if err=$(ip -force -n "$NSB" link set dev vnapi2 xdpdrv obj "$TMP/xdp.o" sec xdp/pass 2>&1); then
	fail "xdp_pass (no frags) replaced xdp_frags at MTU 9000"
elif [[ "$err" != *"MTU too large for XDP"* ]]; then
	fail "xdp_pass (no frags) replacing xdp_frags at MTU 9000 failed, but not for the MTU: $(echo "$err" | tail -n2 | tr '\n' ' ')"
fi
check_eq "XDP program after a refused replacement at MTU 9000" "$(xdp_prog "$NSB" vnapi2)" "1 xdp_frags"

mark
tcp_transfer "multi-buffer XDP_PASS" "$NSA" "$NSB" 10.0.0.2 5002 "$TMP/data"
passed_all "multi-buffer XDP_PASS"
# 4 MB in frames of up to 9014 bytes (the last segment of each of
# vnapi1's TSO frames is shorter): well over a page on average.
avg=$(($(delta "$B0" "$b" rx_bytes) / (passed > 0 ? passed : 1)))
[ "$avg" -gt 3520 ] ||
	fail "multi-buffer XDP_PASS: $avg bytes per frame passed, want more than a page holds (3520)"
log "ok: multi-buffer XDP_PASS: 4 MB over TCP intact, $passed frames of $avg bytes on average passed"

# frags_sent WHAT VERDICT NS DEV TX0: since the mark, vnapi2's program
# gave VERDICT (rx_xdp_tx, rx_xdp_redirect) to N frames and aborted none,
# and DEV in NS transmitted N frames of BIG + 42 bytes since its transmit
# statistics were TX0 ("packets bytes drops" of link_stats).
frags_sent() {
	local b tp tb td tp0 tb0 td0
	settle "$1" "$NSB" vnapi2 "$2" "$B0" $N
	b=$(counters "$NSB" vnapi2)
	check_eq "$1: ${2#rx_}, xdp_aborted of vnapi2" \
		"$(delta "$B0" "$b" "$2") $(delta "$B0" "$b" rx_xdp_aborted)" "$N 0"
	read -r tp0 tb0 td0 <<<"$5"
	read -r tp tb td <<<"$(link_stats "$3" "$4" tx)"
	check_eq "$1: packets, bytes and drops $4 transmitted (ip -s link)" \
		"$((tp - tp0)) $((tb - tb0)) $((td - td0))" "$N $((N * (BIG + 42))) 0"
	account "$1"
}
frags_attach "$TMP/frags_tx_reflect.o"
mark
tx0=$(link_stats "$NSB" vnapi2 tx)
got=$(udp_reflect $N $PORT_TX_SRC $BIG) || fail "multi-buffer XDP_TX: the reflecting client failed"
check_eq "multi-buffer XDP_TX: datagrams back with their payloads, duplicates, others" "$got" "$N 0 0"
frags_sent "multi-buffer XDP_TX" rx_xdp_tx "$NSB" vnapi2 "$tx0"
log "ok: multi-buffer XDP_TX: $N datagrams of $BIG bytes reflected, all back with their payloads"

frags_attach "$TMP/frags_drop_udp.o"
mark
udp_burst "$NSA" 10.0.0.2 $PORT_TX $N_DROP $BIG || fail "multi-buffer XDP_DROP: sending failed"
settle "multi-buffer XDP_DROP" "$NSB" vnapi2 rx_xdp_drop "$B0" $N_DROP
b=$(counters "$NSB" vnapi2)
check_eq "multi-buffer XDP_DROP: rx xdp_drop, xdp_aborted, frames to the stack of vnapi2" \
	"$(delta "$B0" "$b" rx_xdp_drop) $(delta "$B0" "$b" rx_xdp_aborted) $(delta "$B0" "$b" rx_frames)" "$N_DROP 0 0"
account "multi-buffer XDP_DROP"

mtu_set 1500 || fail "MTU 1500 refused with xdp_frags attached"
mtu_set 9000 || fail "MTU 9000 refused with xdp_frags attached"
check_eq "MTU with xdp_frags attached" "$(mtu)" 9000
log "ok: multi-buffer XDP_DROP: $N_DROP datagrams of $BIG bytes dropped; MTU 1500 and 9000 with a program with frags"

# Multi-buffer XDP_REDIRECT: as in e., with datagrams of BIG bytes: vnapi3
# transmits frames with frags (ndo_xdp_xmit), all of which reach NSC.
for d in "$NSB vnapi3" "$NSC vnapi4"; do
	read -r ns name <<<"$d"
	ip -n "$ns" link set dev "$name" mtu 9000 || fail "MTU 9000 on $name refused"
done
bpf_obj "$TMP/frags_redirect.o" -DUDP_PORT=$PORT_RD -DREDIRECT_IFINDEX="$if3" \
	-DREDIRECT_DMAC="0x${mac4//:/,0x}" -DFRAGS=redirect
frags_attach "$TMP/frags_redirect.o"
rm -f "$TMP/c.ready"
udp_collect "$NSC" 10.0.0.2 $PORT_RD $N "$TMP/c.ready" $BIG >"$TMP/c.out" &
rcv_c=$!
busywait 20000 test -e "$TMP/c.ready" || fail "multi-buffer XDP_REDIRECT: the receiver did not start"
mark
C0=$(counters "$NSB" vnapi3)
tx0=$(link_stats "$NSB" vnapi3 tx)
csum0=$(udp_csum_errors "$NSC")
udp_burst "$NSA" 10.0.0.2 $PORT_RD $N $BIG || fail "multi-buffer XDP_REDIRECT: sending failed"
wait $rcv_c || fail "multi-buffer XDP_REDIRECT: the receiver in $NSC failed"
check_eq "multi-buffer XDP_REDIRECT: datagrams received in $NSC, duplicates, others" "$(cat "$TMP/c.out")" "$N 0 0"
check_eq "multi-buffer XDP_REDIRECT: UDP checksum errors in $NSC" $(($(udp_csum_errors "$NSC") - csum0)) 0
frags_sent "multi-buffer XDP_REDIRECT" rx_xdp_redirect "$NSB" vnapi3 "$tx0"
c=$(counters "$NSB" vnapi3)
check_eq "multi-buffer XDP_REDIRECT: tx xdp_xmit, xdp_xmit_errors of vnapi3" \
	"$(delta "$C0" "$c" tx_xdp_xmit) $(delta "$C0" "$c" tx_xdp_xmit_errors)" "$N 0"
for d in "$NSB vnapi3" "$NSC vnapi4"; do
	read -r ns name <<<"$d"
	ip -n "$ns" link set dev "$name" mtu 1500 || fail "MTU 1500 on $name refused"
done
log "ok: multi-buffer XDP_REDIRECT: $N datagrams of $BIG bytes redirected to vnapi3, all received behind vnapi4"
xdp_detach "$NSB" vnapi2
mtu_set 1500 || fail "MTU 1500 refused"
ip -n "$NSA" link set dev vnapi1 mtu 1500 || fail "MTU 1500 on vnapi1 refused"
busywait 10000 ping_ok || fail "no ping after multi-buffer XDP"

# h. Receive metadata kfuncs, in a program bound to vnapi2 (bpftool's
# xdpmeta_dev): bpf_xdp_metadata_rx_hash() gives each datagram its flow's
# hash (the kernel's, as veth gives it), of type L4, the same for every
# datagram of a flow and another for another flow;
# bpf_xdp_metadata_rx_timestamp() is not supported (no hardware clock).
# The kfuncs resolve against the kernel's BTF: without it (the debug
# kernel's), this part is skipped.
# meta_dump: "PORT FRAMES HASHED L4 CHANGED HASH TS_RET" per source port.
meta_dump() {
	bpftool -j map dump pinned "$BPFFS/maps/meta" | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    f = e["formatted"]
    v = f["value"]
    print(f["key"], v["frames"], v["hashed"], v["l4"], v["changed"], v["hash"], v["ts_ret"])'
}
# meta_frames PORT: the datagrams from PORT xdp_meta saw.
meta_frames() { meta_dump | awk -v p="$1" '$1 == p { print $2 }'; }
meta_seen() { [ "$(meta_frames "$1")" = "$2" ]; }
if [ ! -e /sys/kernel/btf/vmlinux ]; then
	log "kernel without BTF (/sys/kernel/btf/vmlinux): metadata kfuncs not checked"
elif ! command -v bpftool >/dev/null; then
	[ "${RNM_STRICT:-0}" = 1 ] && fail "no bpftool for the metadata kfuncs"
	log "INFO: metadata kfuncs not checked: no bpftool"
else
	bpf_obj "$TMP/meta.o" -DMETA -DUDP_PORT=$PORT_META
	bpffs_mount
	err=$(ip netns exec "$NSB" bpftool prog loadall "$TMP/meta.o" "$BPFFS/progs" \
		type xdp xdpmeta_dev vnapi2 pinmaps "$BPFFS/maps" 2>&1) ||
		die "loading the programs bound to vnapi2 failed: $(echo "$err" | tail -n3 | tr '\n' ' ')"
	ip -n "$NSB" link set dev vnapi2 xdpdrv pinned "$BPFFS/progs/xdp_meta" ||
		fail "attaching the bound xdp_meta to vnapi2 failed"
	check_eq "XDP program of vnapi2 after attaching xdp_meta" "$(xdp_prog "$NSB" vnapi2)" "1 xdp_meta"
	for sport in $PORT_META_A $PORT_META_B; do
		ip netns exec "$NSA" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.1", int(sys.argv[1])))
for i in range(int(sys.argv[3])):
    s.sendto(b"vnapi xdp metadata".ljust(64, b"."), ("10.0.0.2", int(sys.argv[2])))
' $sport $PORT_META $N || fail "sending from port $sport failed"
		busywait 20000 meta_seen $sport $N ||
			fail "xdp_meta saw $(meta_frames $sport) datagrams from port $sport, want $N"
	done
	dump=$(meta_dump)
	ok=1
	for sport in $PORT_META_A $PORT_META_B; do
		read -r _ frames hashed l4 changed hash ts <<<"$(awk -v p=$sport '$1 == p' <<<"$dump")"
		check_eq "metadata of port $sport: datagrams, hashes, L4 hashes, changes" \
			"$frames $hashed $l4 $changed" "$N $N $N 0" || ok=0
		[ "${hash:-0}" != 0 ] || { fail "metadata of port $sport: hash 0"; ok=0; }
		# -EOPNOTSUPP
		check_eq "metadata of port $sport: rx_timestamp returned" "$ts" "-95" || ok=0
	done
	ha=$(awk -v p=$PORT_META_A '$1 == p { print $6 }' <<<"$dump")
	hb=$(awk -v p=$PORT_META_B '$1 == p { print $6 }' <<<"$dump")
	[ "$ha" != "$hb" ] || { fail "metadata: the two flows have one hash, $ha"; ok=0; }
	xdp_detach "$NSB" vnapi2
	rm -r "$BPFFS/progs" "$BPFFS/maps"
	[ $ok = 1 ] && log "ok: metadata kfuncs: rx_hash of $N datagrams of two flows" \
		"($ha, $hb), type L4; rx_timestamp not supported"
fi
busywait 10000 ping_ok || fail "no ping after the metadata kfuncs"

# i. Nothing attached, no verdict ever failed, no transmit to a peer
# failed; once the devices are deleted, no frame is left alive.
for dev in "$NSA vnapi1" "$NSB vnapi2" "$NSB vnapi3" "$NSC vnapi4"; do
	read -r ns name <<<"$dev"
	check_eq "XDP program of $name at the end" "$(xdp_prog "$ns" "$name")" "0 -"
	s=$(counters "$ns" "$name")
	check_eq "rx xdp_errors of $name over the test" "$(val "$s" rx_xdp_errors)" 0
	check_eq "tx xdp_xmit_errors of $name over the test" "$(val "$s" tx_xdp_xmit_errors)" 0
done
for d in 1 2 3 4; do
	echo $d >$VB/del_device || fail "del_device $d failed"
done
check_eq "live devices" "$(cat $VB/live_devices)" 0
check_eq "live frames" "$(cat $VB/live_frames)" 0
# A pool is freed once every page it gave out is back (the kernel checks
# about once a second): a page lost on any path keeps it listed.
if [ -n "$PP_IDS" ]; then
	busywait 20000 pp_gone "$PP_IDS" ||
		fail "page pools $PP_IDS of vnapi1 and vnapi2 still listed $((20 * RNM_TIMEOUT_SCALE)) s after the devices were deleted: pages not returned"
fi
rnm_rmmod vnapi

[ $RET = 0 ] && log "PASS: vnapi native XDP: pass, drop, tx, redirect, aborted, MTU limits, multi-buffer"
exit $RET
