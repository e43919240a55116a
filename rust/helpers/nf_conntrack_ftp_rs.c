// SPDX-License-Identifier: GPL-2.0
/* The out-of-line helpers nf_conntrack_ftp_rs's abstractions call. */
#include "bh.c"
#include "sysfs.c"
#include "netfilter.c"
#include "nf_nat.c"
