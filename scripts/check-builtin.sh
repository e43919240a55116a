#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The project's modules built into the debug kernel (=y): build it
# (scripts/debug-kernel.sh --builtin), boot it once and run the FTP and
# vnapi tests that load nothing with parameters and unload nothing they
# cannot, with the debug lane's checks (kernel log, lockdep, kmemleak
# after each test).  Logs in out/logs-builtin/.
#
# Usage: scripts/check-builtin.sh [TEST...]

set -eo pipefail
. "$(dirname "$0")/lib.sh"
cd "$RNM_TOP"

tests=${*:-nf_conntrack_ftp_rs.sh vnapi_basic.sh}
scripts/debug-kernel.sh --builtin >out/debug-builtin.log 2>&1 ||
	die "building the built-in debug kernel failed: $(grep -m1 '^error' out/debug-builtin.log || tail -n1 out/debug-builtin.log)"
rm -rf out/logs-builtin
mkdir -p out/logs-builtin
# The debug kernel runs about ten times slower (see scripts/check.sh).
scripts/in-root.sh env RNM_VM_KERNEL=debug-builtin RNM_VM_TIMEOUT=5400 scripts/vm.sh \
	"RNM_STRICT=1 RNM_MODDIR=$RNM_TOP/out/logs-builtin RNM_LOGS=$RNM_TOP/out/logs-builtin RNM_KMEMLEAK=1 RNM_TIMEOUT_SCALE=10 RNM_TEST_TIMEOUT=2400 tools/testing/selftests/rnm/run_in_guest.sh $tests" 2>&1 |
	tee out/vm-debug-builtin.log | grep --line-buffered -E '^(ok|not ok|#|error:|1\.\.)'
# Every test must have passed (a skip is not a pass here).
n=0
for t in $tests; do
	grep -qE "^ok [0-9]+ $(basename "$t" .sh)\$" out/vm-debug-builtin.log ||
		die "built-in debug kernel: $(basename "$t" .sh) did not pass (see out/logs-builtin/)"
	n=$((n + 1))
done
echo "built-in debug kernel: $n tests passed"
