// SPDX-License-Identifier: GPL-2.0
/* The out-of-line helpers the vnapi module's abstractions call. */
#include "../../../rust/helpers/bh.c"
#include "../../../rust/helpers/net.c"
