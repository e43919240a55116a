#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The suite of nf_conntrack_ftp_rs_nat.sh (FTP through masquerading and
# port-forwarding routers) with the kernel's nf_conntrack_ftp +
# nf_nat_ftp: what that test asserts of nf_conntrack_ftp_rs is what the C
# pair does, in the same kernel.  A test of its own, so that each stays
# well within the suite's time limit per test.

RNM_FTP_IMPLS=c RNM_NAT_NEGATIVE=0 exec "$(dirname "$0")/nf_conntrack_ftp_rs_nat.sh"
