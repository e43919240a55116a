/* SPDX-License-Identifier: GPL-2.0 */
/* Bottom-half disabling (rust/rnm/bh.rs). */
#ifndef RNM_HELPERS_BH_H
#define RNM_HELPERS_BH_H

#include <linux/types.h>

void rnm_local_bh_disable(void);
void rnm_local_bh_enable(void);
bool rnm_local_bh_blocked(void);

#endif /* RNM_HELPERS_BH_H */
