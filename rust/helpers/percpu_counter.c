// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for the percpu_counter functions that are macros or
 * static inline functions, with CONFIG_SMP (percpu_counter_init() declares
 * a lock class key; percpu_counter_add() reads percpu_counter_batch) and
 * without it (every function is inline on a plain count).
 */

#include <linux/gfp.h>
#include <linux/percpu_counter.h>

#include "percpu_counter.h"

/*
 * percpu_counter_init() with GFP_KERNEL.  Every counter initialised here
 * gets the lock class of this call site: their locks never nest.
 */
int rnm_percpu_counter_init(struct percpu_counter *fbc, s64 value)
{
	return percpu_counter_init(fbc, value, GFP_KERNEL);
}

void rnm_percpu_counter_add(struct percpu_counter *fbc, s64 amount)
{
	percpu_counter_add(fbc, amount);
}

s64 rnm_percpu_counter_sum(struct percpu_counter *fbc)
{
	return percpu_counter_sum(fbc);
}

void rnm_percpu_counter_destroy(struct percpu_counter *fbc)
{
	percpu_counter_destroy(fbc);
}
