#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the stock Debian kernel of the build root in QEMU with virtme-ng and
# run a command in the guest.  Runs inside the build root (see in-root.sh),
# which is also the guest's root filesystem; the repository is visible at
# the same path and its out/ directory is writable.
#
# TCG by default: nested KVM does not work on the machines this runs on.
# RNM_KVM=1 uses KVM.  RNM_VM_MEM and RNM_VM_CPUS size the guest.
# RNM_VM_KERNEL=debug boots the debug kernel (scripts/debug-kernel.sh)
# instead, with its own modules, over 9p (its root on virtiofs sees
# corrupted file pages under KASAN).
#
# Usage: scripts/vm.sh COMMAND

set -eo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/lib.sh"
[ "${RNM_IN_ROOT:-0}" = 1 ] || { echo "error: scripts/vm.sh runs inside the build root (scripts/in-root.sh)" >&2; exit 1; }

extra=()
if [ "${RNM_VM_KERNEL:-stock}" = debug ]; then
	kernel=$RNM_DEBUG_KDIR
	[ -f "$kernel/arch/x86/boot/bzImage" ] || { echo "error: no debug kernel in $kernel: run scripts/debug-kernel.sh" >&2; exit 1; }
	extra=(--force-9p)
else
	read -r REL _ </.rnm/kernel || { echo "error: build root has no kernel stamp" >&2; exit 1; }
	kernel=/boot/vmlinuz-$REL
	[ -f "$kernel" ] || { echo "error: $kernel missing from the build root" >&2; exit 1; }
fi
accel=--disable-kvm
[ "${RNM_KVM:-0}" = 1 ] && accel=--force-kvm 
mkdir -p "$TOP/out"

# virtme-ng resolves the guest paths of --rodir/--rwdir relative to the
# current directory: run it from /.
cd /
exec vng -r "$kernel" $accel "${extra[@]}" --user root -m "${RNM_VM_MEM:-2G}" -p "${RNM_VM_CPUS:-2}" \
	--rwdir "$TOP/out" --cwd "$TOP" -- "$@"
