// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for local_bh_disable()/local_bh_enable(). */

#include <linux/bottom_half.h>

#include "bh.h"

void rnm_local_bh_disable(void)
{
	local_bh_disable();
}

void rnm_local_bh_enable(void)
{
	local_bh_enable();
}
