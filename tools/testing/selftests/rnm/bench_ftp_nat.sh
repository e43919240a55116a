#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark (not part of the test suite): the cost of the FTP helper on a
# router, nf_conntrack_ftp_rs against nf_conntrack_ftp + nf_nat_ftp, in one
# boot, with the ratios Rust / C.  Two loads, each without and with NAT
# (the router masquerading the client):
#   - bulk: an iperf3 TCP stream to port 21 through the router with the
#     helper assigned, so that every segment goes through the helper;
#   - sessions: short control connections to port 21, each logging in
#     (USER) and announcing a data port (PORT), so that each makes the
#     helper create an expectation (and, with NAT, rewrite the command);
#     the script checks in the router's conntrack statistics that each
#     did.
# Each runs with no helper assigned (the router's own cost: conntrack,
# NAT, forwarding), with the C helper and with the Rust one (loaded with
# alt_name=1 beside the C pair, as "ftp-rs").
#
# The cost is the router's CPU time per MiB and per session.  All the
# namespaces share the guest's CPUs, so the router gets CPU 1 to itself:
# this script and everything it starts run on CPU 0, and receive packet
# steering sends what the router's two interfaces receive to CPU 1, and
# what the client's and the server's interfaces receive to CPU 0.  The
# router's work is then CPU 1's softirq time (including ksoftirqd's) in
# /proc/stat; CPU 1's other busy time (kernel workers, which run there
# whatever the load) is left out.  That time is sampled by the tick, in
# units of 10 ms: a run must be long enough for the difference to show.
# The client sends without TSO or GSO, so that the router sees (and the
# helper parses) every MTU-sized segment; BENCH_GSO=1 keeps them, and the
# router then forwards aggregates of up to 64 KiB, as it does those of a
# NIC with GRO (nf_conntrack_ftp linearizes each one).  Under
# emulation CPU time is the emulator's, not the hardware's, and single
# runs vary by tens of percent: the script runs each configuration
# briefly to warm up (discarded), then BENCH_ROUNDS rounds (default 3) of
# BENCH_SECONDS per load (default 10), rotating the order of the helpers,
# and compares medians.  "Rust/C" is the ratio of the router's whole cost;
# "helper Rust/C" the ratio of what each helper adds to the router's cost
# without a helper (noisier: a difference of two measurements).
#
# BENCH_PROFILE=1 adds the helpers' own cost, measured rather than
# derived from a difference: after the rounds, one run of each load per
# helper and configuration with perf sampling the router's CPU (cpu-clock,
# 10 kHz, with call chains); a sample counts for the helper when it was
# taken below the help function nf_confirm() calls (see helper_us), which
# includes what the helper calls in the core (expectations, NAT mangling,
# setting up sequence adjustment).  Printed in microseconds
# per MiB and per session, with the ratios Rust/C; BENCH_PROFILE_TOP=1
# also lists on stderr, for each run, the twelve functions the helper's
# samples were taken in most, in microseconds per unit, and
# BENCH_PROFILE_TOP=2 also the thirty places (function+offset, to read
# against objdump -d of the module).  Needs perf (linux-perf).
# A profiled run of 10 s holds a few hundred samples of a helper's
# sessions, and runs of the same helper differ by tens of percent:
# BENCH_PROFILE_ROUNDS=N (default 1) profiles each helper N times, in an
# order that rotates between C and Rust, and prints the medians;
# BENCH_PROFILE_LOADS="sessions" (default "bulk sessions") profiles only
# the loads named; BENCH_ROUNDS=0 (only with BENCH_PROFILE=1) leaves out
# the timed rounds and their table.  Separate runs see the emulator at
# different speeds; BENCH_PROFILE_MIXED=1 profiles the sessions of both
# helpers in the same run instead: the router gives each new control
# connection to C or to Rust by bit 1 of its source port (connect()
# picks even ports: bit 0 would not split them), and the
# samples are told apart by help function, the sessions by the Rust
# helper's expect_created counter (the rest of the router's expectations
# are C's); the ratio of each round is printed, and their median.
#
# Runs as root where the modules are built; in the project's VM:
#   scripts/in-root.sh scripts/vm.sh tools/testing/selftests/rnm/bench_ftp_nat.sh

source "$(dirname "$0")/ftp_lib.sh"
require_cmd ip nft conntrack iperf3 python3 taskset ethtool
PROF_TMP=
trap '[ -z "$PROF_TMP" ] || rm -rf "$PROF_TMP"; ftp_cleanup' EXIT
T=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (one for the router)"
taskset -pc 0 $$ >/dev/null || die "cannot pin the benchmark to CPU 0"
KINDS="none c rs"
PROFILE=${BENCH_PROFILE:-0}
case $PROFILE in
0 | 1) ;;
*) die "BENCH_PROFILE is 0 or 1, not '$PROFILE'" ;;
esac
PROFILE_ROUNDS=${BENCH_PROFILE_ROUNDS:-1}
PROFILE_LOADS=${BENCH_PROFILE_LOADS:-bulk sessions}
[[ "$ROUNDS" =~ ^[0-9]+$ ]] || die "BENCH_ROUNDS is a number, not '$ROUNDS'"
[[ "$PROFILE_ROUNDS" =~ ^[1-9][0-9]*$ ]] ||
	die "BENCH_PROFILE_ROUNDS is a number from 1, not '$PROFILE_ROUNDS'"
for l in $PROFILE_LOADS; do
	case $l in
	bulk | sessions) ;;
	*) die "BENCH_PROFILE_LOADS names bulk and sessions, not '$l'" ;;
	esac
done
[ -n "$PROFILE_LOADS" ] || die "BENCH_PROFILE_LOADS is empty"
MIXED=${BENCH_PROFILE_MIXED:-0}
case $MIXED in
0 | 1) ;;
*) die "BENCH_PROFILE_MIXED is 0 or 1, not '$MIXED'" ;;
esac
RS_SYS=/sys/kernel/nf_conntrack_ftp_rs
[ "$ROUNDS" -gt 0 ] || [ "$PROFILE" = 1 ] || die "BENCH_ROUNDS=0 needs BENCH_PROFILE=1"
# has_load LOAD: whether the profile runs LOAD.
has_load() { [[ " $PROFILE_LOADS " == *" $1 "* ]]; }
[ "$PROFILE" = 0 ] || require_cmd perf
declare -A HELPER=([none]="" [c]=ftp [rs]=ftp-rs)

# Every session leaves an expectation for about 10 s (until its control
# connection's entry goes): about 12000 live ones (profile_mixed prints
# the count), more than the default limit of four per bucket of the
# expectation hash table, whose size follows the memory (256 buckets from
# 1 to 4 GiB).  The limit is raised, and the table sized for it at the
# same four per bucket (nf_conntrack's expect_hashsize, set at load), as a
# router that keeps that many expectations would be set up: with the
# default size, each expectation created walks a chain of about fifty
# live ones, a cost of the core's table that both helpers pay alike and
# that would hide their own.
EXPECT_MAX=65536
if [ -d /sys/module/nf_conntrack ]; then
	die "nf_conntrack is loaded already (or built in): its expect_hashsize is set at load; run in a fresh boot"
fi
modprobe nf_conntrack expect_hashsize=$((EXPECT_MAX / 4)) || skip "no nf_conntrack"
EXPECT_HSIZE=$(cat /sys/module/nf_conntrack/parameters/expect_hashsize) ||
	die "cannot read nf_conntrack's expect_hashsize"
[ "$EXPECT_HSIZE" = $((EXPECT_MAX / 4)) ] ||
	die "nf_conntrack's expect_hashsize is $EXPECT_HSIZE, not $((EXPECT_MAX / 4))"
modprobe nf_nat || skip "no nf_nat"
modprobe nf_conntrack_ftp || die "cannot load nf_conntrack_ftp"
modprobe nf_nat_ftp || die "cannot load nf_nat_ftp"
rnm_insmod nf_conntrack_ftp_rs alt_name=1
sysctl -qw net.netfilter.nf_conntrack_expect_max=$EXPECT_MAX

ftp_topology
# rps DEV MASK in namespace NS.
rps() {
	nsx "$1" sh -c "echo $3 >/sys/class/net/$2/queues/rx-0/rps_cpus" || die "rps_cpus of $2"
}
rps "$NS_C" c0 1
rps "$NS_S" s0 1
rps "$NS_R" r0 2
rps "$NS_R" r1 2
SEGMENTS="MTU-sized segments (no TSO/GSO)"
if [ "${BENCH_GSO:-0}" = 1 ]; then
	SEGMENTS="TSO/GSO aggregates"
else
	nsx "$NS_C" ethtool -K c0 tso off gso off >/dev/null || die "ethtool -K c0"
fi
nsx "$NS_S" iperf3 -s -D -B $S4 -p 21 || die "iperf3 server"
nsx "$NS_S" python3 "$FTP_PEER" bench-server $E4 >/dev/null 2>&1 &
busywait 30000 ftp_listening 2 || die "servers not listening"

# masquerade NAT: with NAT "nat", the router masquerades the client.
masquerade() {
	[ "$1" = nat ] || return 0
	nsx "$NS_R" nft -f - <<-EOF || die "cannot load the masquerade" >&2
		table inet natb {
			chain post { type nat hook postrouting priority srcnat; policy accept;
				oifname "r1" masquerade
			}
		}
	EOF
}

# setup KIND NAT: the router's ruleset for one configuration.
setup() {
	ftp_firewall "${HELPER[$1]}"
	masquerade "$2"
	nsx "$NS_R" conntrack -F >/dev/null 2>&1
}

# setup_mixed NAT: both helpers at once, C for the control connections
# from a client port with bit 1 clear, Rust for the others (connect()
# takes even ports).
setup_mixed() {
	nsx "$NS_R" nft flush ruleset
	nsx "$NS_R" nft -f - <<-EOF || die "cannot load the mixed ruleset" >&2
		table inet fw {
			ct helper ftp-c { type "ftp" protocol tcp; }
			ct helper ftp-r { type "ftp-rs" protocol tcp; }
			chain pre { type filter hook prerouting priority filter; policy accept;
				tcp dport 21 tcp sport & 2 == 0 ct helper set "ftp-c"
				tcp dport 21 tcp sport & 2 == 2 ct helper set "ftp-r"
			}
			chain forward { type filter hook forward priority filter; policy drop;
				ct state established,related accept
				tcp dport 21 ct state new accept
			}
		}
	EOF
	masquerade "$1"
	nsx "$NS_R" conntrack -F >/dev/null 2>&1
}

# profile_mixed NAT SECONDS: prints "C_US RUST_US", each helper's own cost
# per session, from one run of the sessions load shared between them.
profile_mixed() {
	local t=$2 data=$PROF_TMP/perf.data e0 e1 r0 r1 out n failed nc nrs
	setup_mixed "$1"
	e0=$(expectations) || die "cannot read the expectation statistics" >&2
	r0=$(cat $RS_SYS/expect_created) || die "cannot read $RS_SYS/expect_created" >&2
	out=$(perf record -q -o "$data" -C 1 -e cpu-clock -F 10000 -g -- \
		ip netns exec "$NS_C" python3 "$FTP_PEER" bench-sessions $E4 "$t" 8) ||
		die "mixed $1: the sessions under perf failed" >&2
	read -r n failed <<<"$out"
	e1=$(expectations) || die "cannot read the expectation statistics" >&2
	r1=$(cat $RS_SYS/expect_created) || die "cannot read $RS_SYS/expect_created" >&2
	nrs=$((r1 - r0)) nc=$((e1 - e0 - r1 + r0))
	[ "$nc" -gt 0 ] && [ "$nrs" -gt 0 ] ||
		die "mixed $1: expectations of C $nc, of Rust $nrs: not both helpers ran" >&2
	[ $((nc + nrs)) -ge "${n:-1}" ] ||
		die "mixed $1: $n sessions created $((nc + nrs)) expectations, not one each" >&2
	[ "${failed:-0}" = 0 ] || log "mixed $1: $failed sessions failed" >&2
	log "mixed $1: $((nc + nrs)) expectations created, $(nsx "$NS_R" conntrack -L expect 2>/dev/null | wc -l) live at the end, in $EXPECT_HSIZE buckets" >&2
	perf script -i "$data" -F period,ip,sym 2>/dev/null |
		python3 "$(dirname "$0")/perf_chains.py" helpers "$nc" "$nrs" "${BENCH_PROFILE_TOP:-0}" ||
		die "mixed $1: no profile of the sessions" >&2
}

# cpu1: CPU 1's irq and softirq time in ms.
cpu1() {
	awk '$1 == "cpu1" { print ($7 + $8) * 10 }' /proc/stat
}

# expectations: the number of expectations created in the router's
# namespace so far (expect_create, summed over the CPUs).
expectations() {
	nsx "$NS_R" python3 -c '
rows = open("/proc/net/stat/nf_conntrack").read().split("\n")
i = rows[0].split().index("expect_create")
print(sum(int(r.split()[i], 16) for r in rows[1:] if r.strip()))'
}

# sessions KIND NAT SECONDS [PERF...]: runs the sessions load (under PERF
# if given) and prints "COMPLETED FAILED"; dies unless each completed
# session made an expectation (with a helper).
sessions() {
	local kind=$1 nat=$2 t=$3 e0 e1 out n failed
	shift 3
	# (Its output is read: failures are told on stderr.)
	e0=$(expectations) || die "cannot read the expectation statistics" >&2
	# (A command substitution, not a process substitution: it waits for
	# PERF to have written its data, and keeps its exit status.)
	out=$("$@" ip netns exec "$NS_C" python3 "$FTP_PEER" bench-sessions $E4 "$t" 8) ||
		die "$kind $nat: the sessions${1:+ under $1} failed" >&2
	read -r n failed <<<"$out"
	e1=$(expectations) || die "cannot read the expectation statistics" >&2
	[ "${n:-0}" -gt 0 ] || die "$kind $nat: no session completed" >&2
	[ -z "${HELPER[$kind]}" ] || [ $((e1 - e0)) -ge "$n" ] ||
		die "$kind $nat: $n sessions created $((e1 - e0)) expectations, not one each" >&2
	echo "$n ${failed:-0}"
}

# run KIND NAT SECONDS: prints "MBIT_S US_PER_MIB SESSIONS_S US_PER_SESSION"
run() {
	local t=$3 c0 c1 bytes n failed
	setup "$1" "$2"
	c0=$(cpu1)
	bytes=$(nsx "$NS_C" iperf3 -c $S4 -p 21 -t "$t" -J |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum_received"]["bytes"])') ||
		die "$1 $2: iperf3 failed" >&2
	c1=$(cpu1)
	local bulk="$(python3 -c "print('%.1f %.1f' % ($bytes * 8 / $t / 1e6, ($c1 - $c0) * 1000 / ($bytes / 2**20)))")"
	nsx "$NS_R" conntrack -F >/dev/null 2>&1
	c0=$(cpu1)
	read -r n failed < <(sessions "$1" "$2" "$t")
	c1=$(cpu1)
	[ "${n:-0}" -gt 0 ] || exit 1
	[ "${failed:-0}" = 0 ] || log "$1 $2: $failed sessions failed"
	echo "$bulk $(python3 -c "print('%.1f %.0f' % ($n / $t, ($c1 - $c0) * 1000 / $n))")"
}

# helper_us DATA UNITS: the microseconds per unit (UNITS of them in
# the run) of the router CPU's samples in DATA taken inside the helper:
# below the function that nf_confirm() calls other than its own
# confirmation and sequence adjustment, which is the helper's help
# function (C's help(), the Rust helper's help_callback() or the
# help_packet() it jumps to; told by place in the chain, not by name,
# which perf may not resolve in a module).
helper_us() {
	perf script -i "$1" -F period,ip,sym,symoff 2>/dev/null |
		python3 "$(dirname "$0")/perf_chains.py" helper "$2" "${BENCH_PROFILE_TOP:-0}"
}

# profile KIND NAT SECONDS: prints "US_PER_MIB US_PER_SESSION", the
# helper's own cost on the router's CPU in each load ("-" for a load
# BENCH_PROFILE_LOADS leaves out).
profile() {
	local t=$3 data=$PROF_TMP/perf.data bytes n failed bulk=- sessions=-
	setup "$1" "$2"
	if has_load bulk; then
		bytes=$(perf record -q -o "$data" -C 1 -e cpu-clock -F 10000 -g -- \
			ip netns exec "$NS_C" iperf3 -c $S4 -p 21 -t "$t" -J |
			python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum_received"]["bytes"])') ||
			die "$1 $2: iperf3 under perf failed" >&2
		bulk=$(helper_us "$data" "$(python3 -c "print($bytes / 2**20)")") ||
			die "$1 $2: no profile of the bulk run" >&2
		nsx "$NS_R" conntrack -F >/dev/null 2>&1
	fi
	if has_load sessions; then
		sessions "$1" "$2" "$t" perf record -q -o "$data" -C 1 -e cpu-clock -F 10000 -g -- \
			>"$PROF_TMP/sessions" || exit 1
		read -r n failed <"$PROF_TMP/sessions"
		sessions=$(helper_us "$data" "$n") || die "$1 $2: no profile of the sessions" >&2
	fi
	echo "$bulk $sessions"
}

# median VALUE...: their median, to three decimals (the mean of the two in
# the middle of an even count prints as 11.100000000000001 otherwise).
median() { python3 -c 'import statistics, sys; print(round(statistics.median(map(float, sys.argv[1:])), 3))' "$@"; }

[ "$ROUNDS" = 0 ] || for nat in plain nat; do
	for kind in $KINDS; do
		run $kind $nat 3 >/dev/null
	done
done
declare -A BW BC SR SC
order=$KINDS
for r in $(seq "$ROUNDS"); do
	for nat in plain nat; do
		for kind in $order; do
			read -r bw bc sr sc < <(run $kind $nat "$T")
			[ -n "$sc" ] || die "round $r: $kind $nat failed"
			BW[$kind-$nat]+=" $bw" BC[$kind-$nat]+=" $bc"
			SR[$kind-$nat]+=" $sr" SC[$kind-$nat]+=" $sc"
			printf '# round %d %-4s %-5s bulk %8s Mbit/s %8s us/MiB, sessions %6s/s %6s us each\n' \
				"$r" $kind $nat "$bw" "$bc" "$sr" "$sc"
		done
	done
	order="${order#* } ${order%% *}"
done
declare -A PB PS
# The loads profiled in separate runs of each helper.
SEPARATE=$PROFILE_LOADS
[ "$MIXED" = 0 ] || SEPARATE=${SEPARATE/sessions/}
declare -A PM
if [ "$PROFILE" = 1 ]; then
	PROF_TMP=$(mktemp -d)
	[ "$MIXED" = 0 ] || ! has_load sessions || for r in $(seq "$PROFILE_ROUNDS"); do
		for nat in plain nat; do
			read -r pc pr < <(profile_mixed $nat "$T")
			[ -n "$pr" ] || die "mixed profile of $nat failed"
			PS[c-$nat]+=" $pc" PS[rs-$nat]+=" $pr"
			PM[$nat]+=" $(python3 -c "print('%.3f' % ($pr / $pc))")"
			printf '# profile %d mixed %-5s helper C %6s, Rust %6s us per session: %s\n' \
				"$r" $nat "$pc" "$pr" "$(python3 -c "print('%.2f' % ($pr / $pc))")"
		done
	done
	order="c rs"
	[ -z "${SEPARATE// /}" ] || for r in $(seq "$PROFILE_ROUNDS"); do
		for nat in plain nat; do
			for kind in $order; do
				read -r pb ps < <(PROFILE_LOADS=$SEPARATE profile $kind $nat "$T")
				[ -n "$ps" ] || die "profile of $kind $nat failed"
				PB[$kind-$nat]+=" $pb"
				[ "$MIXED" = 1 ] || PS[$kind-$nat]+=" $ps"
				printf '# profile %d %-2s %-5s helper %8s us/MiB, %6s us per session\n' \
					"$r" $kind $nat "$pb" "$ps"
			done
		done
		order="${order#* } ${order%% *}"
	done
	for k in c-plain c-nat rs-plain rs-nat; do
		has_load bulk && PB[$k]=$(median ${PB[$k]}) || PB[$k]=-
		has_load sessions && PS[$k]=$(median ${PS[$k]}) || PS[$k]=-
	done
fi
nsx "$NS_R" nft flush ruleset
nsx "$NS_R" conntrack -F >/dev/null 2>&1

# row LABEL FORMAT ARRAY NAT COST: medians of none, C and Rust; for a cost,
# the ratios Rust/C of the whole and of what the helpers add.
row() {
	local label=$1 fmt=$2 nat=$4 cost=$5 k
	local -n a=$3
	declare -A m
	for k in $KINDS; do m[$k]=$(median ${a[$k-$nat]}); done
	printf "%-34s $fmt $fmt $fmt" "$label" "${m[none]}" "${m[c]}" "${m[rs]}"
	if [ "$cost" = cost ]; then
		python3 -c "
n, c, r = ${m[none]}, ${m[c]}, ${m[rs]}
print(' %8.2f %13s' % (r / c, '%.2f' % ((r - n) / (c - n)) if c - n > 0 else 'n/a'))"
	else
		echo
	fi
}

echo "router on CPU 1 (receive packet steering), client and server on CPU 0;"
if [ "$ROUNDS" -gt 0 ]; then
	echo "bulk in $SEGMENTS; medians of $ROUNDS rounds of ${T} s"
	printf '%-34s %10s %10s %10s %8s %13s\n' "" none C Rust Rust/C "helper Rust/C"
	for nat in plain nat; do
		what="no NAT"
		[ $nat = nat ] && what="masquerade"
		row "bulk, $what (Mbit/s)" '%10.1f' BW $nat
		row "bulk, $what (router us/MiB)" '%10.1f' BC $nat cost
		row "sessions, $what (per s)" '%10.1f' SR $nat
		row "sessions, $what (router us each)" '%10.0f' SC $nat cost
	done
fi
# prow LABEL C RUST: a row of the profile's table.
prow() {
	printf '%-34s %10s %10s %8s\n' "$1" "$2" "$3" "$(python3 -c "print('%.2f' % ($3 / $2))")"
}
if [ "$PROFILE" = 1 ]; then
	echo "the helpers' own cost on the router's CPU (perf, medians of $PROFILE_ROUNDS runs of ${T} s each):"
	[ "$MIXED" = 0 ] || ! has_load sessions ||
		echo "(sessions: both helpers in each run; last column: median of the runs' ratios)"
	printf '%-34s %10s %10s %8s\n' "" C Rust Rust/C
	for nat in plain nat; do
		what="no NAT"
		[ $nat = nat ] && what="masquerade"
		! has_load bulk ||
			prow "bulk, $what (helper us/MiB)" "${PB[c-$nat]}" "${PB[rs-$nat]}"
		! has_load sessions || if [ "$MIXED" = 1 ]; then
			printf '%-34s %10s %10s %8.2f\n' "sessions, $what (helper us each)" \
				"${PS[c-$nat]}" "${PS[rs-$nat]}" "$(median ${PM[$nat]})"
		else
			prow "sessions, $what (helper us each)" "${PS[c-$nat]}" "${PS[rs-$nat]}"
		fi
	done
fi
modprobe -r nf_nat_ftp nf_conntrack_ftp
rmmod nf_conntrack_ftp_rs
