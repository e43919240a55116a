// SPDX-License-Identifier: GPL-2.0
/* The out-of-line helpers the vnapi module's abstractions call. */
#include "bh.c"
#include "net.c"
#include "percpu_counter.c"
