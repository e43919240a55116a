#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Configure and build (or bring up to date) the debug kernel of the test
# VM: the kernel's defconfig, kernel/configs/kvm_guest.config, the
# kselftests' config, kernel/configs/debug.config (KASAN, lockdep,
# kmemleak, UBSAN, DEBUG_NET, the refcount trackers, ...) and
# scripts/debug-kernel.config, built with LLVM (the kernel allows Rust
# with KASAN only when built with clang).  The build lives in the build
# root, outside the repository; a later run rebuilds incrementally and
# reconfigures only when a fragment changed.
#
# Every option the fragments ask for must be in the final .config, apart
# from those listed in scripts/debug-kernel.exceptions with a reason;
# otherwise the set-up fails naming the first missing one.
#
# Runs on the host (it enters the build root itself).  Prints the build
# directory (inside the build root).
#
# Usage: scripts/debug-kernel.sh

set -eo pipefail
. "$(dirname "$0")/lib.sh"

read -r _ KVER <"$RNM_ROOT/.rnm/kernel" || die "build root not set up: run scripts/setup.sh"
SRC=$RNM_KSRC/linux-source-$KVER
OUT=$RNM_DEBUG_KDIR
HOST_OUT=$RNM_ROOT$OUT
MAKE_ARGS="-C $SRC O=$OUT LLVM=-19"

fragments="$SRC/kernel/configs/kvm_guest.config $RNM_TOP/tools/testing/selftests/rnm/config $SRC/kernel/configs/debug.config $RNM_TOP/scripts/debug-kernel.config"

# A path of the build root as seen from the host (the repository is at
# the same path in both).
host_path() {
	case "$1" in "$RNM_TOP"/*) echo "$1" ;; *) echo "$RNM_ROOT$1" ;; esac
}

# The requested options, the last fragment winning, as NAME=VALUE.
requested() {
	local f
	for f in $fragments; do cat "$(host_path "$f")"; done |
		sed -n -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1=\2/p' \
			-e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1=n/p' |
		awk -F= '!($1 in v) { k[n++] = $1 } { v[$1] = $2 }
			END { for (i = 0; i < n; i++) print k[i] "=" v[k[i]] }'
}

key=$( (requested; cat "$RNM_TOP/scripts/debug-kernel.exceptions"; echo "$KVER") | sha256sum | cut -c1-16)
stamps=$RNM_ROOT/.rnm
# One configuration or build at a time.
exec 8>"$RNM_CACHE/.debug-lock"
flock 8

if [ "$(cat "$stamps/debug-config" 2>/dev/null)" != "$key" ]; then
	note "configuring the debug kernel in $OUT"
	rm -f "$stamps/debug-config" "$stamps/debug-build"
	in_root /bin/sh -ec "
		mkdir -p $OUT
		make -s $MAKE_ARGS defconfig
		cd $SRC && scripts/kconfig/merge_config.sh -m -O $OUT $OUT/.config $fragments >/dev/null
		make -s $MAKE_ARGS olddefconfig
	" >"$RNM_CACHE/debug-config.log" 2>&1 ||
		die "configuring the debug kernel failed, see $RNM_CACHE/debug-config.log"
	# Every requested option, with its value, or an exception.
	while IFS== read -r name val; do
		grep -q "^$name[[:space:]]" "$RNM_TOP/scripts/debug-kernel.exceptions" && continue
		if [ "$val" = n ]; then
			! grep -Eq "^$name=" "$HOST_OUT/.config" ||
				die "debug kernel: $name is $(grep "^$name=" "$HOST_OUT/.config" | cut -d= -f2), asked for n"
		else
			grep -qxF "$name=$val" "$HOST_OUT/.config" ||
				die "debug kernel: $name=$val asked for, .config has $(grep -E "^$name=|^# $name is" "$HOST_OUT/.config" || echo 'no such option')"
		fi
	done < <(requested)
	echo "$key" >"$stamps/debug-config"
fi

if [ ! -f "$stamps/debug-build" ] || [ "$(cat "$stamps/debug-build")" != "$key" ]; then
	note "building the debug kernel (long the first time; incremental after)"
	t0=$(date +%s)
	in_root make -s $MAKE_ARGS -j"$(nproc)" bzImage modules >"$RNM_CACHE/debug-build.log" 2>&1 ||
		die "building the debug kernel failed: $(grep -m1 -iE 'error|killed' "$RNM_CACHE/debug-build.log" || tail -n1 "$RNM_CACHE/debug-build.log") (see $RNM_CACHE/debug-build.log)"
	note "debug kernel built in $(($(date +%s) - t0)) s"
	echo "$key" >"$stamps/debug-build"
	rm -f "$stamps/debug-modules"
fi
# Its modules, where the guest takes them from (scripts/guest-init.sh).
if [ "$(cat "$stamps/debug-modules" 2>/dev/null)" != "$key" ]; then
	rm -rf "$HOST_OUT/.rnm-modroot"
	in_root make -s $MAKE_ARGS INSTALL_MOD_PATH=$OUT/.rnm-modroot INSTALL_MOD_STRIP=1 modules_install \
		>"$RNM_CACHE/debug-modules.log" 2>&1 ||
		die "installing the debug kernel's modules failed (see $RNM_CACHE/debug-modules.log)"
	echo "$key" >"$stamps/debug-modules"
fi
echo "$OUT"
