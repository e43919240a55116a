/* SPDX-License-Identifier: GPL-2.0 */
/* Per-CPU counters (rust/rnm/percpu_counter.rs). */
#ifndef RNM_HELPERS_PERCPU_COUNTER_H
#define RNM_HELPERS_PERCPU_COUNTER_H

#include <linux/types.h>

struct percpu_counter;

int rnm_percpu_counter_init(struct percpu_counter *fbc, s64 value);
void rnm_percpu_counter_add(struct percpu_counter *fbc, s64 amount);
s64 rnm_percpu_counter_sum(struct percpu_counter *fbc);
void rnm_percpu_counter_destroy(struct percpu_counter *fbc);

#endif /* RNM_HELPERS_PERCPU_COUNTER_H */
