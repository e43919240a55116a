// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for the static inline conntrack, expectation and
 * sk_buff accessors used by rust/rnm/netfilter/.
 */

#include <linux/string.h>

#include "netfilter.h"

u16 rnm_nf_ct_l3num(const struct nf_conn *ct)
{
	return nf_ct_l3num(ct);
}

void *rnm_nfct_help_data(const struct nf_conn *ct)
{
	return nfct_help_data(ct);
}

/* A snapshot, read without nf_conntrack_expect_lock. */
u8 rnm_nfct_help_expecting(const struct nf_conn *ct, unsigned int class)
{
	const struct nf_conn_help *help = nfct_help(ct);

	if (!help || class >= NF_CT_MAX_EXPECT_CLASSES)
		return 0;
	return READ_ONCE(help->expecting[class]);
}

/*
 * Copies the tuple of direction @dir: addresses as the 16 bytes of
 * union nf_inet_addr (network order), TCP/UDP ports in host order.
 */
void rnm_nf_ct_tuple(const struct nf_conn *ct, unsigned int dir, u8 *src,
		     u8 *dst, u16 *sport, u16 *dport)
{
	const struct nf_conntrack_tuple *t = &ct->tuplehash[dir].tuple;

	memcpy(src, t->src.u3.all, sizeof(t->src.u3.all));
	memcpy(dst, t->dst.u3.all, sizeof(t->dst.u3.all));
	*sport = ntohs(t->src.u.all);
	*dport = ntohs(t->dst.u.all);
}

struct net *rnm_nf_ct_net(const struct nf_conn *ct)
{
	return nf_ct_net(ct);
}

/*
 * Sets the expectation policy of class @class of the helper attached to @ct,
 * which nf_ct_expect_related() applies to the next expectation of that class.
 * Caller holds rcu_read_lock().
 */
bool rnm_nfct_set_helper_policy(const struct nf_conn *ct, unsigned int class,
				unsigned int max_expected, unsigned int timeout)
{
	const struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_helper *helper;

	if (!help || class >= NF_CT_MAX_EXPECT_CLASSES)
		return false;
	helper = rcu_dereference(help->helper);
	if (!helper || class > helper->expect_class_max)
		return false;
	WRITE_ONCE(helper->expect_policy[class].max_expected, max_expected);
	WRITE_ONCE(helper->expect_policy[class].timeout, timeout);
	return true;
}

int rnm_nf_ct_expect_related(struct nf_conntrack_expect *exp,
			     unsigned int flags)
{
	return nf_ct_expect_related(exp, flags);
}

/*
 * Finds the TCP payload of @skb, whose TCP header starts at @protoff: makes
 * the packet linear (as the conntrack helpers that parse text do) and
 * returns its sequence number and the payload, which stays valid as long as
 * the packet is not modified.  Returns -ENOMEM if the packet cannot be
 * made linear and -EINVAL if it is too short for its TCP header.
 */
int rnm_skb_tcp_payload(struct sk_buff *skb, unsigned int protoff, u32 *seq,
			const u8 **data, unsigned int *len)
{
	const struct tcphdr *th;
	struct tcphdr _tcph;
	unsigned int dataoff;

	if (unlikely(skb_linearize(skb)))
		return -ENOMEM;

	th = skb_header_pointer(skb, protoff, sizeof(_tcph), &_tcph);
	if (!th)
		return -EINVAL;

	*seq = ntohl(th->seq);
	dataoff = protoff + th->doff * 4;
	if (dataoff >= skb->len) {
		*data = NULL;
		*len = 0;
		return 0;
	}
	*data = skb->data + dataoff;
	*len = skb->len - dataoff;
	return 0;
}

void *rnm_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}
