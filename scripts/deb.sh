#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Package the modules built for the stock kernel as a Debian binary
# package, rust-netmods-modules-<release>, and check it with lintian:
#
#   /usr/lib/modules/<release>/updates/rnm/*.ko.xz
#        the modules, compressed as Debian compresses its own; updates/
#        comes before the kernel's own directories in depmod's search
#        order (on a merged-/usr system /lib/modules is the same place)
#   /usr/lib/modprobe.d/nf_conntrack_ftp_rs-<release>.conf
#        makes the helper alias nfct-helper-ftp, which nftables,
#        iptables' CT target, tc act_ct and Open vSwitch request for the
#        helper "ftp", load nf_conntrack_ftp_rs and never nf_conntrack_ftp
#        as well, and so does the NAT helper alias ip_nat_ftp; under a
#        kernel that has no nf_conntrack_ftp_rs they load nf_nat_ftp and
#        nf_conntrack_ftp.  Named after the release, so that the packages
#        for two kernels (as during an ABI change) install side by side.
#   postinst, postrm
#        depmod for <release>
#
# Runs on the host, after the modules are built (make deb builds them
# first).  Writes out/deb/<package>_<version>_amd64.deb and prints its path.
# The package's Maintainer is RNM_DEB_MAINTAINER ("Name <address>"), else
# the author of the last commit.
#
# Usage: scripts/deb.sh

set -eo pipefail
. "$(dirname "$0")/lib.sh"
cd "$RNM_TOP"

# On the host: what git knows (the build root has no git), then the rest
# inside the build root.
if [ "${RNM_IN_ROOT:-0}" != 1 ]; then
	if git rev-parse -q --verify HEAD >/dev/null 2>&1; then
		commit=$(git rev-parse HEAD)
		# A native version that orders builds by commit date.
		version=0.1+git$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)
		maint=${RNM_DEB_MAINTAINER:-$(git log -1 --format='%an <%ae>')}
		epoch=$(git log -1 --format=%ct)
	else
		[ -n "$RNM_DEB_MAINTAINER" ] || die "not a git checkout: set RNM_DEB_MAINTAINER=\"Name <address>\""
		commit=unknown version=0.1 maint=$RNM_DEB_MAINTAINER epoch=$(date +%s)
	fi
	in_root env RNM_DEB_COMMIT="$commit" RNM_DEB_VERSION="$version" \
		RNM_DEB_MAINTAINER="$maint" SOURCE_DATE_EPOCH="$epoch" scripts/deb.sh
	exit
fi

read -r REL _ </.rnm/kernel || die "build root has no kernel stamp"
MODULES="nf_conntrack_ftp_rs vnapi"
PKG=rust-netmods-modules-$REL
VERSION=$RNM_DEB_VERSION
MAINT=$RNM_DEB_MAINTAINER
DATE=$(date -R -u -d "@$SOURCE_DATE_EPOCH")
YEAR=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y)

for m in $MODULES; do
	[ -f "$m.ko" ] || die "$m.ko is not built: run make first"
	modinfo -F vermagic "$m.ko" | grep -q "^$REL " ||
		die "$m.ko was not built for $REL (vermagic $(modinfo -F vermagic "$m.ko"))"
done

out=$RNM_TOP/out/deb
stage=$out/$PKG
# Nothing of an earlier build may be taken for this one.
rm -rf "$out"
mkdir -p "$stage/DEBIAN" "$stage/usr/lib/modules/$REL/updates/rnm" \
	"$stage/usr/lib/modprobe.d" "$stage/usr/share/doc/$PKG"

for m in $MODULES; do
	# As Debian installs its own: INSTALL_MOD_STRIP=1, then compressed as
	# kbuild does for CONFIG_MODULE_COMPRESS_XZ.
	strip --strip-debug -o "$stage/$m.ko" "$m.ko"
	xz --check=crc32 --lzma2=dict=1MiB -c "$stage/$m.ko" >"$stage/usr/lib/modules/$REL/updates/rnm/$m.ko.xz"
	rm "$stage/$m.ko"
done

cat >"$stage/usr/lib/modprobe.d/nf_conntrack_ftp_rs-$REL.conf" <<'EOF'
# The FTP conntrack helper in Rust (nf_conntrack_ftp_rs) replaces the C
# one: the alias the kernel requests for the helper "ftp" loads it (an
# alias configured here comes before the modules' own aliases), so the
# two never compete for the name.  It does the NAT part of nf_nat_ftp
# too, and the NAT helper alias ip_nat_ftp loads it as well.  Under a
# kernel for which no nf_conntrack_ftp_rs is installed, nf_nat_ftp and
# nf_conntrack_ftp are loaded instead.
#
# To go back to nf_conntrack_ftp: remove this package, or override this
# file with an empty file of the same name in /etc/modprobe.d/; then
# unload nf_conntrack_ftp_rs (after removing the rulesets that use the
# helper) or reboot.
alias nfct-helper-ftp nf_conntrack_ftp_rs
alias ip_nat_ftp nf_conntrack_ftp_rs
install nf_conntrack_ftp_rs /sbin/modprobe --ignore-install nf_conntrack_ftp_rs $CMDLINE_OPTS || /sbin/modprobe nf_nat_ftp
EOF

cat >"$stage/usr/share/doc/$PKG/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: rust-netmods
Comment: Rust network modules: the FTP conntrack helper nf_conntrack_ftp_rs
 and the NAPI virtual network device vnapi.

Files: *
Copyright: $YEAR rust-netmods developers
License: GPL-2
 This program is free software; you can redistribute it and/or modify it
 under the terms of the GNU General Public License version 2 as published
 by the Free Software Foundation.
 .
 On Debian systems, the complete text of the GNU General Public License
 version 2 can be found in /usr/share/common-licenses/GPL-2.
EOF

{
	echo "$PKG ($VERSION) unstable; urgency=medium"
	echo
	echo "  * Built for Linux $REL from commit"
	echo "    $RNM_DEB_COMMIT."
	echo
	echo " -- $MAINT  $DATE"
} | gzip -9n >"$stage/usr/share/doc/$PKG/changelog.gz"

for s in postinst postrm; do
	cat >"$stage/DEBIAN/$s" <<EOF
#!/bin/sh
set -e
# The module index of the kernel the modules are for: they are found by
# modprobe, and by the helper alias, only after depmod.  On removal the
# kernel (or kmod) may be gone already.
case "\$1" in
configure | remove)
	if [ -d /lib/modules/$REL ] && command -v depmod >/dev/null; then
		depmod -a $REL
	fi
	;;
esac
EOF
	chmod 0755 "$stage/DEBIAN/$s"
done

find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f ! -path "$stage/DEBIAN/post*" -exec chmod 0644 {} +
(cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"

cat >"$stage/DEBIAN/control" <<EOF
Package: $PKG
Source: rust-netmods
Version: $VERSION
Architecture: amd64
Maintainer: $MAINT
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: linux-image-$REL | linux-image-$REL-unsigned, kmod
Section: kernel
Priority: optional
Description: Rust network modules for Linux $REL
 Out-of-tree kernel modules written in Rust, built for the Debian kernel
 $REL:
 .
  * nf_conntrack_ftp_rs, a netfilter conntrack helper for FTP that
    replaces nf_conntrack_ftp: it finds the data connections that PORT,
    EPRT, PASV and EPSV negotiate and registers the conntrack
    expectations that let a stateful firewall pass exactly those.
    Rulesets that name the helper "ftp" load it automatically.
  * vnapi, a virtual network device with a NAPI receive path, on its own
    bus (/sys/bus/vnapi).
EOF

deb=$out/${PKG}_${VERSION}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null ||
	die "dpkg-deb failed to build $deb"
lintian --fail-on error,warning --tag-display-limit 0 "$deb" >"$out/lintian.log" 2>&1 ||
	die "lintian: $(grep -m1 -E '^[EW]: ' "$out/lintian.log" || tail -n1 "$out/lintian.log") (see out/deb/lintian.log)"
echo "$deb"
