// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for the static inline conntrack, expectation and
 * sk_buff accessors used by rust/rnm/netfilter/, and the lock of its
 * conntrack helpers.
 */

#include <linux/spinlock.h>
#include <linux/string.h>
#include <net/netfilter/nf_conntrack_seqadj.h>

#include "netfilter.h"

/*
 * Serialises the callbacks of the Rust conntrack helpers, which gives each
 * exclusive access to its connection's helper data, as nf_ftp_lock does
 * for nf_conntrack_ftp.  Taken with bottom halves disabled, in one call
 * each way: the help callback takes it for every packet it parses.
 */
static DEFINE_SPINLOCK(rnm_nf_help_lock);

/* Takes the lock and returns the helper data of @ct (NULL if it has none). */
void *rnm_nf_help_lock_bh_data(const struct nf_conn *ct)
	__acquires(&rnm_nf_help_lock)
{
	spin_lock_bh(&rnm_nf_help_lock);
	return nfct_help_data(ct);
}

void rnm_nf_help_unlock_bh(void)
	__releases(&rnm_nf_help_lock)
{
	spin_unlock_bh(&rnm_nf_help_lock);
}

u16 rnm_nf_ct_l3num(const struct nf_conn *ct)
{
	return nf_ct_l3num(ct);
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
 * Registers @exp with the policy of its master's helper
 * (nf_ct_expect_related(), static inline).  Returns 0 or the error.
 */
int rnm_nf_ct_expect_related(struct nf_conntrack_expect *exp,
			     unsigned int flags)
{
	return nf_ct_expect_related(exp, flags);
}

/*
 * Removes expectations of @help's class @class until fewer than @max remain,
 * as evict_oldest_expect() does for the helper's registered policy: expired
 * ones first, then the oldest of the class.  Caller holds
 * nf_conntrack_expect_lock.  Returns how many unexpired ones were removed.
 */
static unsigned int rnm_evict_oldest_expect(struct nf_conn_help *help,
					    unsigned int class,
					    unsigned int max)
{
	struct nf_conntrack_expect *exp, *oldest;
	struct hlist_node *next;
	unsigned int evicted = 0;

	while (help->expecting[class] >= max) {
		oldest = NULL;
		hlist_for_each_entry_safe(exp, next, &help->expectations, lnode) {
			if (nf_ct_exp_is_expired(exp)) {
				nf_ct_unlink_expect(exp);
				continue;
			}
			/* Newest first: the last one seen is the oldest. */
			if (exp->class == class)
				oldest = exp;
		}
		if (!oldest || help->expecting[class] < max)
			break;
		nf_ct_unlink_expect(oldest);
		evicted++;
	}
	return evicted;
}

/*
 * Registers @exp, an initialised expectation of the default or another
 * class of the helper of its master, with limits of its own instead of
 * those of the helper's registered policy, which stays untouched (the
 * kernel reads it without locks):
 *
 * - before registering, if the master has @max_expected or more
 *   expectations of the class, the oldest are removed until there is room
 *   for this one (the registered policy's max_expected, at least as large,
 *   is the ceiling the core enforces);
 * - once registered, the expectation's deadline is set to @timeout seconds
 *   from now, as ctnetlink_change_expect() changes one, if it is still in
 *   its master's list and unexpired (a data connection may already have
 *   used it).
 *
 * @max_expected is 1..255 and @timeout * HZ fits in an int (the caller
 * checks).  Called from the packet path with the master held by the packet,
 * under rcu_read_lock(); takes nf_conntrack_expect_lock.  Returns
 * nf_ct_expect_related()'s result; on success *@evicted is the number of
 * unexpired expectations removed to make room.
 */
int rnm_nf_ct_expect_related_limited(struct nf_conntrack_expect *exp,
				     unsigned int max_expected,
				     unsigned int timeout,
				     unsigned int *evicted)
{
	struct nf_conn_help *help = nfct_help(exp->master);
	struct nf_conntrack_expect *i;
	int ret;

	*evicted = 0;
	if (!help)
		return -ESHUTDOWN;
	if (exp->class >= NF_CT_MAX_EXPECT_CLASSES || !max_expected)
		return -EINVAL;

	spin_lock_bh(&nf_conntrack_expect_lock);
	*evicted = rnm_evict_oldest_expect(help, exp->class, max_expected);
	spin_unlock_bh(&nf_conntrack_expect_lock);

	ret = nf_ct_expect_related(exp, 0);
	if (ret < 0)
		return ret;

	spin_lock_bh(&nf_conntrack_expect_lock);
	hlist_for_each_entry(i, &help->expectations, lnode) {
		if (i != exp)
			continue;
		if (!nf_ct_exp_is_expired(exp))
			WRITE_ONCE(exp->timeout, nfct_time_stamp + timeout * HZ);
		break;
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	return 0;
}

/*
 * Reads the TCP header of @skb, which starts at @protoff, without making
 * the packet linear: its sequence number and the length of its payload.
 * Returns -EINVAL if the packet is too short for its TCP header.
 */
int rnm_skb_tcp_segment(const struct sk_buff *skb, unsigned int protoff,
			u32 *seq, unsigned int *len)
{
	const struct tcphdr *th;
	struct tcphdr _tcph;
	unsigned int dataoff;

	th = skb_header_pointer(skb, protoff, sizeof(_tcph), &_tcph);
	if (!th)
		return -EINVAL;

	*seq = ntohl(th->seq);
	dataoff = protoff + th->doff * 4;
	*len = dataoff < skb->len ? skb->len - dataoff : 0;
	return 0;
}

/*
 * Returns the last @len bytes of @skb without making it linear: in place if
 * they are in its linear part, else copied to @buf (at least @len bytes
 * long) from its fragments, as skb_header_pointer() does; NULL if @skb is
 * shorter than @len or the copy fails.  What is in place stays valid as
 * long as @skb is not modified.
 */
const void *rnm_skb_tail_pointer(const struct sk_buff *skb, unsigned int len,
				 void *buf)
{
	if (len > skb->len)
		return NULL;
	return skb_header_pointer(skb, skb->len - len, len, buf);
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

/*
 * Records that the payload of @skb, whose TCP header starts at @protoff,
 * changed length by @off bytes, so that conntrack adjusts the sequence
 * numbers of the later segments of @ct in the packet's direction (and
 * the acknowledgements of the other): nf_ct_seqadj_set() with the
 * packet's sequence number.  Takes @ct->lock.
 */
void rnm_nf_ct_seqadj_tcp(struct sk_buff *skb, struct nf_conn *ct,
			  unsigned int ctinfo, unsigned int protoff, s32 off)
{
	const struct tcphdr *th;
	struct tcphdr _tcph;

	th = skb_header_pointer(skb, protoff, sizeof(_tcph), &_tcph);
	if (th && ctinfo < IP_CT_NUMBER)
		nf_ct_seqadj_set(ct, ctinfo, th->seq, off);
}

void *rnm_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}
