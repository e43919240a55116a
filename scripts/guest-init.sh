#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the debug kernel's guest (scripts/vm.sh, RNM_VM_KERNEL=debug).
# It does what virtme-ng's init does that the tests need, and nothing
# else: no udev coldplug and no systemd-tmpfiles, which take the debug
# kernel minutes under TCG and which no test needs.
#
# The root is the build root over 9p, read-only and cached (cache=loose:
# with no page cache every exec reads its libraries again over 9p), with
# tmpfs overlays where the tests write; the repository's out/ directory is
# a second, writable 9p mount.  The kernel passes the parameters it does
# not know as environment variables:
#   rnm_top   the repository (the same path as on the host)
#   rnm_mods  the kernel's modules (make modules_install of the debug tree)
#   rnm_cmd   the file under out/ that holds the command to run
# The command runs in the repository, its output on the console, its
# input empty; its exit status is written to $rnm_cmd.rc, then the guest
# powers off.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb

fatal() {
	echo "guest-init: $*" >/dev/console
	busybox poweroff -f
}

mount -t proc -o nosuid,noexec,nodev proc /proc
mount -t sysfs -o nosuid,noexec,nodev sys /sys
grep -q ' /dev devtmpfs' /proc/mounts || mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
# A fresh devtmpfs lacks what udev would add: bash's process
# substitution needs /dev/fd.
ln -sfn /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=0755 run /run
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

# Writable views of the directories tests and packages write to.
for d in /etc /usr /var /root /home /srv /opt; do
	[ -d "$d" ] || continue
	mkdir -p "/run/ovl$d/upper" "/run/ovl$d/work"
	mount -t overlay -o "xino=off,lowerdir=$d,upperdir=/run/ovl$d/upper,workdir=/run/ovl$d/work" \
		overlay "$d" || fatal "cannot overlay $d"
done
mount -t tmpfs tmpfs /var/log
mount -t tmpfs tmpfs /var/tmp

[ -n "$rnm_top" ] && [ -d "$rnm_top" ] || fatal "no repository (rnm_top=$rnm_top)"
mount -t 9p -o version=9p2000.L,trans=virtio,access=any,msize=262144 rnmout "$rnm_top/out" ||
	fatal "cannot mount $rnm_top/out"

kver=$(uname -r)
if [ -n "$rnm_mods" ]; then
	[ -d "$rnm_mods/lib/modules/$kver" ] || fatal "no modules for $kver in $rnm_mods"
	mkdir -p "/lib/modules/$kver"
	mount --bind "$rnm_mods/lib/modules/$kver" "/lib/modules/$kver"
fi

hostname rnm-guest
ip link set lo up

cmd=$rnm_top/out/$rnm_cmd
[ -f "$cmd" ] || fatal "no command file $cmd"
stty -F /dev/console -onlcr 2>/dev/null
cd "$rnm_top" || fatal "cd $rnm_top"
setsid bash "$cmd" </dev/null >/dev/console 2>&1
echo $? >"$cmd.rc"
sync
busybox poweroff -f
