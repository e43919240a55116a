// SPDX-License-Identifier: GPL-2.0
/*
 * The out-of-line helpers rnm_testmod's abstractions call: netfilter.c and
 * nf_nat.c for its conntrack helper, its NAT helper name and per-namespace
 * data, which make the module depend on nf_conntrack and nf_nat, as the
 * FTP helper does.
 */
#include "bh.c"
#include "net.c"
#include "sysfs.c"
#include "netfilter.c"
#include "nf_nat.c"
