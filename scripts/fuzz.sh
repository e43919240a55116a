#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every cargo-fuzz target of a crate for a bounded time, starting from
# the corpus kept in the repository (read-only: new inputs go to a
# temporary directory).  Uses the host's nightly toolchain; installs
# cargo-fuzz from crates.io when it is missing.  A crash fails the run and
# leaves the input in <crate>/fuzz/artifacts/.
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
	new=$(mktemp -d)
	seeds=corpus/$target
	[ -d "$seeds" ] || die "no corpus $crate/fuzz/$seeds for fuzz target $target"
	if ! cargo $tc fuzz run "$target" "$new" "$seeds" -- \
		-max_total_time="$seconds" -print_final_stats=1 >>"$log" 2>&1; then
		rm -rf "$new"
		die "fuzz target $target of $name failed, see $log and $crate/fuzz/artifacts/"
	fi
	rm -rf "$new"
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	echo "# fuzz $name/$target: $runs executions in ${seconds}s, no crash"
done
