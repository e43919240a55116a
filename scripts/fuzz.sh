#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every cargo-fuzz target of a crate for a bounded time, starting from
# the corpus kept in the repository (read-only: new inputs go to a
# temporary directory, or with RNM_FUZZ_CORPUS=DIR to DIR/<crate>/<target>,
# kept for the next run).  Uses the host's nightly toolchain; installs
# cargo-fuzz from crates.io when it is missing.  A crash fails the run and
# leaves the input in <crate>/fuzz/artifacts/.  Prints a line per target
# with its number of executions.
#
# Targets that compare with the kernel's C (diff_c) take it from the build
# root's linux-source tree, or from RNM_LINUX_SRC.
#
# Usage: scripts/fuzz.sh CRATE_DIR SECONDS

set -eo pipefail
. "$(dirname "$0")/lib.sh"

crate=$(cd "$1" && pwd)
seconds=$2
name=$(basename "$crate")
log=$RNM_TOP/out/fuzz-$name.log
mkdir -p "$RNM_TOP/out"

command -v cargo >/dev/null || die "fuzzing needs the host's cargo (rustup)"
if [ -z "${RNM_LINUX_SRC:-}" ] && src=$(rnm_linux_src); then
	export RNM_LINUX_SRC=$src
fi
# cargo-fuzz needs nightly features (sanitizers); without a nightly
# toolchain, the stable one is allowed to use them.
if cargo +nightly --version >/dev/null 2>&1; then
	tc=+nightly
else
	tc=
	export RUSTC_BOOTSTRAP=1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
	note "installing cargo-fuzz"
	cargo install --locked cargo-fuzz >"$RNM_TOP/out/cargo-fuzz-install.log" 2>&1 ||
		die "cannot install cargo-fuzz, see out/cargo-fuzz-install.log"
fi

cd "$crate/fuzz"
: >"$log"
for target in $(cargo $tc fuzz list); do
	if [ -n "${RNM_FUZZ_CORPUS:-}" ]; then
		new=$RNM_FUZZ_CORPUS/$name/$target
		mkdir -p "$new"
	else
		new=$(mktemp -d)
	fi
	seeds=corpus/$target
	[ -d "$seeds" ] || die "no corpus $crate/fuzz/$seeds for fuzz target $target"
	rc=0
	cargo $tc fuzz run "$target" "$new" "$seeds" -- \
		-max_total_time="$seconds" -print_final_stats=1 >>"$log" 2>&1 || rc=$?
	[ -n "${RNM_FUZZ_CORPUS:-}" ] || rm -rf "$new"
	[ $rc = 0 ] || die "fuzz target $target of $name failed, see $log and $crate/fuzz/artifacts/"
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	echo "# fuzz $name/$target: $runs executions in ${seconds}s, no crash"
done
