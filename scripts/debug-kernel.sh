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
# With --builtin, the same kernel with the project's options built in
# (=y, scripts/debug-kernel-builtin.config, with conntrack and NAT built
# in too), in a build directory of its own ($RNM_DEBUG_KDIR-builtin).
# The first such build starts from a copy of the modular build, so that
# only what the options change is rebuilt.
#
# Runs on the host (it enters the build root itself).  Prints the build
# directory (inside the build root).
#
# Usage: scripts/debug-kernel.sh [--builtin]

set -eo pipefail
. "$(dirname "$0")/lib.sh"

BUILTIN=0
case "${1:-}" in
--builtin) BUILTIN=1 ;;
"") ;;
*) die "usage: scripts/debug-kernel.sh [--builtin]" ;;
esac

read -r _ KVER <"$RNM_ROOT/.rnm/kernel" || die "build root not set up: run scripts/setup.sh"
# The source: linux-source with the series applied, in a git tree.
SRC=/opt/rnm/intree/debug-src
OUT=$RNM_DEBUG_KDIR
fragments="$SRC/kernel/configs/kvm_guest.config $RNM_TOP/tools/testing/selftests/rnm/config $SRC/kernel/configs/debug.config $RNM_TOP/scripts/debug-kernel.config"
# The stamps of this build (the source tree's is shared).
sfx=
if [ $BUILTIN = 1 ]; then
	OUT=$RNM_DEBUG_KDIR-builtin
	fragments="$fragments $RNM_TOP/scripts/debug-kernel-builtin.config"
	sfx=-builtin
fi
HOST_OUT=$RNM_ROOT$OUT
MAKE_ARGS="-C $SRC O=$OUT LLVM=-19"

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

# The built-in kernel's first build starts from the modular one's objects.
if [ $BUILTIN = 1 ] && [ ! -d "$HOST_OUT" ] && [ -f "$RNM_ROOT$RNM_DEBUG_KDIR/vmlinux" ]; then
	note "copying the modular debug build to $OUT"
	rm -rf "$HOST_OUT.tmp"
	cp -a "$RNM_ROOT$RNM_DEBUG_KDIR" "$HOST_OUT.tmp" && rm -rf "$HOST_OUT.tmp/.rnm-modroot" "$HOST_OUT.tmp/.rnm-intree" &&
		mv "$HOST_OUT.tmp" "$HOST_OUT" || die "copying $RNM_DEBUG_KDIR to $OUT failed"
fi

if [ "$(cat "$stamps/debug-config$sfx" 2>/dev/null)" != "$key" ]; then
	note "configuring the debug kernel in $OUT"
	rm -f "$stamps/debug-config$sfx" "$stamps/debug-build$sfx"
	in_root /bin/sh -ec "
		mkdir -p $OUT
		make -s $MAKE_ARGS defconfig
		cd $SRC && scripts/kconfig/merge_config.sh -m -O $OUT $OUT/.config $fragments >/dev/null
		make -s $MAKE_ARGS olddefconfig
	" >"$RNM_CACHE/debug-config$sfx.log" 2>&1 ||
		die "configuring the debug kernel failed, see $RNM_CACHE/debug-config$sfx.log"
	check_options
	echo "$key" >"$stamps/debug-config$sfx"
fi

if [ ! -f "$stamps/debug-build$sfx" ] || [ "$(cat "$stamps/debug-build$sfx")" != "$key $series_key" ]; then
	note "building the debug kernel (long the first time; incremental after)"
	t0=$(date +%s)
	# A series that changed a Kconfig file: its options settle first.
	in_root make -s $MAKE_ARGS olddefconfig >"$RNM_CACHE/debug-build$sfx.log" 2>&1 ||
		die "olddefconfig for the debug kernel failed (see $RNM_CACHE/debug-build$sfx.log)"
	check_options
	in_root make -s $MAKE_ARGS -j"$(nproc)" bzImage modules >>"$RNM_CACHE/debug-build$sfx.log" 2>&1 ||
		die "building the debug kernel failed: $(grep -m1 -iE 'error|killed' "$RNM_CACHE/debug-build$sfx.log" || tail -n1 "$RNM_CACHE/debug-build$sfx.log") (see $RNM_CACHE/debug-build$sfx.log)"
	note "debug kernel built in $(($(date +%s) - t0)) s"
	echo "$key $series_key" >"$stamps/debug-build$sfx"
	rm -f "$stamps/debug-modules$sfx"
fi
# Its modules, where the guest takes them from (scripts/guest-init.sh).
if [ "$(cat "$stamps/debug-modules$sfx" 2>/dev/null)" != "$key $series_key" ]; then
	rm -rf "$HOST_OUT/.rnm-modroot"
	in_root make -s $MAKE_ARGS INSTALL_MOD_PATH=$OUT/.rnm-modroot INSTALL_MOD_STRIP=1 modules_install \
		>"$RNM_CACHE/debug-modules$sfx.log" 2>&1 ||
		die "installing the debug kernel's modules failed (see $RNM_CACHE/debug-modules$sfx.log)"
	# The project's modules: not for modprobe (see above).
	in_root /bin/sh -ec "
		cd $OUT/.rnm-modroot/lib/modules/*/
		rm -f kernel/samples/rust/rust_sysctl_sample.ko kernel/net/netfilter/nf_conntrack_ftp_rs.ko \
			kernel/drivers/net/vnapi/vnapi.ko
		depmod -b $OUT/.rnm-modroot \$(basename \$PWD)
	" >>"$RNM_CACHE/debug-modules$sfx.log" 2>&1 ||
		die "removing the project's modules from the debug kernel's modules failed (see $RNM_CACHE/debug-modules$sfx.log)"
	echo "$key $series_key" >"$stamps/debug-modules$sfx"
fi
# Built in: the three are in modules.builtin, and there is nothing to copy.
if [ $BUILTIN = 1 ]; then
	for ko in samples/rust/rust_sysctl_sample net/netfilter/nf_conntrack_ftp_rs drivers/net/vnapi/vnapi; do
		grep -qx "kernel/$ko.ko" "$HOST_OUT/modules.builtin" ||
			die "debug kernel (built in): $ko is not in modules.builtin (is its option =y?)"
	done
	echo "$OUT"
	exit 0
fi
# The project's modules as built in tree, for the debug lane.
rm -rf "$HOST_OUT/.rnm-intree"
mkdir -p "$HOST_OUT/.rnm-intree"
for ko in samples/rust/rust_sysctl_sample net/netfilter/nf_conntrack_ftp_rs drivers/net/vnapi/vnapi; do
	[ -f "$HOST_OUT/$ko.ko" ] || die "debug kernel: $ko.ko was not built (is its option =m?)"
	cp "$HOST_OUT/$ko.ko" "$HOST_OUT/.rnm-intree/"
	echo "$(basename "$ko").o" >>"$HOST_OUT/.rnm-intree/modules.order"
done
# The test module of rnm_testmod.sh, which the series does not carry: built
# against this kernel as an external module, as the BPF selftests build
# bpf_testmod against the kernel they test, from a fresh copy of its
# sources (the repository's own objects are the stock kernel's: git
# leaves them out, or, outside a git checkout, find leaves out kbuild's
# products in those paths: objects, their .cmd files, the bindings).
# Loaded by the test only, so not in modules.order.
tm=$OUT/.rnm-testmod
testmod_sources() {
	local paths="Kbuild rust scripts/rnm-bindgen.sh tools/testing/selftests/rnm/rnm_testmod_main.rs"
	# shellcheck disable=SC2086
	if git -C "$RNM_TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$RNM_TOP" ls-files -z -co --exclude-standard $paths
	else
		find $paths -type f ! -name '*.o' ! -name '*.cmd' ! -name bindings_generated.rs -print0
	fi
}
rm -rf "${RNM_ROOT:?}$tm"
mkdir -p "$RNM_ROOT$tm"
# (A tracked file deleted in the work tree is still listed: left out.)
(cd "$RNM_TOP" && testmod_sources | while IFS= read -r -d '' f; do [ ! -e "$f" ] || printf '%s\0' "$f"; done |
	xargs -0 cp -a --parents -t "$RNM_ROOT$tm/") ||
	die "copying rnm_testmod's sources to $tm failed"
in_root make -s $MAKE_ARGS M=$tm rnm_testmod.ko >"$RNM_CACHE/debug-testmod$sfx.log" 2>&1 ||
	die "building rnm_testmod against the debug kernel failed: $(grep -m1 -E '^error' "$RNM_CACHE/debug-testmod$sfx.log" || tail -n1 "$RNM_CACHE/debug-testmod$sfx.log") (see $RNM_CACHE/debug-testmod$sfx.log)"
cp "$RNM_ROOT$tm/rnm_testmod.ko" "$HOST_OUT/.rnm-intree/"
echo "$OUT"
