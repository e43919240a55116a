/* SPDX-License-Identifier: GPL-2.0 */
/* Bottom-half disabling (rust/rnm/bh.rs). */
#ifndef RNM_HELPERS_BH_H
#define RNM_HELPERS_BH_H

#include <linux/spinlock_types.h>
#include <linux/types.h>

void rnm_local_bh_disable(void);
void rnm_local_bh_enable(void);
bool rnm_local_bh_blocked(void);
bool rnm_local_may_sleep(void);
void rnm_spin_lock_bh(spinlock_t *lock);
void rnm_spin_unlock_bh(spinlock_t *lock);

#endif /* RNM_HELPERS_BH_H */
