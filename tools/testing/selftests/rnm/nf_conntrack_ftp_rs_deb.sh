#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian package of the modules (make deb), as a user installs it:
# dpkg -i, then a firewall ruleset that names the helper "ftp".  The
# kernel requests nfct-helper-ftp, which must load nf_conntrack_ftp_rs
# (never nf_conntrack_ftp) without any depmod or modprobe by hand, and FTP
# must pass the firewall.  After dpkg -r the same ruleset must load the C
# helper again: the way back the package documents.

source "$(dirname "$0")/ftp_lib.sh"

rel=$(uname -r)
PKG=rust-netmods-modules-$rel
installed=0
deb_cleanup() {
	nsx "$NS_R" nft flush ruleset 2>/dev/null
	ftp_cleanup
	[ $installed = 1 ] && dpkg -r "$PKG" >/dev/null 2>&1
	lsmod | grep -q '^nf_conntrack_ftp_rs ' && rmmod nf_conntrack_ftp_rs
	lsmod | grep -q '^nf_conntrack_ftp ' && modprobe -r nf_conntrack_ftp
}
trap deb_cleanup EXIT

require_cmd dpkg modprobe nft conntrack curl python3 sha256sum ss
python3 -c 'import pyftpdlib' 2>/dev/null || require_cmd pyftpdlib
# The newest package built for the running kernel.
deb=$(ls "$RNM_TOP"/out/deb/"${PKG}"_*_amd64.deb 2>/dev/null | sort -V | tail -n1)
[ -n "$deb" ] || skip "no package for $rel in out/deb (make deb builds it for the stock kernel)"
modinfo nf_conntrack_ftp >/dev/null 2>&1 || skip "no nf_conntrack_ftp to compare with"
for m in nf_conntrack_ftp nf_conntrack_ftp_rs; do
	! lsmod | grep -q "^$m " || die "$m is already loaded (left by an earlier test)"
done
dpkg-query -W "$PKG" >/dev/null 2>&1 && die "$PKG is already installed"

# loaded_helper: the FTP helper module that is loaded, "none" or "both".
loaded_helper() {
	local c=0 rs=0
	lsmod | grep -q '^nf_conntrack_ftp ' && c=1
	lsmod | grep -q '^nf_conntrack_ftp_rs ' && rs=1
	case $c$rs in 00) echo none ;; 10) echo nf_conntrack_ftp ;; 01) echo nf_conntrack_ftp_rs ;; *) echo both ;; esac
}

# through_firewall WHO: the ruleset names the helper "ftp"; the kernel
# must load WHO for it, and FTP must pass.
through_firewall() {
	local who=$1
	check_eq "helper before the ruleset" "$(loaded_helper)" none
	ftp_firewall ftp
	check_eq "helper the ruleset loaded" "$(loaded_helper)" "$who"
	ftp_transfer "$who: curl IPv4 passive (PASV)" $CURL --disable-epsv "ftp://$S4/data.bin"
	ftp_transfer "$who: curl IPv4 active (PORT)" $CURL -P - --disable-eprt "ftp://$S4/data.bin"
	ftp_transfer "$who: curl IPv6 active (EPRT)" $CURL -P - "ftp://[$S6]/data.bin"
	nsx "$NS_R" nft flush ruleset
}

ftp_topology
ftp_servers
ftp_data 1
cd "$FTP_TMP" || die "cd"
CURL="curl -sS --connect-timeout 30 -o $FTP_TMP/out"

# Installed: the alias resolves to the Rust helper only.
dpkg -i "$deb" >"$FTP_TMP/dpkg.log" 2>&1 || die "dpkg -i: $(grep -m1 -i error "$FTP_TMP/dpkg.log" || tail -n1 "$FTP_TMP/dpkg.log")"
installed=1
path=$(modinfo -n nf_conntrack_ftp_rs 2>&1)
[[ "$path" == */lib/modules/$rel/updates/rnm/nf_conntrack_ftp_rs.ko.xz ]] ||
	fail "modinfo -n nf_conntrack_ftp_rs: '$path', want the package's module under updates/"
check_eq "nfct-helper-ftp resolves to" "$(modprobe -R nfct-helper-ftp 2>&1 | tr '\n' ' ')" "nf_conntrack_ftp_rs "
check_eq "ip_nat_ftp resolves to" "$(modprobe -R ip_nat_ftp 2>&1 | tr '\n' ' ')" "nf_conntrack_ftp_rs "
through_firewall nf_conntrack_ftp_rs

# Removed: the way back.  The loaded module stays until it is unloaded.
# nf_tables drops its reference to the helper's module after the flush,
# from a work item: wait for it.
busywait 30000 rmmod nf_conntrack_ftp_rs 2>/dev/null || die "rmmod nf_conntrack_ftp_rs: $(rmmod nf_conntrack_ftp_rs 2>&1)"
dpkg -r "$PKG" >"$FTP_TMP/dpkg.log" 2>&1 || die "dpkg -r: $(tail -n1 "$FTP_TMP/dpkg.log")"
installed=0
! modinfo nf_conntrack_ftp_rs >/dev/null 2>&1 || fail "nf_conntrack_ftp_rs still known to modprobe after dpkg -r"
[ ! -e "/usr/lib/modprobe.d/nf_conntrack_ftp_rs-$rel.conf" ] || fail "modprobe.d file left after dpkg -r"
check_eq "nfct-helper-ftp after dpkg -r" "$(modprobe -R nfct-helper-ftp 2>&1 | tr '\n' ' ')" "nf_conntrack_ftp "
check_eq "ip_nat_ftp after dpkg -r" "$(modprobe -R ip_nat_ftp 2>&1 | tr '\n' ' ')" "nf_nat_ftp "
through_firewall nf_conntrack_ftp
busywait 30000 modprobe -r nf_conntrack_ftp 2>/dev/null || fail "modprobe -r nf_conntrack_ftp: $(modprobe -r nf_conntrack_ftp 2>&1)"

[ $RET = 0 ] && log "PASS: the package installs, the ruleset loads the Rust helper, dpkg -r goes back to C"
exit $RET
