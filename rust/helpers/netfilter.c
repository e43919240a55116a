// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for the static inline conntrack, expectation and
 * sk_buff functions used by rust/rnm/netfilter/, and the lock of its
 * conntrack helpers.
 */

#include <linux/spinlock.h>
#include <linux/string.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack_seqadj.h>

#include "netfilter.h"

/*
 * Serialises the callbacks of the Rust conntrack helpers, which gives each
 * exclusive access to its connection's helper data, as nf_ftp_lock does
 * for nf_conntrack_ftp.  Taken with bottom halves disabled, from Rust
 * (rust/rnm/netfilter/helper.rs: with_help_data()).
 */
DEFINE_SPINLOCK(rnm_nf_help_lock);

/* The namespace of @ct, for kernels without CONFIG_NET_NS (else read in place). */
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
 * - the expectation lives @timeout seconds from its allocation, as one
 *   registered with the helper's policy lives the policy's timeout:
 *   nf_ct_expect_insert() adds the policy's timeout to the allocation
 *   time in exp->timeout, which is moved by the difference beforehand.
 *
 * The eviction takes nf_conntrack_expect_lock, besides the registration,
 * only when the master has that many expectations: their count is read
 * without it.  Lower counts than read are harmless (the eviction loop,
 * under the lock, then stops at once); higher ones come from the helper,
 * serialised by its own lock, which the caller holds, or from ctnetlink
 * creating an expectation for the master at the same moment (conntrack -I
 * expect), which can leave the master one expectation above the
 * namespace's limit until the next one, never above the registered
 * policy's, which the core enforces.  A confirmed master keeps its helper
 * (the helper's unregistration removes the expectations instead); were it
 * gone, the core would add no timeout, and the expectation would live
 * @timeout less the policy's.
 *
 * @max_expected is 1..255 and @timeout * HZ fits in an int (the caller
 * checks).  Called from the packet path with the master held by the packet,
 * under rcu_read_lock(); takes nf_conntrack_expect_lock.  Returns
 * nf_ct_expect_related()'s result; on success *@evicted is the number of
 * unexpired expectations removed to make room.
 */
static int rnm_nf_ct_expect_limit(struct nf_conntrack_expect *exp,
				  unsigned int max_expected,
				  unsigned int timeout,
				  struct nf_conn_help **help)
{
	const struct nf_conntrack_helper *helper;
	unsigned int policy_timeout = 0;

	*help = nfct_help(exp->master);
	if (!*help)
		return -ESHUTDOWN;
	if (exp->class >= NF_CT_MAX_EXPECT_CLASSES || !max_expected)
		return -EINVAL;

	helper = rcu_dereference((*help)->helper);
	if (helper)
		policy_timeout = helper->expect_policy[exp->class].timeout;
	/* Modulo 2^32, as jiffies: the core's addition makes it timeout * HZ. */
	exp->timeout += (timeout - policy_timeout) * HZ;
	return 0;
}

static int rnm_nf_ct_expect_related_room(struct nf_conntrack_expect *exp,
					 struct nf_conn_help *help,
					 unsigned int max_expected,
					 unsigned int *evicted)
{
	if (READ_ONCE(help->expecting[exp->class]) >= max_expected) {
		spin_lock_bh(&nf_conntrack_expect_lock);
		*evicted = rnm_evict_oldest_expect(help, exp->class,
						   max_expected);
		spin_unlock_bh(&nf_conntrack_expect_lock);
	}
	return nf_ct_expect_related(exp, 0);
}

int rnm_nf_ct_expect_related_limited(struct nf_conntrack_expect *exp,
				     unsigned int max_expected,
				     unsigned int timeout,
				     unsigned int *evicted)
{
	struct nf_conn_help *help;
	int ret;

	*evicted = 0;
	ret = rnm_nf_ct_expect_limit(exp, max_expected, timeout, &help);
	if (ret < 0)
		return ret;
	return rnm_nf_ct_expect_related_room(exp, help, max_expected, evicted);
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

/*
 * Returns the @len bytes at @offset of @skb (bytes from skb->data) in place
 * if they lie, whole, in one page fragment whose bytes nothing may write
 * while @skb is held, else NULL (the caller then copies them with
 * skb_copy_bits()).  Not for fragments that user space or the page cache
 * can change under the packet (SKBFL_SHARED_FRAG: splice, sendfile; any
 * zerocopy buffer: MSG_ZEROCOPY), nor for unreadable ones (device memory),
 * nor on kernels with highmem, where page_address() of a page outside the
 * direct map is a kmap() that may go away meanwhile.  Any context.
 */
const u8 *rnm_skb_frag_pointer(struct sk_buff *skb, unsigned int offset,
			       unsigned int len)
{
	const struct skb_shared_info *shinfo = skb_shinfo(skb);
	unsigned int start = skb_headlen(skb);
	const skb_frag_t *frag, *frags_end;

	if (IS_ENABLED(CONFIG_HIGHMEM) || offset < start ||
	    skb_has_shared_frag(skb) || skb_zcopy(skb) ||
	    !skb_frags_readable(skb))
		return NULL;
	/*
	 * (By pointer, not by index: nr_frags is at most MAX_SKB_FRAGS, and
	 * the index's bounds check under CONFIG_UBSAN_BOUNDS would make this
	 * function, called for most packets a helper reads, save six
	 * registers.)
	 */
	frags_end = shinfo->frags + shinfo->nr_frags;
	for (frag = shinfo->frags; frag < frags_end; frag++) {
		unsigned int end = start + skb_frag_size(frag);
		const u8 *va;

		if (offset < end) {
			if (len > end - offset)
				return NULL;
			va = skb_frag_address_safe(frag);
			return va ? va + (offset - start) : NULL;
		}
		start = end;
	}
	return NULL;
}

/*
 * Whether the packet's own transport protocol is its connection's.  Not so
 * for an ICMP error related to the connection in its original direction
 * (IP_CT_RELATED), which nf_confirm() hands to the connection's helper too,
 * with protoff at the ICMP header.
 */
bool rnm_nf_ct_skb_is_own_l4(const struct sk_buff *skb, const struct nf_conn *ct)
{
	__be16 frag_off;
	u8 pnum;

	switch (nf_ct_l3num(ct)) {
	case NFPROTO_IPV4:
		return ip_hdr(skb)->protocol == nf_ct_protonum(ct);
	case NFPROTO_IPV6:
		pnum = ipv6_hdr(skb)->nexthdr;
		if (ipv6_skip_exthdr(skb, sizeof(struct ipv6hdr), &pnum, &frag_off) < 0)
			return false;
		return pnum == nf_ct_protonum(ct);
	}
	return false;
}

/* The layer 3 family of @exp's master connection (nf_ct_l3num()). */
u8 rnm_nf_ct_expect_l3num(const struct nf_conntrack_expect *exp)
{
	return nf_ct_l3num(exp->master);
}

void *rnm_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}
