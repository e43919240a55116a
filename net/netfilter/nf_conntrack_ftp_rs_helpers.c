// SPDX-License-Identifier: GPL-2.0
/* Out-of-line helpers used by nf_conntrack_ftp_rs. */

#include "../../rust/helpers/bh.c"
#include "../../rust/helpers/netfilter.c"
