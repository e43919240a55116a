#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The compile-fail probes of the abstractions in rust/rnm/: each file in
# rust/probes/ is a misuse of an abstraction that must not compile.
#
# A probe is a module of a crate that has the abstractions at `crate::rnm`,
# as a leaf module has them.  It names the error it must fail with in a
# line `// probe-expect: REGEX` (an extended regular expression matched
# against rustc's output) and marks the line(s) of the misuse with a
# trailing `// probe-misuse`.  A probe passes when
#   - it fails to compile with an error matching REGEX, and
#   - the same file without the misuse lines compiles (so that it fails for
#     that reason and no other).
# Only type and borrow checking run (`--emit=metadata`), with the exact
# rustc command kbuild used for the vnapi module.
#
# Usage: scripts/probes.sh [NAME...]     (default: every probe)
# Prints one TAP line per probe; exits non-zero if any fails.
# Needs a built tree (`make modules`); runs inside the build root.

set -o pipefail
. "$(dirname "$0")/rustc-check.sh"
rustc_check_init out/probes scripts/probes.sh "$@"
out=out/probes

if [ $# -gt 0 ]; then
	probes=$(for n in "$@"; do echo "rust/probes/${n%.rs}.rs"; done)
else
	probes=$(ls rust/probes/*.rs 2>/dev/null)
fi
[ -n "$probes" ] || die "no probes in rust/probes/"

n=0
failed=0
for p in $probes; do
	n=$((n + 1))
	name=$(basename "$p" .rs)
	why=
	if [ ! -f "$p" ]; then
		why="no such probe $p"
	else
		expect=$(sed -n 's|^// probe-expect: ||p' "$p")
		if [ -z "$expect" ]; then
			why="no '// probe-expect:' line"
		elif ! grep -q '// probe-misuse$' "$p"; then
			why="no line marked '// probe-misuse'"
		fi
	fi
	if [ -z "$why" ]; then
		grep -v '// probe-misuse$' "$p" >"$out/$name.control.rs"
		# Both builds at once: they are independent.
		rustc_check "${name}_control" "$(rustc_root "${name}_control" "$out/$name.control.rs")" \
			"$out/$name.control.log" &
		control=$!
		rustc_check "$name" "$(rustc_root "$name" "$p")" "$out/$name.log"
		misuse=$?
		if ! wait $control; then
			why="does not compile without its misuse: see $out/$name.control.log"
		elif [ $misuse = 0 ]; then
			why="the misuse compiles"
		elif ! grep -Eq "$expect" "$out/$name.log"; then
			why="fails, but not with /$expect/: see $out/$name.log"
		fi
	fi
	if [ -z "$why" ]; then
		echo "ok $n probe $name"
	else
		echo "not ok $n probe $name # $why"
		failed=$((failed + 1))
	fi
done
echo "# probes: $((n - failed)) passed, $failed failed"
[ $failed = 0 ]
