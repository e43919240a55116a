#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fuzz every cargo-fuzz target of every crate until they have executed
# RNM_FUZZ_RUNS inputs in all (default 10^7), then print that total.
#
# It goes in rounds of scripts/fuzz.sh, in which every target fuzzes for
# the same time: RNM_FUZZ_FIRST_ROUND seconds (default 60) in the first
# round, then as long as the rate seen so far says the rest takes, plus a
# quarter (the rate falls as the inputs found grow longer).  Each target starts a round from what it found in the previous
# ones (kept in a temporary directory for the whole run).  A crash stops
# the run, as in scripts/fuzz.sh.
#
# Usage: scripts/fuzz-all.sh

set -eo pipefail
. "$(dirname "$0")/lib.sh"
cd "$RNM_TOP"

goal=${RNM_FUZZ_RUNS:-10000000}
seconds=${RNM_FUZZ_FIRST_ROUND:-60}
crates=$(fuzz_crates)
[ -n "$crates" ] || die "no crate has fuzz targets"

RNM_FUZZ_CORPUS=$(mktemp -d)
export RNM_FUZZ_CORPUS
results=$(mktemp)
trap 'rm -rf "$RNM_FUZZ_CORPUS" "$results"' EXIT

start=$(date +%s)
# Seconds every target has fuzzed so far.
fuzzed=0
while :; do
	for crate in $crates; do
		scripts/fuzz.sh "$crate" "$seconds" | tee -a "$results"
	done
	fuzzed=$((fuzzed + seconds))
	total=$(awk '/^# fuzz .* executions in / { for (i = 1; i < NF; i++)
		if ($(i + 1) == "executions") n += $i } END { print n + 0 }' "$results")
	[ "$total" -gt 0 ] || die "no executions counted in the output of scripts/fuzz.sh"
	[ "$total" -lt "$goal" ] || break
	seconds=$(((goal - total) * fuzzed * 5 / (total * 4) + 1))
done
targets=$(sed -n 's/^# fuzz \([^:]*\):.*/\1/p' "$results" | sort -u | wc -l)
echo "# fuzz: $total executions of $targets targets in $(($(date +%s) - start)) s, no crash"
