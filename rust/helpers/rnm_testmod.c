// SPDX-License-Identifier: GPL-2.0
/*
 * The out-of-line helpers rnm_testmod's abstractions call: netfilter.c for
 * its conntrack helper and per-namespace data, which makes the module
 * depend on nf_conntrack, as the FTP helper does.
 */
#include "bh.c"
#include "net.c"
#include "sysfs.c"
#include "netfilter.c"
