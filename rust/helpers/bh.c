// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for local_bh_disable()/local_bh_enable(). */

#include <linux/bottom_half.h>
#include <linux/irqflags.h>
#include <linux/preempt.h>

#include "bh.h"

void rnm_local_bh_disable(void)
{
	local_bh_disable();
}

void rnm_local_bh_enable(void)
{
	local_bh_enable();
}

/*
 * Whether softirqs cannot run here anyway: in hard interrupt context or with
 * interrupts disabled, where local_bh_disable()/local_bh_enable() must not
 * be called (local_bh_enable() warns there).
 */
bool rnm_local_bh_blocked(void)
{
	return in_hardirq() || irqs_disabled();
}
