#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check that every undefined symbol of every module is exported by the
# kernel's Module.symvers.  A Rust module built with another rustc, or
# against another kernel, references symbols the kernel does not have and
# fails to load; this finds it at build time, by name.
#
# Usage: scripts/check-symbols.sh MODULE.SYMVERS KO...

set -eo pipefail

symvers=$1
shift
[ -f "$symvers" ] || { echo "error: no $symvers" >&2; exit 1; }
exported=$(mktemp)
trap 'rm -f "$exported"' EXIT
awk '{ print $2 }' "$symvers" | sort -u >"$exported"
rc=0
for ko in "$@"; do
	missing=$(nm -u "$ko" | awk '{ print $2 }' | sort -u | comm -23 - "$exported")
	for sym in $missing; do
		echo "error: $ko: undefined symbol $sym is not exported by $symvers" >&2
		rc=1
	done
done
exit $rc
