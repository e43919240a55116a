#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite: set up (or reuse) the build root and kernel tree,
# build the modules, check that every compile-fail probe (rust/probes/)
# fails to build for its reason and that every example in the
# abstractions' documentation compiles, run the unit tests of the
# pure-logic crates, a bounded fuzzing run, and the kselftests in QEMU
# against the stock kernel, then, in the time left, against the debug kernel
# (KASAN, lockdep, kmemleak; scripts/debug-kernel.sh).  Ends with "N passed, N failed" (and skips, if
# any); exits non-zero on any failure.
#
# Usage: scripts/check.sh [--unit-only] [--no-fuzz]
# Environment: RNM_TESTS="a.sh b.sh" runs only those kselftests;
#              RNM_FUZZ_SECONDS (default 20) bounds each fuzz target;
#              RNM_DEBUG=0 leaves the debug kernel's lane out (quick
#              local runs; CI never sets it);
#              RNM_TIME_BUDGET (seconds, default 4500) bounds the whole.

set -o pipefail
. "$(dirname "$0")/lib.sh"
cd "$RNM_TOP"

UNIT_ONLY=0
FUZZ=1
for a in "$@"; do
	case "$a" in
	--unit-only) UNIT_ONLY=1 ;;
	--no-fuzz) FUZZ=0 ;;
	*) die "unknown option '$a'" ;;
	esac
done

passed=0
failed=0
skipped=0
start=$(date +%s)
mkdir -p out

result() { # result ok|fail|skip NAME [detail]
	case $1 in
	ok) passed=$((passed + 1)); echo "ok - $2" ;;
	skip) skipped=$((skipped + 1)); echo "ok - $2 # SKIP ${3:-}" ;;
	*) failed=$((failed + 1)); echo "not ok - $2${3:+ # $3}" ;;
	esac
}

summary() {
	[ -n "$debug_pid" ] && kill -- -"$debug_pid" 2>/dev/null
	local line="$passed passed, $failed failed"
	[ $skipped -gt 0 ] && line="$line, $skipped skipped"
	echo "# total time $(($(date +%s) - start))s"
	echo "$line"
	[ $failed = 0 ]
	exit
}

scripts/setup.sh >/dev/null || { result fail setup; summary; }
result ok setup

# The debug kernel builds in the background, at the
# lowest priority, in the time the steps below leave a core idle
# (single-threaded compiles, the guest waiting); its lane runs last.
DEBUG=${RNM_DEBUG:-1}
[ $UNIT_ONLY = 1 ] && DEBUG=0
debug_pid=
if [ $DEBUG = 1 ]; then
	debug_start=$(date +%s)
	# Its own process group, so that a check that ends early stops it
	# (the next run goes on incrementally).
	setsid nice -n 19 scripts/debug-kernel.sh </dev/null >out/debug-kernel.log 2>&1 &
	debug_pid=$!
fi

if scripts/in-root.sh make --no-print-directory modules >out/build.log 2>&1; then
	result ok build
else
	grep -E 'error|ERROR' out/build.log | head -n 20
	result fail build "see out/build.log"
	summary
fi

# The Debian package of the modules, checked with lintian; a kselftest
# installs it in the guest.
if [ $UNIT_ONLY = 0 ]; then
	if scripts/deb.sh >out/deb.log 2>&1; then
		result ok "deb (lintian clean)"
	else
		result fail deb "$(grep -m1 '^error' out/deb.log || tail -n1 out/deb.log)"
	fi
fi

# Compile-fail probes (each misuse of the abstractions must not compile)
# and the examples in the abstractions' documentation (each must compile).
if [ $UNIT_ONLY = 0 ]; then
	for kind in probes doctests; do
		scripts/$kind.sh >out/$kind.log 2>&1
		while read -r line; do
			case "$line" in
			"ok "*) result ok "${line#ok * }" ;;
			"not ok "*)
				line=${line#not ok * }
				result fail "${line%% # *}" "${line#* # }" ;;
			esac
		done <out/$kind.log
		grep -q "^# $kind: " out/$kind.log ||
			{ tail -n 5 out/$kind.log; result fail "$kind" "see out/$kind.log"; }
	done
fi

# Unit tests of the pure-logic crates, with the build root's cargo.
for manifest in $(find . -name Cargo.toml -not -path './out/*' -not -path '*/fuzz/*' -not -path '*/target/*' | sort); do
	crate=$(dirname "$manifest")
	log=out/cargo-test-$(basename "$crate").log
	if scripts/in-root.sh sh -c "cd '$crate' && cargo test --offline --quiet" >"$log" 2>&1; then
		rc=0
	else
		rc=1
	fi
	p=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' "$log" | paste -sd+ | bc)
	f=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' "$log" | paste -sd+ | bc)
	echo "# cargo test $crate: ${p:-0} passed, ${f:-0} failed"
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ $rc != 0 ] && [ "${f:-0}" = 0 ]; then
		tail -n 20 "$log"
		result fail "cargo test $crate" "see $log"
	fi
done

# Bounded fuzzing with the host's nightly toolchain: 20 s a target, about a
# minute in all for the three targets there are (make fuzz fuzzes longer).
if [ $FUZZ = 1 ] && [ $UNIT_ONLY = 0 ]; then
	for crate in $(fuzz_crates); do
		if scripts/fuzz.sh "$crate" "${RNM_FUZZ_SECONDS:-20}"; then
			result ok "fuzz $crate"
		else
			result fail "fuzz $crate" "see out/fuzz-$(basename "$crate").log"
		fi
	done
fi

[ $UNIT_ONLY = 1 ] && summary

# kselftests in QEMU: one boot of KERNEL (stock or debug) runs them all,
# with the modules of MODDIR; results are named with PREFIX.  With
# DEADLINE (seconds since the epoch), the guest starts no test after it
# and stops one still running then (both reported as skips).
# Usage: vm_lane PREFIX KERNEL MODDIR LOGDIR DEADLINE TESTS...
vm_lane() {
	local prefix=$1 kernel=$2 moddir=$3 logs=$4 deadline=$5 vmlog t name line env vmt why late=
	shift 5
	vmlog=out/vm${prefix:+-$kernel}.log
	# Nothing of an earlier run may be read as this one's results.
	rm -f "$vmlog"
	env="RNM_STRICT=1 RNM_MODDIR=$moddir RNM_LOGS=$logs"
	vmt=0
	if [ -n "$deadline" ]; then
		env="$env RNM_DEADLINE=$deadline"
		# The guest as a whole ends at the latest shortly after the
		# deadline; with too little time to boot, it is not started.
		vmt=$((deadline + 270 - $(date +%s)))
		if [ $vmt -lt 600 ]; then
			skipped=$((skipped + $#))
			echo "ok - ${prefix}$# tests # SKIP no time left in the check's time budget"
			return
		fi
	fi
	# The debug kernel runs programs about ten times slower: every wait for
	# a condition may take ten times as long.
	[ "$kernel" = debug ] &&
		env="$env RNM_KMEMLEAK=1 RNM_TIMEOUT_SCALE=10 RNM_TEST_TIMEOUT=$DEBUG_TEST_TIMEOUT"
	rm -rf "$logs"
	mkdir -p "$logs"
	# shellcheck disable=SC2086
	scripts/in-root.sh env RNM_VM_KERNEL="$kernel" RNM_VM_TIMEOUT=$vmt scripts/vm.sh \
		"$env tools/testing/selftests/rnm/run_in_guest.sh $*" 2>&1 |
		tee "$vmlog" | grep --line-buffered -E '^(ok|not ok|#|error:)' |
		grep --line-buffered -v "# SKIP no time left" | sed "s/^/$prefix/"
	for t in "$@"; do
		name=$(basename "$t" .sh)
		line=$(grep -E "^(ok|not ok) [0-9]+ $name( |$)" "$vmlog" | tail -n1)
		case "$line" in
		# Tests the budget left no time for: counted, named on one line.
		"ok "*"# SKIP no time left"*) skipped=$((skipped + 1)) late="$late $name" ;;
		"ok "*"# SKIP"*) result skip "$prefix$name" "${line#*# SKIP}" ;;
		"ok "*) result ok "$prefix$name" ;;
		"not ok "*)
			# The guest's reason (exit status, kernel report), and the log.
			why=
			case "$line" in *" # "*) why="${line#* # }" ;; esac
			case "$why" in
			*"log ${logs#"$RNM_TOP"/}/"*) ;;
			*) why="${why:+$why; }log ${logs#"$RNM_TOP"/}/$name.log" ;;
			esac
			result fail "$prefix$name" "$why"
			;;
		*) result fail "$prefix$name" "no result: the VM died, see $vmlog" ;;
		esac
	done
	[ -z "$late" ] || echo "ok - ${prefix}$(echo $late | wc -w) tests # SKIP no time left in the check's time budget:$late"
}

tests=${RNM_TESTS:-$(sed -n 's/^TEST_PROGS += //p' tools/testing/selftests/rnm/Makefile | tr '\n' ' ')}
# shellcheck disable=SC2086
vm_lane "" stock "$RNM_TOP" "$RNM_TOP/out/logs" "" $tests

# The same tests on the debug kernel (KASAN, lockdep, kmemleak, UBSAN,
# DEBUG_NET, refcount trackers), with the modules it built in tree from
# the patch series (scripts/debug-kernel.sh).  Under TCG that kernel runs the suite
# far slower than CI's time allows (Documentation/rnm/building.rst): the
# lane runs the tests in order for as long as the budget lasts.
[ $DEBUG = 1 ] || summary
# The whole check keeps within RNM_TIME_BUDGET seconds (default 75
# minutes; CI stops at 90): a debug kernel still building 20 minutes
# before the end (a cold cache) skips the lane, the guest skips the tests
# that would start after the budget and stops one still running at its
# end, 5 minutes before it.  All of these are reported as skips.
budget=${RNM_TIME_BUDGET:-4500}
# The longest a test may take on the debug kernel (seconds).
DEBUG_TEST_TIMEOUT=${RNM_DEBUG_TEST_TIMEOUT:-2400}
while kill -0 "$debug_pid" 2>/dev/null && [ $(($(date +%s) - start)) -lt $((budget - 1200)) ]; do
	sleep 10
done
if kill -0 "$debug_pid" 2>/dev/null; then
	result skip "debug kernel lane" "debug kernel still building after $(($(date +%s) - start)) s (the next run goes on with it)"
	summary
fi
wait "$debug_pid"
rc=$?
debug_pid=
if [ $rc != 0 ]; then
	result fail "debug kernel" "$(grep -m1 '^error' out/debug-kernel.log || tail -n1 out/debug-kernel.log)"
	summary
fi
result ok "debug kernel (ready $(($(date +%s) - debug_start)) s after the start)"
# The project's modules as the debug kernel built them, in tree from the
# patch series (scripts/debug-kernel.sh).
dbg=$RNM_DEBUG_KDIR/.rnm-intree
if [ -f "$RNM_ROOT$dbg/modules.order" ]; then
	result ok "debug: modules built in tree ($(wc -l <"$RNM_ROOT$dbg/modules.order") modules)"
else
	result fail "debug: modules built in tree" "$RNM_ROOT$dbg/modules.order missing"
	summary
fi
# The lane seldom has the time for the whole suite: it starts with the
# first test the previous run's lane did not get to, so that successive
# runs cover all of it.  A run of chosen tests (RNM_TESTS) neither uses
# nor moves that place.
next=$RNM_CACHE/debug-lane-next
read -r -a order <<<"$tests"
if [ -z "${RNM_TESTS:-}" ]; then
	first=$(cat "$next" 2>/dev/null)
	for i in "${!order[@]}"; do
		[ "${order[$i]}" = "$first" ] && order=("${order[@]:$i}" "${order[@]:0:$i}") && break
	done
fi
vm_lane "debug: " debug "$dbg" "$RNM_TOP/out/logs-debug" \
	$((start + budget - 300)) "${order[@]}"
# The next run starts with the first test this one did not finish; or, if
# that was the first test (it needs more than a lane), with the one after
# it.  A lane that gave no result leaves the place as it was.
if [ -z "${RNM_TESTS:-}" ] && grep -qE '^(ok|not ok) [0-9]+ ' out/vm-debug.log 2>/dev/null; then
	first=
	for i in "${!order[@]}"; do
		grep -qE "^ok [0-9]+ $(basename "${order[$i]}" .sh) # SKIP (no time left|stopped after)" out/vm-debug.log ||
			continue
		first=${order[$i]}
		[ "$i" = 0 ] && first=${order[1]:-}
		break
	done
	if [ -n "$first" ]; then echo "$first" >"$next"; else rm -f "$next"; fi
fi
# Each kernel report of the debug lane, decoded (file:line) next to it.
read -r _ kver <"$RNM_ROOT/.rnm/kernel"
for f in out/logs-debug/*.dmesg; do
	[ -f "$f" ] && grep -qE 'Call Trace:|KASAN|UBSAN' "$f" || continue
	[ "$(date +%s)" -lt $((start + budget)) ] || { echo "# no time left to decode $f"; continue; }
	scripts/in-root.sh timeout 300 "$RNM_KSRC/linux-source-$kver/scripts/decode_stacktrace.sh" \
		"$RNM_DEBUG_KDIR/vmlinux" auto "$RNM_DEBUG_KDIR" <"$f" >"${f%.dmesg}.decoded" 2>&1 || true
done
# The first report of each test that failed on one, where CI's output
# keeps it: its first lines, decoded where that worked.
for f in out/logs-debug/*.dmesg; do
	[ -f "$f" ] || continue
	d=${f%.dmesg}.decoded
	[ -s "$d" ] || d=$f
	n=$(grep -m1 -nE "$(sed -n "s/^BAD='\(.*\)'$/\1/p" tools/testing/selftests/rnm/run_in_guest.sh)" "$d" | cut -d: -f1)
	[ -n "$n" ] || continue
	echo "# first report in $d:"
	tail -n +"$n" "$d" | head -n 30 | sed -E 's/^(\[[^]]*\] *)?/#   /'
done
summary
