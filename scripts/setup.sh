#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Create or complete the build root and the prepared kernel tree.
#
# The build root is a Debian trixie root (debootstrap) in a cache directory
# outside the repository ($RNM_CACHE, default /var/cache/rust-netmods).  It
# holds the exact toolchain recorded in the current trixie-backports kernel's
# config, that kernel's image, headers and source, QEMU, virtme-ng and the
# userspace tools of the tests.  Every step leaves a stamp only when it has
# completed, so an interrupted set-up is redone from the first missing stamp.
# A complete set-up is verified (packages present, toolchain versions, kernel
# tree) in a few seconds and reused.
#
# Usage: scripts/setup.sh [--repair] [--refresh]
#   --repair   reinstall packages missing from a complete build root
#   --refresh  resolve the current backports kernel again and update to it

set -eo pipefail
. "$(dirname "$0")/lib.sh"

REPAIR=0
REFRESH=0
for a in "$@"; do
	case "$a" in
	--repair) REPAIR=1 ;;
	--refresh) REFRESH=1 ;;
	*) die "unknown option '$a'" ;;
	esac
done

[ "$(id -u)" = 0 ] || die "setup needs root (debootstrap, chroot, mounts)"
# The Debian archive: the one the host's own apt uses (so that a machine
# behind a local mirror or proxy works unchanged), or RNM_MIRROR.
host_mirror() {
	apt-get indextargets --format '$(TARGET_OF) $(LABEL) $(REPO_URI)' 2>/dev/null |
		sed -n 's|^deb Debian \([^ ]*[^/]\)/*$|\1|p' | head -n1
}
MIRROR=${RNM_MIRROR:-$(host_mirror)}
[ -n "$MIRROR" ] || die "no Debian archive in the host's apt sources: set RNM_MIRROR to one"
# The host's apt proxy settings, for debootstrap and for apt in the root.
APT_PROXY=$(apt-config dump 2>/dev/null | grep -i '^Acquire::[a-z]*::Proxy ' || true)
http_proxy=${http_proxy:-$(apt-config dump 2>/dev/null |
	sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/Ip' | head -n1)}
[ -n "$http_proxy" ] && export http_proxy
STAMPS=$RNM_ROOT/.rnm
mkdir -p "$RNM_CACHE"

# Only one set-up at a time.
exec 9>"$RNM_CACHE/.lock"
flock 9

stamp() { [ -f "$STAMPS/$1" ]; }
set_stamp() { mkdir -p "$STAMPS"; printf '%s\n' "${2:-done}" >"$STAMPS/$1"; }
packages() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$RNM_TOP/scripts/packages.txt"; }

# 1. debootstrap.  A root without the stamp is an interrupted bootstrap:
#    start it again from nothing.
if ! stamp debootstrap; then
	command -v debootstrap >/dev/null || {
		note "installing debootstrap on the host"
		apt-get install -y -q debootstrap >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q debootstrap >/dev/null; } ||
			die "cannot install debootstrap on the host"
	}
	rm -rf "$RNM_ROOT"
	note "debootstrap trixie into $RNM_ROOT"
	debootstrap --variant=minbase trixie "$RNM_ROOT" "$MIRROR" \
		>"$RNM_CACHE/debootstrap.log" 2>&1 ||
		die "debootstrap failed, see $RNM_CACHE/debootstrap.log"
	cat >"$RNM_ROOT/etc/apt/sources.list" <<EOS
deb $MIRROR trixie main
deb $MIRROR trixie-updates main
deb $MIRROR trixie-backports main
EOS
	# Never start services inside the build root.
	printf '#!/bin/sh\nexit 101\n' >"$RNM_ROOT/usr/sbin/policy-rc.d"
	chmod +x "$RNM_ROOT/usr/sbin/policy-rc.d"
	echo 'APT::Install-Recommends "false";' >"$RNM_ROOT/etc/apt/apt.conf.d/90rnm"
	if [ -n "$APT_PROXY" ]; then
		printf '%s\n' "$APT_PROXY" >"$RNM_ROOT/etc/apt/apt.conf.d/80rnm-proxy"
	fi
	set_stamp debootstrap
fi

# 2. Resolve the kernel: the image trixie-backports' linux-image-amd64
#    depends on today.
if ! stamp kernel || [ $REFRESH = 1 ]; then
	note "resolving the current trixie-backports kernel"
	in_root apt-get update -q >"$RNM_CACHE/apt-update.log" 2>&1 ||
		die "apt-get update in the build root failed, see $RNM_CACHE/apt-update.log"
	img=$(in_root apt-cache depends -t trixie-backports linux-image-amd64 |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1)
	[ -n "$img" ] || die "no linux-image-amd64 in trixie-backports"
	rel=${img#linux-image-}
	ver=$(echo "$rel" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
	set_stamp kernel "$rel $ver"
	rm -f "$STAMPS/packages" "$STAMPS/tree"
fi
read -r REL KVER <"$STAMPS/kernel"

kernel_pkgs() {
	echo "linux-image-$REL linux-headers-$REL linux-source-$KVER"
}

# 3. Packages.  The compilers are pinned to trixie proper, because
#    backports carry newer ones than the kernel was built with
#    (check-toolchain.sh checks the result against the kernel's config).
#    The pins are rewritten on every run so that a repair uses them too.
cat >"$RNM_ROOT/etc/apt/preferences.d/rnm-toolchain" <<EOS
Package: rustc rust-src cargo rustfmt rust-clippy libstd-rust-* rust-llvm bindgen libclang-* clang-* lld-* llvm-* libllvm* gcc-14 gcc-14-* cpp-14 cpp-14-* libgcc-14-dev dwarves
Pin: release n=trixie
Pin-Priority: 1001
EOS
if ! stamp packages; then
	note "installing the build root's packages (kernel $REL)"
	# An installation interrupted in the middle of dpkg is finished first.
	in_root dpkg --configure -a >"$RNM_CACHE/apt-install.log" 2>&1 ||
		die "dpkg --configure -a in the build root failed, see $RNM_CACHE/apt-install.log"
	in_root apt-get update -q >"$RNM_CACHE/apt-update.log" 2>&1 ||
		die "apt-get update in the build root failed, see $RNM_CACHE/apt-update.log"
	# The kernel packages exist only in backports, with dependencies that
	# only backports satisfy (linux-base, libelf, ...): install from there.
	# shellcheck disable=SC2046
	in_root apt-get install -y -q --allow-downgrades -t trixie-backports $(kernel_pkgs) $(packages) \
		>>"$RNM_CACHE/apt-install.log" 2>&1 ||
		die "package installation failed: $(grep -E '^E:' "$RNM_CACHE/apt-install.log" | head -n1) (see $RNM_CACHE/apt-install.log)"
	in_root apt-get clean
	set_stamp packages "$(packages | sort -u | tr '\n' ' ')"
fi

# Packages the project added to its list since the root was made are
# installed now; packages of the list that went missing from the root are
# an error (or reinstalled with --repair).
# shellcheck disable=SC2046
added=$(packages | sort -u | comm -23 - <(tr ' ' '\n' <"$STAMPS/packages" | sed '/^$/d' | sort -u) | tr '\n' ' ')
if [ -n "$added" ]; then
	note "installing packages new to the list: $added"
	# shellcheck disable=SC2086
	in_root apt-get install -y -q --allow-downgrades -t trixie-backports $added \
		>"$RNM_CACHE/apt-install.log" 2>&1 ||
		die "installing $added failed: $(grep -E '^E:' "$RNM_CACHE/apt-install.log" | head -n1) (see $RNM_CACHE/apt-install.log)"
	set_stamp packages "$(packages | sort -u | tr '\n' ' ')"
fi

# Every package must still be there.
# shellcheck disable=SC2046
missing=$(in_root dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $(kernel_pkgs) $(packages) 2>&1 |
	awk '$1 != "ii" { print $NF }' | sed 's/.*package .\([^ ]*\)./\1/' | tr '\n' ' ' | sed 's/ $//') || true
if [ -n "$missing" ]; then
	if [ $REPAIR = 1 ]; then
		# shellcheck disable=SC2086
		in_root apt-get install -y -q --allow-downgrades -t trixie-backports $missing >"$RNM_CACHE/apt-install.log" 2>&1 ||
			die "reinstalling $missing failed (see $RNM_CACHE/apt-install.log)"
	else
		die "build root lacks package(s): $missing (run scripts/setup.sh --repair)"
	fi
fi

# 4. The toolchain must be the one the kernel was built with.
"$RNM_TOP/scripts/check-toolchain.sh" "$REL"

# The prepared .config must be Debian's: any other option value can change
# the layout of structures the modules share with the kernel (the module
# then builds, and fails to load).  Debian's published config lacks four
# options its build sets, which olddefconfig adds back with their defaults;
# they do not affect code generation or layout (build-id salt, signing at
# modules_install, key paths), so they are not compared.
check_config() {
	local skip='^(CONFIG_BUILD_SALT|CONFIG_MODULE_SIG_ALL|CONFIG_MODULE_SIG_KEY|CONFIG_SYSTEM_TRUSTED_KEYS)='
	local d
	d=$(diff <(grep -Ev "$skip" "$RNM_ROOT/boot/config-$REL") \
		<(grep -Ev "$skip" "$RNM_ROOT$RNM_KDIR/.config") | grep -m1 '^[<>]') || true
	[ -z "$d" ] || die "prepared .config differs from Debian's config-$REL (first difference: $d)"
}

# 5. The kernel tree: Debian's source and config, modules_prepare with the
#    same compiler, Debian's Module.symvers.
if ! stamp tree || [ "$(cat "$STAMPS/tree")" != "$REL" ]; then
	note "preparing the kernel tree for $REL (takes a few minutes)"
	in_root /bin/sh -ec "
		rm -rf $RNM_KSRC $RNM_KDIR
		mkdir -p $RNM_KSRC $RNM_KDIR
		tar -C $RNM_KSRC -xf /usr/src/linux-source-$KVER.tar.xz
		cp /boot/config-$REL $RNM_KDIR/.config
		make -s -C $RNM_KSRC/linux-source-$KVER O=$RNM_KDIR CC=x86_64-linux-gnu-gcc-14 olddefconfig
	" >"$RNM_CACHE/kbuild.log" 2>&1 || die "unpacking or configuring the kernel source failed, see $RNM_CACHE/kbuild.log"
	check_config
	in_root make -C $RNM_KSRC/linux-source-$KVER O=$RNM_KDIR CC=x86_64-linux-gnu-gcc-14 \
		KERNELRELEASE="$REL" -j"$(nproc)" modules_prepare >>"$RNM_CACHE/kbuild.log" 2>&1 ||
		die "modules_prepare failed: $(grep -m1 -E 'error' "$RNM_CACHE/kbuild.log") (see $RNM_CACHE/kbuild.log)"
	cp "$RNM_ROOT/usr/src/linux-headers-$REL/Module.symvers" "$RNM_ROOT$RNM_KDIR/Module.symvers"
	set_stamp tree "$REL"
fi
[ -f "$RNM_ROOT$RNM_KDIR/rust/libkernel.rmeta" ] ||
	die "kernel tree $RNM_KDIR has no Rust artefacts (rust/libkernel.rmeta)"
check_config
echo "$REL"
