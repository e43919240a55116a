#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Configure and build (or bring up to date) the debug kernel of the test
# VM, from the linux-source of the resolved version with the project's
# patch series applied (scripts/intree-patches.sh writes the same
# series): the kernel's defconfig, kernel/configs/kvm_guest.config, the
# kselftests' config, kernel/configs/debug.config (KASAN, lockdep,
# kmemleak, UBSAN, DEBUG_NET, the refcount trackers, ...) and
# scripts/debug-kernel.config, which builds the project's modules in tree
# as modules (=m).  Built with LLVM (the kernel allows Rust with KASAN
# only when built with clang).  The source tree (a git repository) and
# the build live in the build root, outside the repository; a later run
# applies the series again only if it changed, rebuilds incrementally
# (the kernel crate and what uses it, then vmlinux), and reconfigures
# only when a fragment changed.
#
# Every option the fragments ask for must be in the final .config, apart
# from those listed in scripts/debug-kernel.exceptions with a reason;
# otherwise the set-up fails naming the first missing one.
#
# The project's modules of this build are copied, with a modules.order,
# to $OUT/.rnm-intree/ (what the debug lane loads), and left out of the
# modules the guest's modprobe finds (so that a helper alias never loads
# them beside the C helpers a test asks for).
#
# Runs on the host (it enters the build root itself).  Prints the build
# directory (inside the build root).
#
# Usage: scripts/debug-kernel.sh

set -eo pipefail
. "$(dirname "$0")/lib.sh"

read -r _ KVER <"$RNM_ROOT/.rnm/kernel" || die "build root not set up: run scripts/setup.sh"
# The source: linux-source with the series applied, in a git tree.
SRC=/opt/rnm/intree/debug-src
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

stamps=$RNM_ROOT/.rnm
# One configuration or build at a time.
exec 8>"$RNM_CACHE/.debug-lock"
flock 8

# The patch series, applied to the source tree when it changed.  Its
# digest is part of the build's stamp (a changed series is rebuilt), not
# of the configuration's.
series=$RNM_CACHE/debug-series
rm -rf "$series"
mkdir -p "$series"
python3 "$RNM_TOP/scripts/intree/mkseries.py" "$(rnm_linux_src)" "$RNM_TOP" "$series" >/dev/null ||
	die "writing the patch series for the debug kernel failed"
series_key=$(cat "$series"/*.patch | sha256sum | cut -c1-16)

rnm_git_source "$RNM_ROOT$SRC"
if [ "$(cat "$stamps/debug-series" 2>/dev/null)" != "$series_key" ] ||
	! git -C "$RNM_ROOT$SRC" diff --quiet HEAD; then
	note "applying the patch series to $SRC"
	rm -f "$stamps/debug-series"
	mapfile -t patches < <(sed "s|^|$series/|" "$series/series")
	rnm_git_apply "$RNM_ROOT$SRC" "${patches[@]}" >"$RNM_CACHE/debug-series.log" 2>&1 ||
		die "the patch series does not apply to $(basename "$(rnm_linux_src)"): $(grep -m1 -i 'patch failed\|error' "$RNM_CACHE/debug-series.log" || tail -n1 "$RNM_CACHE/debug-series.log")"
	echo "$series_key" >"$stamps/debug-series"
fi

key=$( (requested; cat "$RNM_TOP/scripts/debug-kernel.exceptions"; echo "$KVER") | sha256sum | cut -c1-16)

# Every requested option, with its value, or an exception.
check_options() {
	local name val
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
}

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
	check_options
	echo "$key" >"$stamps/debug-config"
fi

if [ ! -f "$stamps/debug-build" ] || [ "$(cat "$stamps/debug-build")" != "$key $series_key" ]; then
	note "building the debug kernel (long the first time; incremental after)"
	t0=$(date +%s)
	# A series that changed a Kconfig file: its options settle first.
	in_root make -s $MAKE_ARGS olddefconfig >"$RNM_CACHE/debug-build.log" 2>&1 ||
		die "olddefconfig for the debug kernel failed (see $RNM_CACHE/debug-build.log)"
	check_options
	in_root make -s $MAKE_ARGS -j"$(nproc)" bzImage modules >>"$RNM_CACHE/debug-build.log" 2>&1 ||
		die "building the debug kernel failed: $(grep -m1 -iE 'error|killed' "$RNM_CACHE/debug-build.log" || tail -n1 "$RNM_CACHE/debug-build.log") (see $RNM_CACHE/debug-build.log)"
	note "debug kernel built in $(($(date +%s) - t0)) s"
	echo "$key $series_key" >"$stamps/debug-build"
	rm -f "$stamps/debug-modules"
fi
# Its modules, where the guest takes them from (scripts/guest-init.sh).
if [ "$(cat "$stamps/debug-modules" 2>/dev/null)" != "$key $series_key" ]; then
	rm -rf "$HOST_OUT/.rnm-modroot"
	in_root make -s $MAKE_ARGS INSTALL_MOD_PATH=$OUT/.rnm-modroot INSTALL_MOD_STRIP=1 modules_install \
		>"$RNM_CACHE/debug-modules.log" 2>&1 ||
		die "installing the debug kernel's modules failed (see $RNM_CACHE/debug-modules.log)"
	# The project's modules: not for modprobe (see above).
	in_root /bin/sh -ec "
		cd $OUT/.rnm-modroot/lib/modules/*/
		rm -f kernel/samples/rust/rust_sysctl_sample.ko kernel/net/netfilter/nf_conntrack_ftp_rs.ko \
			kernel/drivers/net/vnapi/vnapi.ko
		depmod -b $OUT/.rnm-modroot \$(basename \$PWD)
	" >>"$RNM_CACHE/debug-modules.log" 2>&1 ||
		die "removing the project's modules from the debug kernel's modules failed (see $RNM_CACHE/debug-modules.log)"
	echo "$key $series_key" >"$stamps/debug-modules"
fi
# The project's modules as built in tree, for the debug lane.
rm -rf "$HOST_OUT/.rnm-intree"
mkdir -p "$HOST_OUT/.rnm-intree"
for ko in samples/rust/rust_sysctl_sample net/netfilter/nf_conntrack_ftp_rs drivers/net/vnapi/vnapi; do
	[ -f "$HOST_OUT/$ko.ko" ] || die "debug kernel: $ko.ko was not built (is its option =m?)"
	cp "$HOST_OUT/$ko.ko" "$HOST_OUT/.rnm-intree/"
	echo "$(basename "$ko").o" >>"$HOST_OUT/.rnm-intree/modules.order"
done
echo "$OUT"
