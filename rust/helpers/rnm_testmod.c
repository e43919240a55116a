// SPDX-License-Identifier: GPL-2.0
/*
 * The out-of-line helpers rnm_testmod's abstractions call: netfilter.c for
 * rnm_net_generic() (per-namespace data), which makes the module depend on
 * nf_conntrack, as the FTP helper does.
 */
#include "bh.c"
#include "net.c"
#include "netfilter.c"
