#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The abstractions' run-time checks (rnm_testmod): the module misuses them
# from safe code at load and reports each case as a KTAP line.  A check
# that is missing shows as a failed case, a failed load, a hang (caught by
# the runner's time limit) or a report in the kernel log (caught by the
# runner's scan).

source "$(dirname "$0")/lib.sh"

# Built out of tree only, as bpf_testmod: by `make modules` for the stock
# kernel, and by scripts/debug-kernel.sh against the debug kernel, whose
# series does not carry it.
[ -f "$RNM_MODDIR/rnm_testmod.ko" ] ||
	skip "rnm_testmod.ko is not in $RNM_MODDIR (built out of tree only)"

# What RcuArc::replace refuses to free is leaked by design: two objects a
# load.  On a kernel with kmemleak, expect_leaks checks that what it
# reports is exactly those, allocated by rnm_testmod, and clears them, so
# that the runner's scan after the test still counts any other leak.
KMEMLEAK=/sys/kernel/debug/kmemleak
[ -w $KMEMLEAK ] || KMEMLEAK=

# expect_leaks N: kmemleak reports N objects, each with rnm_testmod in its
# allocation's backtrace (scanned while the module is loaded, so that its
# symbols resolve), and nothing else; they are cleared then.  An object is
# reported once it is 5 s old and a scan finds no reference to it.  On a
# mismatch the report is logged (its backtraces resolve only while the
# module is loaded) and nothing is cleared: the runner's scan after the
# test fails it too.
expect_leaks() {
	local want=$1 report total ours
	[ -n "$KMEMLEAK" ] || return 0
	# A failed scan (kmemleak turned itself off) ends the wait: the scan
	# below fails the test.
	busywait 30000 sh -c "echo scan >$KMEMLEAK || exit 0
		[ \$(grep -c '^unreferenced object' $KMEMLEAK) -ge $want ]"
	echo scan >$KMEMLEAK || { fail "kmemleak: scan failed (detector disabled?)"; return; }
	report=$(cat $KMEMLEAK)
	total=$(grep -c '^unreferenced object' <<<"$report")
	ours=$(awk '/^unreferenced object/ { n += mine; mine = 0 }
		/\[rnm_testmod\]/ { mine = 1 } END { print n + mine }' <<<"$report")
	log "kmemleak: $total unreferenced object(s), $ours of them allocated by rnm_testmod"
	if check_eq "objects kmemleak reports (RcuArc::replace's leaks)" "$total" "$want" &&
		check_eq "of them, allocated by rnm_testmod" "$ours" "$want"; then
		echo clear >$KMEMLEAK
	else
		sed 's/^/# /' <<<"$report" | head -n 80
	fi
}

# helper_icmp: the ICMP error case of the conntrack helper (see below).
helper_icmp() {
	local K=/sys/kernel/rnm_testmod C S
	setup_ns C S
	ip link add veth0 netns "$C" type veth peer name veth0 netns "$S" ||
		die "cannot create the veth pair"
	ip -n "$C" addr add 10.99.0.1/24 dev veth0
	ip -n "$S" addr add 10.99.0.2/24 dev veth0
	ip -n "$C" link set veth0 up
	ip -n "$S" link set veth0 up
	ip netns exec "$S" nft -f - <<-EOF || die "cannot load S's ruleset"
		table ip t {
			ct helper h { type "rnm_testmod" protocol tcp; }
			chain pre { type filter hook prerouting priority filter;
				tcp dport 7777 ct helper set "h"; }
			chain in { type filter hook input priority filter;
				ct state related icmp type destination-unreachable counter; }
		}
	EOF
	ip netns exec "$C" nft -f - <<-EOF || die "cannot load C's ruleset"
		table ip t {
			chain in { type filter hook input priority filter;
				tcp sport 7777 tcp flags & psh == psh reject with icmp type host-unreachable; }
		}
	EOF
	ip netns exec "$S" python3 -c '
import socket, time
s = socket.socket()
s.bind(("10.99.0.2", 7777))
s.listen()
c, _ = s.accept()
c.send(b"data")
time.sleep(600)
' &
	busywait 10000 tcp_listening "$S" 7777 || die "the server in S does not listen"
	ip netns exec "$C" python3 -c '
import socket, time
s = socket.create_connection(("10.99.0.2", 7777))
time.sleep(600)
' &
	busywait 20000 sh -c "ip netns exec $S nft list chain ip t in | grep -q 'counter packets [1-9]'" ||
		fail "no ICMP error related to the connection reached S"
	local calls related
	calls=$(cat $K/help_calls)
	related=$(cat $K/help_related)
	log "helper calls: $calls, of which for related packets: $related"
	[ "$calls" -gt 0 ] || fail "the helper was never called: not assigned to the connection"
	check_eq "helper calls for the ICMP error" "$related" 0
	# The ruleset's helper object holds the module until the ruleset is
	# gone, which nftables finishes in a work item.  (Deleting the
	# namespace would not do: the server's socket, orphaned with data
	# unacknowledged, holds it for minutes.)
	ip netns exec "$S" nft flush ruleset || fail "cannot flush S's ruleset"
	cleanup_ns
	busywait 20000 sh -c '[ "$(cat /sys/module/rnm_testmod/refcnt)" = 0 ]' ||
		fail "rnm_testmod still in use after the namespaces were deleted"
}

require_cmd ethtool nft python3 tc
ko=$(rnm_ko rnm_testmod) || exit $ksft_fail
rnm_load_deps "$ko" || die "cannot load the dependencies of rnm_testmod.ko"
before=$(dmesg | wc -l)
loaded=1
# Fails (EINVAL) if a case fails: the cases' lines below say which.
insmod "$ko" || { fail "insmod rnm_testmod.ko failed"; loaded=0; }
# Lines as printk gives them, after the caller's id if the kernel adds it
# (PRINTK_CALLER, as the debug kernel does: "[  T110] rnm_testmod: ...").
out=$(dmesg --notime | tail -n +"$((before + 1))" | sed -n 's/^\(\[ *[TC][0-9]*\] \)\{0,1\}rnm_testmod: //p')
echo "$out" | sed 's/^/# /'

check_eq "plan" "$(echo "$out" | grep -c '^1\.\.8$')" 1
check_eq "cases passed" "$(echo "$out" | grep -c '^ok [1-8] ')" 8
check_eq "cases failed" "$(echo "$out" | grep -c '^not ok')" 0
# Both RcuArc cases leak instead of waiting; the warning is printed once.
check_eq "replace warnings" \
	"$(echo "$out" | grep -c 'RcuArc::replace() where it may not sleep: the previous object is leaked')" 1

# sysfs: a show callback never returns a page or more (sysfs would warn);
# what does not fit fails with EFBIG.
if [ $loaded = 1 ]; then
	B=/sys/bus/rnm_testmod
	for f in page sloppy; do
		err=$(cat $B/$f 2>&1 >/dev/null) && fail "reading $f (more than sysfs takes) succeeded"
		case "$err" in
		*"too large"*) ;;
		*) fail "reading $f: '$err', want EFBIG (File too large)" ;;
		esac
	done
	check_eq "bytes of almost" "$(wc -c <$B/almost)" "$(($(getconf PAGESIZE) - 1))"

	# rnmt0's stop enables its NAPI context again: it must be disabled
	# once the device is down (threaded, a context has a thread while it
	# is added, which enabling does and disabling undoes).
	ip link set rnmt0 up || fail "ip link set rnmt0 up"
	echo 1 >/sys/class/net/rnmt0/threaded || fail "threaded NAPI on rnmt0"
	busywait 10000 pgrep '^napi/rnmt0-' >/dev/null || fail "no NAPI thread for rnmt0 up"
	ip link set rnmt0 down || fail "ip link set rnmt0 down"
	busywait 10000 sh -c "! pgrep '^napi/rnmt0-' >/dev/null" ||
		fail "rnmt0 down: its stop enabled its NAPI context again, and it stayed enabled"

	# rnmt0 claims u32::MAX channels of its one queue: the core gets one
	# (or ethtool -L would loop 2^32 times under RTNL; not run here, as
	# nothing could stop it).
	check_eq "rnmt0 channels (max, current)" \
		"$(ethtool -l rnmt0 | awk '/^Combined:/ {print $2}' | tr '\n' ' ')" "1 1 "

	# The conntrack helper rnm_testmod, called for every packet of its
	# connections, must not be called for an ICMP error related to one
	# (IP_CT_RELATED, which nf_confirm() hands to helpers): its transport
	# header is ICMP's.  A client in C connects to a server in S, whose
	# ruleset assigns the helper; C's ruleset rejects the server's data
	# with an ICMP error, which reaches S as related to the connection.
	helper_icmp
	expect_leaks 2
	rnm_rmmod rnm_testmod

	# Loaded again: the NAT helper name of rnm_testmod, dropped while the
	# module is live, must stay registered, and keep the module loaded:
	# tc act_ct gives back the module reference it took through it by
	# finding it again by name (nf_nat_helper_put(), which would WARN, and
	# keep the reference, if it were gone).  The module stays loaded for
	# the rest of the boot (the test can run once a boot).
	insmod "$ko" || die "insmod rnm_testmod.ko (again) failed"
	refs=$(cat /sys/module/rnm_testmod/refcnt)
	# The tc ct action (act_ct) needs a kernel with NET_ACT_CT, which
	# needs the flow table (NF_FLOW_TABLE): the debug kernel leaves them
	# out, as the flow table adds to struct net, which would rebuild most
	# of that kernel.  Without act_ct the name is dropped with nothing
	# holding it, and the module must stay loaded all the same.
	act_ct=1
	if ! modinfo act_ct >/dev/null 2>&1; then
		act_ct=0
	elif ! modprobe act_ct; then
		die "cannot load act_ct"
	fi
	if [ $act_ct = 1 ]; then
		tc actions add action ct commit nat src addr 10.99.0.9 helper ipv4-tcp-rnm_testmod index 7777 ||
			die "cannot add a tc ct action with the helper rnm_testmod and NAT"
	else
		log "no act_ct in this kernel: the NAT helper name is dropped while no tc action holds it"
	fi
	echo 1 >$B/drop_nat || fail "writing drop_nat"
	dmesg | grep -q 'NAT helper name dropped while its module is live: kept, with the module' ||
		fail "the NAT helper name dropped at run time was not kept"
	if [ $act_ct = 1 ]; then
		tc actions del action ct index 7777 || fail "cannot delete the tc ct action"
	fi
	# act_ct frees its parameters, giving back its two references (the
	# helper's and the NAT helper name's), after an RCU grace period; the
	# kept name holds one.
	busywait 20000 sh -c "[ \$(cat /sys/module/rnm_testmod/refcnt) = $((refs + 1)) ]" ||
		fail "rnm_testmod's references: $(cat /sys/module/rnm_testmod/refcnt), want $((refs + 1))"
	rmmod rnm_testmod 2>/dev/null && fail "rnm_testmod unloaded with its NAT helper name kept"
	expect_leaks 2
	log "rnm_testmod stays loaded: its NAT helper name was dropped at run time"
fi

[ $RET = 0 ] && log "PASS: run-time checks hold"
exit $RET
