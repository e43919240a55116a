#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite: set up (or reuse) the build root and kernel tree,
# build the modules, check that every compile-fail probe (rust/probes/)
# fails to build for its reason and that every example in the
# abstractions' documentation compiles, run the unit tests of the
# pure-logic crates, a bounded fuzzing run, and the kselftests in QEMU
# against the stock kernel.  Ends with "N passed, N failed" (and skips, if
# any); exits non-zero on any failure.
#
# Usage: scripts/check.sh [--unit-only] [--no-fuzz]
# Environment: RNM_TESTS="a.sh b.sh" runs only those kselftests;
#              RNM_FUZZ_SECONDS (default 60) bounds each fuzz target.

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
	local line="$passed passed, $failed failed"
	[ $skipped -gt 0 ] && line="$line, $skipped skipped"
	echo "# total time $(($(date +%s) - start))s"
	echo "$line"
	[ $failed = 0 ]
	exit
}

scripts/setup.sh >/dev/null || { result fail setup; summary; }
result ok setup

if scripts/in-root.sh make --no-print-directory modules >out/build.log 2>&1; then
	result ok build
else
	grep -E 'error|ERROR' out/build.log | head -n 20
	result fail build "see out/build.log"
	summary
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

# Bounded fuzzing with the host's nightly toolchain.
if [ $FUZZ = 1 ] && [ $UNIT_ONLY = 0 ]; then
	for manifest in $(find . -path '*/fuzz/Cargo.toml' -not -path '*/target/*' | sort); do
		crate=$(dirname "$(dirname "$manifest")")
		if scripts/fuzz.sh "$crate" "${RNM_FUZZ_SECONDS:-60}"; then
			result ok "fuzz $crate"
		else
			result fail "fuzz $crate" "see out/fuzz-$(basename "$crate").log"
		fi
	done
fi

[ $UNIT_ONLY = 1 ] && summary

# kselftests in QEMU.
tests=${RNM_TESTS:-$(sed -n 's/^TEST_PROGS += //p' tools/testing/selftests/rnm/Makefile | tr '\n' ' ')}
# shellcheck disable=SC2086
RNM_STRICT=1 scripts/in-root.sh env RNM_STRICT=1 scripts/vm.sh \
	"tools/testing/selftests/rnm/run_in_guest.sh $tests" 2>&1 | tee out/vm.log | grep -E '^(ok|not ok|#)'
seen=0
for t in $tests; do
	name=$(basename "$t" .sh)
	line=$(grep -E "^(ok|not ok) [0-9]+ $name( |$)" out/vm.log | tail -n1)
	case "$line" in
	"ok "*"# SKIP"*) result skip "$name" "${line#*# SKIP}" ;;
	"ok "*) result ok "$name" ;;
	"not ok "*) result fail "$name" "log out/logs/$name.log" ;;
	*) result fail "$name" "no result: the VM died, see out/vm.log" ;;
	esac
	seen=$((seen + 1))
done
summary
