/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for NAT helpers (rust/rnm/netfilter/nat.rs): the
 * NAT state of a connection, payload mangling with sequence adjustment,
 * expectations that follow the master's NAT, and NAT helper names.
 *
 * A module that links these depends on nf_nat.
 */
#ifndef RNM_HELPERS_NF_NAT_H
#define RNM_HELPERS_NF_NAT_H

#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>

/* The longest replacement text rnm_nf_nat_mangle_tcp() accepts, bytes. */
enum { RNM_NF_NAT_MANGLE_MAX = 512 };

bool rnm_nf_ct_is_nat(const struct nf_conn *ct);
int rnm_nf_nat_expect_related(struct nf_conntrack_expect *exp,
			      unsigned int dir, unsigned int max_expected,
			      unsigned int timeout, unsigned int *evicted,
			      u16 *port);
int rnm_nf_nat_mangle_tcp(struct sk_buff *skb, struct nf_conn *ct,
			  unsigned int ctinfo, unsigned int protoff,
			  unsigned int off, unsigned int len, const u8 *text,
			  unsigned int text_len);
struct nf_conntrack_nat_helper *
rnm_nf_nat_helper_register(const struct nf_conntrack_helper *helper,
			   struct module *me);
bool rnm_nf_nat_helper_unregister(struct nf_conntrack_nat_helper *nat);

#endif /* RNM_HELPERS_NF_NAT_H */
