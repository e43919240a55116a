#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check that the build root's toolchain is the one recorded in the kernel's
# config: same rustc, bindgen, C compiler and pahole.  A Rust module built by
# another rustc has symbol names that do not match the kernel's exports.
#
# Usage: scripts/check-toolchain.sh RELEASE

set -eo pipefail
. "$(dirname "$0")/lib.sh"

REL=$1
CFG=$RNM_ROOT/boot/config-$REL
[ -f "$CFG" ] || die "no kernel config $CFG in the build root"

cfg() { sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$CFG"; }

grep -q '^CONFIG_RUST=y' "$CFG" || die "kernel $REL has no CONFIG_RUST=y: it cannot load Rust modules"

want=$(cfg CONFIG_RUSTC_VERSION_TEXT)
have=$(in_root rustc --version 2>/dev/null) || die "rustc missing from the build root"
[ "$want" = "$have" ] || die "rustc is '$have', kernel $REL was built with '$want'"

want=$(cfg CONFIG_BINDGEN_VERSION_TEXT)
have=$(in_root bindgen --version 2>/dev/null) || die "bindgen missing from the build root"
[ "$want" = "$have" ] || die "bindgen is '$have', kernel $REL was built with '$want'"

want=$(cfg CONFIG_CC_VERSION_TEXT)
have=$(in_root x86_64-linux-gnu-gcc-14 --version 2>/dev/null | head -n1) || die "gcc-14 missing from the build root"
[ "$want" = "$have" ] || die "gcc is '$have', kernel $REL was built with '$want'"

want=$(cfg CONFIG_PAHOLE_VERSION)
have=$(in_root pahole --version 2>/dev/null | sed 's/^v//; s/\.//') || die "pahole missing from the build root"
[ "$want" = "$have" ] || die "pahole is '$have', kernel $REL was built with '$want'"
