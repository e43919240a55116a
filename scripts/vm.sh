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
# instead, with its own modules and scripts/guest-init.sh as init, its
# root over 9p (on virtiofs it sees corrupted file pages under KASAN);
# RNM_VM_APPEND adds to its command line, RNM_VM_TIMEOUT (seconds) bounds
# its run.  RNM_VM_KERNEL=debug-builtin boots the same with the project's
# modules built in (scripts/debug-kernel.sh --builtin).
#
# RNM_VM_ICOUNT=SHIFT (TCG only) runs the guest with QEMU's instruction
# counter as its clock: each guest instruction takes 2^SHIFT ns of guest
# time, idle time is skipped, and both CPUs take turns on one host thread.
# The guest's timings then count instructions rather than host time
# (a host that is busy with other work can still move them some): for the
# benchmarks, to compare costs (not parallelism).  With the debug kernel
# too.
#
# Usage: scripts/vm.sh COMMAND

set -eo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/lib.sh"
[ "${RNM_IN_ROOT:-0}" = 1 ] || { echo "error: scripts/vm.sh runs inside the build root (scripts/in-root.sh)" >&2; exit 1; }

mkdir -p "$TOP/out"

icount=()
if [ -n "${RNM_VM_ICOUNT:-}" ]; then
	case "$RNM_VM_ICOUNT" in
	[0-9]|10) ;;
	*) echo "error: RNM_VM_ICOUNT is a shift from 0 to 10, not '$RNM_VM_ICOUNT'" >&2; exit 1 ;;
	esac
	[ "${RNM_KVM:-0}" = 1 ] && { echo "error: RNM_VM_ICOUNT needs TCG (RNM_KVM=0)" >&2; exit 1; }
	icount=(-icount "shift=$RNM_VM_ICOUNT,sleep=off")
fi

case "${RNM_VM_KERNEL:-stock}" in
stock) kdir= ;;
debug) kdir=$RNM_DEBUG_KDIR ;;
debug-builtin) kdir=$RNM_DEBUG_KDIR-builtin ;;
*) echo "error: RNM_VM_KERNEL is stock, debug or debug-builtin, not '$RNM_VM_KERNEL'" >&2; exit 1 ;;
esac
if [ -n "$kdir" ]; then
	# The debug kernel boots with QEMU directly and the project's own
	# minimal init (scripts/guest-init.sh): under TCG its boot through
	# virtme-ng's init (udev coldplug, tmpfiles, an uncached 9p root) takes
	# longer than the tests.
	kernel=$kdir/arch/x86/boot/bzImage
	[ -f "$kernel" ] || { echo "error: no debug kernel in $kdir: run scripts/debug-kernel.sh" >&2; exit 1; }
	mods=$kdir/.rnm-modroot
	[ -d "$mods/lib/modules" ] || { echo "error: the debug kernel's modules are not installed in $mods: run scripts/debug-kernel.sh" >&2; exit 1; }
	cmd=.vm-cmd-$$
	trap 'rm -f "$TOP/out/$cmd" "$TOP/out/$cmd.rc"' EXIT
	printf '%s\n' "$*" >"$TOP/out/$cmd"
	rm -f "$TOP/out/$cmd.rc"
	accel=tcg
	[ "${RNM_KVM:-0}" = 1 ] && accel=kvm
	# Under TCG the debug kernel runs about ten times slower, and the tests
	# scale their waits by ten (RNM_TIMEOUT_SCALE): the kernel's own
	# watchdogs get the same factor (RCU stall 21 s -> 210 s, soft lockup
	# 20 s -> 120 s, the most the kernel allows; hung task 120 s -> 1200 s),
	# so that a report means a CPU or task stuck, not a slow one.
	watchdogs=
	[ "$accel" = tcg ] &&
		watchdogs="rcupdate.rcu_cpu_stall_timeout=210 watchdog_thresh=60 sysctl.kernel.hung_task_timeout_secs=1200"
	# 4-level paging: with 5-level paging (-cpu max has LA57) some boots
	# get a KASAN wild-memory-access report from an interrupt taken at
	# 0.01 s (handle_edge_irq, during identify_cpu), which taints the
	# kernel and turns lockdep off for the whole boot.
	paging=no5lvl
	# Kernel messages stay in the log (the tests read it); the console
	# carries only the command's output.  The guest keeps its tests within
	# the budget; RNM_VM_TIMEOUT (seconds) bounds it from outside too, for
	# a guest that hangs.
	timeout -k 30 "${RNM_VM_TIMEOUT:-0}" qemu-system-x86_64 -machine "pc,accel=$accel" -cpu max -smp "${RNM_VM_CPUS:-2}" -m "${RNM_VM_MEM:-2G}" \
		-nodefaults -no-reboot -display none "${icount[@]}" \
		-chardev stdio,id=console,signal=off -serial chardev:console \
		-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root \
		-fsdev local,id=out,path="$TOP/out",security_model=none,multidevs=remap \
		-device virtio-9p-pci,fsdev=out,mount_tag=rnmout \
		-kernel "$kernel" \
		-append "console=ttyS0 rootfstype=9p rootflags=version=9p2000.L,trans=virtio,access=any,cache=loose,msize=262144 ro init=$TOP/scripts/guest-init.sh rnm_top=$TOP rnm_mods=$mods rnm_cmd=$cmd panic=-1 random.trust_cpu=on quiet loglevel=1 $paging $watchdogs ${RNM_VM_APPEND:-}" </dev/null |
		sed -u 's/\r$//' || true
	rc=$(cat "$TOP/out/$cmd.rc" 2>/dev/null) ||
		{ echo "error: the guest ended without an exit status (it hung, panicked or was stopped after RNM_VM_TIMEOUT)" >&2; rc=1; }
	exit "$rc"
fi

read -r REL _ </.rnm/kernel || { echo "error: build root has no kernel stamp" >&2; exit 1; }
kernel=/boot/vmlinuz-$REL
[ -f "$kernel" ] || { echo "error: $kernel missing from the build root" >&2; exit 1; }
accel=--disable-kvm
[ "${RNM_KVM:-0}" = 1 ] && accel=--force-kvm
qopts=()
[ ${#icount[@]} = 0 ] || qopts=(--qemu-opts="${icount[*]}")

# virtme-ng resolves the guest paths of --rodir/--rwdir relative to the
# current directory: run it from /.  Its output goes through one pipe:
# virtme-ng reopens its standard output and error for the guest's, each
# with an offset of its own, and with both redirected to one file
# (vm.sh ... >LOG 2>&1) the guest's stderr overwrote its stdout.
cd /
set +e
vng -r "$kernel" $accel --user root -m "${RNM_VM_MEM:-2G}" -p "${RNM_VM_CPUS:-2}" \
	"${qopts[@]}" --rwdir "$TOP/out" --cwd "$TOP" -- "$@" 2>&1 | cat
exit "${PIPESTATUS[0]}"
