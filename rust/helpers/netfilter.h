/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for the static inline conntrack, expectation and
 * sk_buff accessors used by rust/rnm/netfilter/.
 */
#ifndef RNM_HELPERS_NETFILTER_H
#define RNM_HELPERS_NETFILTER_H

#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

extern spinlock_t rnm_nf_help_lock;

struct net *rnm_nf_ct_net(const struct nf_conn *ct);

/*
 * The longest expectation timeout, in seconds: nf_ct_exp_is_expired()
 * compares deadlines as signed 32-bit jiffies, so timeout * HZ must fit
 * in an int.
 */
enum { RNM_NF_CT_EXPECT_TIMEOUT_MAX = INT_MAX / HZ };

int rnm_nf_ct_expect_related(struct nf_conntrack_expect *exp,
			     unsigned int flags);
int rnm_nf_ct_expect_related_limited(struct nf_conntrack_expect *exp,
				     unsigned int max_expected,
				     unsigned int timeout,
				     unsigned int *evicted);

void rnm_nf_ct_seqadj_tcp(struct sk_buff *skb, struct nf_conn *ct,
			  unsigned int ctinfo, unsigned int protoff, s32 off);

int rnm_skb_tcp_payload(struct sk_buff *skb, unsigned int protoff, u32 *seq,
			const u8 **data, unsigned int *len);

bool rnm_nf_ct_skb_is_own_l4(const struct sk_buff *skb, const struct nf_conn *ct);
u8 rnm_nf_ct_expect_l3num(const struct nf_conntrack_expect *exp);
const u8 *rnm_skb_frag_pointer(struct sk_buff *skb, unsigned int offset,
			       unsigned int len);

void *rnm_net_generic(const struct net *net, unsigned int id);

#endif /* RNM_HELPERS_NETFILTER_H */
