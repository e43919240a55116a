#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every module the build produced loads into the running (stock) kernel and
# unloads again, three times, with default parameters.  The test runner
# scans the kernel log afterwards (relocation errors, warnings, leaks).

source "$(dirname "$0")/lib.sh"

order=$RNM_MODDIR/modules.order
[ -f "$order" ] || die "no $order: build the modules first"
mapfile -t kos < <(sed 's/\.o$/.ko/' "$order")
[ ${#kos[@]} -gt 0 ] || die "modules.order lists no module"

for ko in "${kos[@]}"; do
	ko=$RNM_MODDIR/$ko
	name=$(modinfo -F name "$ko")
	[ -n "$name" ] || { fail "modinfo cannot read $ko"; continue; }
	# The test module leaks by design; rnm_testmod.sh loads it.
	[ "$name" = rnm_testmod ] && continue
	rnm_load_deps "$ko" || fail "$name: cannot load its dependencies"
	for i in 1 2 3; do
		if ! insmod "$ko"; then
			fail "$name: insmod failed (round $i)"
			break
		fi
		grep -qx "$name" <(cut -d' ' -f1 /proc/modules) || fail "$name not in /proc/modules"
		if ! rmmod "$name"; then
			fail "$name: rmmod failed (round $i)"
			break
		fi
	done
	[ $RET = 0 ] && log "ok: $name loads and unloads"
done
exit $RET
