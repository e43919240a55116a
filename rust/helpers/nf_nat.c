// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for NAT helpers (rust/rnm/netfilter/nat.rs).
 * Expects netfilter.c (rnm_nf_ct_expect_limit() and
 * rnm_nf_ct_expect_related_room()) in the same
 * translation unit.
 */

#include <linux/random.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <net/netfilter/nf_conntrack_seqadj.h>
#include <net/netfilter/nf_nat.h>
#include <net/netfilter/nf_nat_helper.h>

#include "nf_nat.h"

/* Whether NAT (source or destination) applies to @ct (IPS_NAT_MASK). */
bool rnm_nf_ct_is_nat(const struct nf_conn *ct)
{
	return READ_ONCE(ct->status) & IPS_NAT_MASK;
}

/*
 * Registers @exp, an initialised TCP expectation of a NATed master, so
 * that the expected connection is NATed as its master is
 * (nf_nat_follow_master()), as nf_nat_ftp() does: the expected port is
 * saved as the one the connection must reach after NAT, the expectation's
 * direction is the reverse of the packet's (@dir), and the first free port
 * from the saved one on is expected (nf_nat_exp_find_port(): the same
 * port, then up to 128 random ones above it).
 *
 * With @max_expected non-zero, the expectation is registered with the
 * limits @max_expected and @timeout (seconds), as by
 * rnm_nf_ct_expect_related_limited(), *@evicted adding up what every
 * attempt removed; with 0, with the helper's registered policy.
 *
 * Packet path, master held by the packet, under rcu_read_lock().  Returns
 * 0 with the port in *@port (host order), -EBUSY if every port tried was
 * taken, or the error of the registration.
 */
int rnm_nf_nat_expect_related(struct nf_conntrack_expect *exp,
			      unsigned int dir, unsigned int max_expected,
			      unsigned int timeout, unsigned int *evicted,
			      u16 *port)
{
	static const int max_attempts = 128;
	struct nf_conn_help *help = NULL;
	unsigned int range, removed;
	int attempts_left, ret;
	u16 min, try;

	*evicted = 0;
	*port = 0;
	if (dir > IP_CT_DIR_REPLY)
		return -EINVAL;
	if (max_expected) {
		/* Once: it moves the expectation's timeout. */
		ret = rnm_nf_ct_expect_limit(exp, max_expected, timeout, &help);
		if (ret < 0)
			return ret;
	}

	exp->saved_proto.tcp.port = exp->tuple.dst.u.tcp.port;
	exp->dir = dir;
	exp->expectfn = nf_nat_follow_master;

	min = try = ntohs(exp->saved_proto.tcp.port);
	range = USHRT_MAX - min;
	attempts_left = min_t(int, range, max_attempts);

	for (;;) {
		exp->tuple.dst.u.tcp.port = htons(try);
		if (help) {
			removed = 0;
			ret = rnm_nf_ct_expect_related_room(exp, help,
							    max_expected,
							    &removed);
			*evicted += removed;
		} else {
			ret = nf_ct_expect_related(exp, 0);
		}
		if (ret == 0) {
			*port = try;
			return 0;
		}
		if (ret != -EBUSY || --attempts_left < 0 || !range)
			return ret;
		try = min + get_random_u32_below(range);
	}
}

/*
 * Replaces @len bytes at @off of the TCP payload of @skb (whose TCP header
 * starts at @protoff) by the @text_len bytes at @text and fixes the
 * lengths and checksums (__nf_nat_mangle_tcp_packet() without sequence
 * adjustment: the caller records the change of length of all rewrites of
 * the packet at once, with rnm_nf_ct_seqadj_tcp()).
 *
 * Checks what the C leaves to its callers: the replaced bytes lie within
 * the payload, @text_len is at most RNM_NF_NAT_MANGLE_MAX, and, if the
 * length changes, @ct has the sequence adjustment extension (without it
 * the change would desynchronise the peers' sequence numbers).
 *
 * Packet path; @ct->lock must not be held (sequence adjustment takes it).
 * Returns 0, -EINVAL if a check fails, -EOPNOTSUPP without sequence
 * adjustment, or -ENOMEM if the packet cannot be made writable or large
 * enough (at most 65535 bytes).
 */
int rnm_nf_nat_mangle_tcp(struct sk_buff *skb, struct nf_conn *ct,
			  unsigned int ctinfo, unsigned int protoff,
			  unsigned int off, unsigned int len, const u8 *text,
			  unsigned int text_len)
{
	const struct tcphdr *th;
	struct tcphdr _tcph;
	unsigned int dataoff;

	if (text_len > RNM_NF_NAT_MANGLE_MAX || ctinfo >= IP_CT_NUMBER)
		return -EINVAL;
	th = skb_header_pointer(skb, protoff, sizeof(_tcph), &_tcph);
	if (!th)
		return -EINVAL;
	dataoff = protoff + th->doff * 4;
	if (dataoff > skb->len || off > skb->len - dataoff ||
	    len > skb->len - dataoff - off)
		return -EINVAL;
	if (text_len != len && !nfct_seqadj(ct))
		return -EOPNOTSUPP;
	if (!__nf_nat_mangle_tcp_packet(skb, ct, ctinfo, protoff, off, len,
					(const char *)text, text_len, false))
		return -ENOMEM;
	return 0;
}

/*
 * Registers the NAT helper name of @helper (its nat_mod_name,
 * "ip_nat_<name>"), owned by @me, which nf_nat_helper_try_module_get()
 * (tc act_ct, Open vSwitch) looks up.  Process context.  Returns the
 * registration, or NULL without memory.
 */
struct nf_conntrack_nat_helper *
rnm_nf_nat_helper_register(const struct nf_conntrack_helper *helper,
			   struct module *me)
{
	struct nf_conntrack_nat_helper *nat;

	nat = kzalloc(sizeof(*nat), GFP_KERNEL);
	if (!nat)
		return NULL;
	strscpy(nat->mod_name, helper->nat_mod_name, sizeof(nat->mod_name));
	nat->module = me;
	nf_nat_helper_register(nat);
	return nat;
}

/*
 * Unregisters and frees @nat, once no RCU reader can see it any more, and
 * returns true, unless its module is live (or built in): then keeps @nat
 * registered and the module loaded for good, and returns false.  tc
 * act_ct and Open vSwitch give back the module reference they took
 * through @nat by finding it again by name (nf_nat_helper_put(), which
 * walks the list without the RCU read lock), and would WARN, and keep the
 * reference, if it were gone.  C modules unregister it only on unload,
 * when nobody holds one.  try_module_get() decides against an unload
 * under way: it fails once the unload has taken the last reference, and
 * makes the unload fail if it comes first.  Process context.
 */
bool rnm_nf_nat_helper_unregister(struct nf_conntrack_nat_helper *nat)
{
	if (!nat->module)
		return false;
	if (READ_ONCE(nat->module->state) == MODULE_STATE_LIVE &&
	    try_module_get(nat->module))
		return false;
	nf_nat_helper_unregister(nat);
	synchronize_rcu();
	kfree(nat);
	return true;
}
