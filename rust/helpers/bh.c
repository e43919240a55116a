// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for local_bh_disable()/local_bh_enable(). */

#include <linux/bottom_half.h>
#include <linux/irqflags.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>

#include "bh.h"

void rnm_local_bh_disable(void)
{
	local_bh_disable();
}

/*
 * With interrupts disabled, local_bh_enable() must not run pending softirqs
 * (it warns): _local_bh_enable() only ends the section, as __do_softirq()
 * does.  They run at the next interrupt exit or bottom-half enable.
 */
void rnm_local_bh_enable(void)
{
#ifndef CONFIG_PREEMPT_RT
	if (irqs_disabled()) {
		_local_bh_enable();
		return;
	}
#endif
	local_bh_enable();
}

/*
 * Whether local_bh_disable() must not be called: in hard interrupt context,
 * where softirqs cannot run anyway.  Interrupts disabled in process context
 * do not count: the caller may enable them again while it still relies on
 * bottom halves being disabled.  On PREEMPT_RT, where disabling bottom
 * halves takes a lock that may sleep, interrupts disabled count too.
 */
bool rnm_local_bh_blocked(void)
{
	return in_hardirq() || (IS_ENABLED(CONFIG_PREEMPT_RT) && irqs_disabled());
}

/*
 * Whether the current context may sleep, as far as the kernel can tell:
 * not atomic (interrupt context, bottom halves or interrupts disabled,
 * preemption disabled or a spinlock held) and not in an RCU read-side
 * critical section.  Without CONFIG_PREEMPT_COUNT the preempt count does
 * not see preemption disabled, so neither a spinlock held nor the read
 * lock of non-preemptible RCU; it always sees interrupt context and
 * bottom halves disabled.
 */
bool rnm_local_may_sleep(void)
{
	return !preempt_count() && !irqs_disabled() && !rcu_preempt_depth();
}

/*
 * spin_lock_bh() and spin_unlock_bh(), for the configurations where they
 * are not calls of an exported function (see rust/rnm/bh.rs, mod spin).
 */
void rnm_spin_lock_bh(spinlock_t *lock)
	__acquires(lock)
{
	spin_lock_bh(lock);
}

void rnm_spin_unlock_bh(spinlock_t *lock)
	__releases(lock)
{
	spin_unlock_bh(lock);
}
