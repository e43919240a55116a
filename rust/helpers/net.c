// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for static inline net_device, NAPI, sk_buff and
 * cross-CPU call functions; declared in net.h.  Included by the *_helpers.c
 * of each module that uses rust/rnm/net/.
 */
#include <linux/bpf.h>
#include <linux/bpf_trace.h>
#include <linux/etherdevice.h>
#include <linux/filter.h>
#include <linux/if_vlan.h>
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/busy_poll.h>
#include <net/gso.h>
#include <net/netdev_lock.h>
#include <net/page_pool/helpers.h>
#include <net/sch_generic.h>
#include <net/xdp.h>
#include <linux/smp.h>
#include <linux/cpumask.h>
#include <net/sock.h>

#include "net.h"

/* The value rust/rnm/net/ethtool.rs writes into op_needs_rtnl. */
static_assert(ETHTOOL_OP_NEEDS_RTNL_SCHANNELS == (1 << 3));

/*
 * netif_carrier_on() and netif_carrier_off() hand any device that was ever
 * listed to the link watch, which holds it until its work runs: also one
 * whose registration failed after it was listed (NETREG_UNREGISTERED), which
 * free_netdev() then frees without looking at the link watch's list.
 */
void rnm_netif_carrier_on(struct net_device *dev)
{
	if (READ_ONCE(dev->reg_state) <= NETREG_REGISTERED)
		netif_carrier_on(dev);
}

void rnm_netif_carrier_off(struct net_device *dev)
{
	if (READ_ONCE(dev->reg_state) <= NETREG_REGISTERED)
		netif_carrier_off(dev);
}

void rnm_set_netdev_dev(struct net_device *dev, struct device *parent)
{
	SET_NETDEV_DEV(dev, parent);
}

void rnm_netdev_set_ops(struct net_device *dev, const struct net_device_ops *ops,
		     const struct ethtool_ops *ethtool_ops)
{
	dev->netdev_ops = ops;
	dev->ethtool_ops = ethtool_ops;
}

/*
 * The VLAN offloads, with @vlan: a tag travels out of band (skb->vlan_tci)
 * from the sender's stack to the receiver's, unless one of them turns its
 * offload off (rnm_dev_forward_skb()).  As veth, not offered to VLAN
 * devices stacked on the device (vlan_features): their own tags are their
 * lower device's business.
 */
#define RNM_NET_VLAN_FEATURES (NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_CTAG_RX | \
			       NETIF_F_HW_VLAN_STAG_TX | NETIF_F_HW_VLAN_STAG_RX)

/* The offloads of a software device that hands frames on unchanged, as veth. */
#define RNM_NET_SW_FEATURES (NETIF_F_HW_CSUM | NETIF_F_SG | NETIF_F_FRAGLIST | \
			     NETIF_F_RXCSUM | NETIF_F_SCTP_CRC | NETIF_F_HIGHDMA | \
			     NETIF_F_GSO_SOFTWARE | NETIF_F_GSO_ENCAP_ALL)

void rnm_netdev_set_sw_features(struct net_device *dev, bool vlan)
{
	netdev_features_t features = RNM_NET_SW_FEATURES;

	/*
	 * No netpoll (netconsole): it transmits with interrupts disabled, from
	 * any context, and ndo_start_xmit() is promised bottom halves disabled
	 * and interrupts enabled (DeviceOps::start_xmit in device.rs).
	 */
	dev->priv_flags |= IFF_NO_QUEUE | IFF_DISABLE_NETPOLL;
	/*
	 * Every frame ndo_start_xmit() gets is its own (SkBuff owns it): no
	 * pktgen clone_skb/burst handing the same sk_buff over and over,
	 * which ether_setup() allows.  As veth.
	 */
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	if (vlan)
		features |= RNM_NET_VLAN_FEATURES;
	dev->features |= features;
	dev->hw_features = features;
	dev->hw_enc_features |= features;
	dev->vlan_features = dev->features & ~RNM_NET_VLAN_FEATURES;
	dev->max_mtu = ETH_MAX_MTU;
}

void rnm_eth_hw_addr_random(struct net_device *dev)
{
	eth_hw_addr_random(dev);
}

void rnm_netdev_set_mtu(struct net_device *dev, unsigned int mtu)
{
	WRITE_ONCE(dev->mtu, mtu);
}

/*
 * Macros rather than functions: in the kernel tree these helpers are
 * inline functions with external linkage, which may not call static ones.
 *
 * Whether @dev has receive queue @index and a per-NAPI configuration of
 * that index: both arrays are indexed by it.
 */
#define RNM_NAPI_QUEUE_INDEX_OK(dev, index) \
	((index) < (dev)->num_rx_queues && (index) < (dev)->num_napi_configs)

bool rnm_napi_queue_index_ok(const struct net_device *dev, unsigned int index)
{
	return RNM_NAPI_QUEUE_INDEX_OK(dev, index);
}

/*
 * Links (@link) or unlinks channel napi->index of the NAPI's device and
 * @napi: its receive queue and, if the device has it, its transmit queue
 * (a combined channel, as NIC drivers with one NAPI per queue pair link
 * them), for the netdev netlink family's queue-get.  Under RTNL for a
 * registered device (what netif_queue_set_napi() asserts for a device
 * without the instance lock); @napi was added by rnm_napi_add_enable(),
 * which checked the receive queue's index.
 */
#define RNM_NAPI_LINK_QUEUES(napi, link)					\
	do {								\
		struct net_device *__dev = (napi)->dev;			\
		struct napi_struct *__n = (link) ? (napi) : NULL;	\
									\
		netif_queue_set_napi(__dev, (napi)->index,		\
				     NETDEV_QUEUE_TYPE_RX, __n);		\
		if ((napi)->index < __dev->num_tx_queues)		\
			netif_queue_set_napi(__dev, (napi)->index,	\
					     NETDEV_QUEUE_TYPE_TX, __n);	\
	} while (0)

/*
 * Makes @napi, zeroed, a context that is not added, as napi_disable() and
 * __netif_napi_del() leave one: SCHED and NPSVC set, so that
 * napi_schedule_prep() fails (setting MISSED) and nothing can schedule or
 * busy-poll it.
 */
void rnm_napi_init_unlisted(struct napi_struct *napi)
{
	napi->state = NAPIF_STATE_SCHED | NAPIF_STATE_NPSVC;
}

/*
 * Adds @napi, not added, to @dev as the NAPI context of receive queue
 * @index with weight *@weight and the persistent per-NAPI configuration of
 * that index (netif_napi_add_config(): its NAPI ID and the settings of the
 * netdev netlink family's napi-set, threaded included, survive deleting and
 * adding the context again), enables it and links its queues, all under
 * one hold of @dev's instance lock: the core's walks of the device's
 * contexts, which hold that lock (netif_set_threaded()), never see it added
 * and disabled.  Returns -EINVAL if @dev has no receive queue @index.
 * Process context, under RTNL, not under the instance lock.
 */
int rnm_napi_add_enable(struct net_device *dev, struct napi_struct *napi,
			int (*poll)(struct napi_struct *, int),
			unsigned int index, const u32 *weight)
{
	if (!RNM_NAPI_QUEUE_INDEX_OK(dev, index))
		return -EINVAL;
	lockdep_assert_not_held(&dev->lock);
	netdev_lock(dev);
	netif_napi_add_config_locked(dev, napi, poll, index);
	WRITE_ONCE(napi->weight, READ_ONCE(*weight));
	/*
	 * A schedule tried while it was not added (its line stopped: none
	 * runs now) left MISSED: not a poll to make up for.
	 */
	clear_bit(NAPI_STATE_MISSED, &napi->state);
	napi_enable_locked(napi);
	RNM_NAPI_LINK_QUEUES(napi, true);
	netdev_unlock(dev);
	return 0;
}

/*
 * Unlinks the queues of @napi, added and enabled, disables it (waiting for
 * a poll that runs) and deletes it from its device (stopping its kernel
 * thread), under one hold of the device's instance lock (see
 * rnm_napi_add_enable()).  The caller waits for an RCU grace period
 * (synchronize_net()) before it adds or frees it.  Process context, under
 * RTNL or with the device unregistered, not under the instance lock.
 */
void rnm_napi_disable_del(struct napi_struct *napi)
{
	struct net_device *dev = napi->dev;

	lockdep_assert_not_held(&dev->lock);
	netdev_lock(dev);
	RNM_NAPI_LINK_QUEUES(napi, false);
	napi_disable_locked(napi);
	__netif_napi_del_locked(napi);
	netdev_unlock(dev);
}

/*
 * Sets @napi's weight to *@weight, read under @dev's instance lock, if
 * @napi is added to @dev: rnm_napi_add_enable() reads *@weight under it
 * too, so the context gets the value stored last.  Process context, not
 * under the instance lock.
 */
void rnm_napi_update_weight(struct napi_struct *napi, struct net_device *dev,
			    const u32 *weight)
{
	lockdep_assert_not_held(&dev->lock);
	netdev_lock(dev);
	if (test_bit(NAPI_STATE_LISTED, &napi->state))
		WRITE_ONCE(napi->weight, READ_ONCE(*weight));
	netdev_unlock(dev);
}

/*
 * Prepares the frame for GRO as veth does (skb_prepare_for_gro(): orphans a
 * frame whose destructor is not sock_wfree; keeps a sock_wfree frame's
 * socket but makes GRO compare sockets, so that frames of different sockets
 * are never merged), then napi_gro_receive(), except for a frame
 * aggregated already (GSO: a peer on the same host sent it so).  GRO could
 * at most merge it with a following frame of the same segment size, below
 * gro_max_size; veth does not try either (veth_skb_is_eligible_for_gro()
 * sends a TSO device's frames to the backlog).  While GRO holds no frame and
 * has none queued for the stack, so that none of its flow can be overtaken,
 * it goes up directly, marked with the NAPI id as GRO would mark it.
 * (rx_count counts segments, which may be 0 for a queued frame: the list
 * itself is checked.)
 */
gro_result_t rnm_napi_gro_receive(struct napi_struct *napi,
				  struct sk_buff *skb)
{
	skb->dev = napi->dev;
	skb_prepare_for_gro(skb);
	if (skb_is_gso(skb) && !napi->gro.bitmask &&
	    list_empty(&napi->gro.rx_list)) {
		skb_mark_napi_id(skb, napi);
		netif_receive_skb(skb);
		return GRO_NORMAL;
	}
	return napi_gro_receive(napi, skb);
}

/*
 * GRO holds no frame, and napi_complete_done() will flush whatever it is
 * given: no gro_flush_timeout keeps frames past the poll, and the context is
 * not being busy-polled or polled by netpoll.  A frame that is the only one
 * of a poll that completes then has nothing to be merged with, and
 * napi_complete_done() re-arms the context (it defers nothing without a
 * gro_flush_timeout) unless NAPIF_STATE_MISSED is set meanwhile.
 */
bool rnm_napi_gro_idle(const struct napi_struct *napi)
{
	return !napi->gro.bitmask && !READ_ONCE(napi->gro_flush_timeout) &&
	       !(READ_ONCE(napi->state) &
		 (NAPIF_STATE_IN_BUSY_POLL | NAPIF_STATE_NPSVC));
}

/*
 * Hands the @n frames of @skbs to the stack in one list, without GRO
 * (netif_receive_skb_list(), as GRO hands up the frames it does not merge),
 * marked with the NAPI id as GRO would mark them, while GRO holds and
 * queues no frame, so that none of their flows is overtaken; through GRO
 * otherwise (prepared for it as rnm_napi_gro_receive() prepares them).
 * For frames GRO would not merge.  Returns how many GRO merged.
 */
unsigned int rnm_napi_receive_list(struct napi_struct *napi,
				   struct sk_buff **skbs, unsigned int n)
{
	unsigned int i, merged = 0;
	LIST_HEAD(head);

	for (i = 0; i < n; i++)
		skbs[i]->dev = napi->dev;
	if (napi->gro.bitmask || !list_empty(&napi->gro.rx_list)) {
		for (i = 0; i < n; i++) {
			gro_result_t r;

			skb_prepare_for_gro(skbs[i]);
			r = napi_gro_receive(napi, skbs[i]);
			merged += r == GRO_MERGED || r == GRO_MERGED_FREE;
		}
		return merged;
	}
	for (i = 0; i < n; i++) {
		skb_mark_napi_id(skbs[i], napi);
		list_add_tail(&skbs[i]->list, &head);
	}
	netif_receive_skb_list(&head);
	return 0;
}

/*
 * Whether @dev's receive VLAN offload of @proto (ETH_P_8021Q, ETH_P_8021AD)
 * is on: it takes a tag of that protocol out of band (skb->vlan_tci).
 */
#define rnm_vlan_rx_offload(dev, proto)					\
	((proto) == htons(ETH_P_8021AD) ?				\
	 !!(READ_ONCE((dev)->features) & NETIF_F_HW_VLAN_STAG_RX) :	\
	 !!(READ_ONCE((dev)->features) & NETIF_F_HW_VLAN_CTAG_RX))

/*
 * __dev_forward_skb() of @skb, transmitted by @from, to @to.  skb->dev is
 * set to @from first: __dev_forward_skb() compares its namespace with
 * @to's (crossing namespaces scrubs more), and the caller proves @from
 * alive, where skb->dev, which holds no reference, may be stale.
 *
 * The VLAN tag, as a NIC with @to's receive VLAN offloads would deliver
 * it: out of band (skb->vlan_tci) if the offload of its protocol is on,
 * in the frame if it is off.  A tag @from's stack left out of band (its
 * transmit VLAN offload) goes into the frame if need be; an outer tag in
 * the frame (the sender's stack inserted it) is stripped out of it if
 * need be.  An inner tag (802.1Q in 802.1ad) stays in the frame.  A tag
 * put in counts towards the length __dev_forward_skb() allows (the MTU,
 * the Ethernet header and one tag): a full-sized frame with two tags is
 * dropped by a device that takes them both in the frame.
 *
 * Returns the frame (@skb, or a copy of it if it was shared and had to be
 * untagged), or NULL if it was dropped (freed; counted in @to's
 * rx_dropped).
 */
struct sk_buff *rnm_dev_forward_skb(struct net_device *to,
				    struct net_device *from,
				    struct sk_buff *skb)
{
	skb->dev = from;
	if (skb_vlan_tag_present(skb) && !rnm_vlan_rx_offload(to, skb->vlan_proto)) {
		/* Frees @skb if it fails. */
		skb = __vlan_hwaccel_push_inside(skb);
		if (!skb)
			goto drop;
	}
	if (__dev_forward_skb(to, skb))
		return NULL;
	/* eth_type_trans() left skb->data at the tag: as skb_vlan_untag() wants. */
	if (!skb_vlan_tag_present(skb) && eth_type_vlan(skb->protocol) &&
	    rnm_vlan_rx_offload(to, skb->protocol)) {
		/* Frees @skb if it fails. */
		skb = skb_vlan_untag(skb);
		if (!skb)
			goto drop;
	}
	return skb;
drop:
	dev_core_stats_rx_dropped_inc(to);
	return NULL;
}

/* What napi_gro_receive() does for a frame it passes up unmerged. */
int rnm_napi_receive_skb(struct napi_struct *napi, struct sk_buff *skb)
{
	skb->dev = napi->dev;
	skb_mark_napi_id(skb, napi);
	return netif_receive_skb(skb);
}

void rnm_dev_kfree_skb_any(struct sk_buff *skb)
{
	dev_kfree_skb_any(skb);
}

/*
 * Software transmit timestamp (and PHY timestamping, which a device without
 * a PHY skips) of a frame the device takes for transmission.
 */
void rnm_skb_tx_timestamp(struct sk_buff *skb)
{
	skb_tx_timestamp(skb);
}

/*
 * Stops transmit queue @index of @dev (netif_tx_stop_queue()) if it is not
 * stopped already and a qdisc holds its frames while it is stopped;
 * returns whether it stopped it.  Not a queue without one (noqueue:
 * __dev_queue_xmit() drops a frame for a stopped queue, with a critical
 * message), nor one whose device is deactivated (noop_qdisc: going down,
 * carrier lost, qdisc being replaced; dev_deactivate() publishes it while
 * a transmit may still run).  In ndo_start_xmit(), for the queue of the
 * frame: the qdisc is read under the core's RCU-bh section.
 */
bool rnm_netif_tx_try_stop(struct net_device *dev, u16 index)
{
	struct netdev_queue *txq;
	const struct Qdisc *q;

	if (index >= dev->num_tx_queues)
		return false;
	txq = netdev_get_tx_queue(dev, index);
	q = rcu_dereference_bh(txq->qdisc);
	if (netif_tx_queue_stopped(txq) || !q || !q->enqueue ||
	    q == &noop_qdisc)
		return false;
	netif_tx_stop_queue(txq);
	return true;
}

/*
 * netif_tx_wake_queue() of transmit queue @i of @dev, that says whether
 * the queue was stopped (and is now woken: each stop is reported woken
 * once, by one caller).  False for a queue the device does not have.  Any
 * context.  A qdisc is scheduled only if it has frames to hold: not
 * noqueue, which a stopped queue may have been given since (tc qdisc
 * del), nor a device not registered yet (no qdisc).
 */
bool rnm_netif_tx_wake_queue(struct net_device *dev, unsigned int i)
{
	struct netdev_queue *txq;
	struct Qdisc *q;

	if (i >= dev->num_tx_queues)
		return false;
	txq = netdev_get_tx_queue(dev, i);
	if (!netif_tx_queue_stopped(txq) ||
	    !test_and_clear_bit(__QUEUE_STATE_DRV_XOFF, &txq->state))
		return false;
	rcu_read_lock();
	q = rcu_dereference(txq->qdisc);
	if (q && q->enqueue)
		__netif_schedule(q);
	rcu_read_unlock();
	return true;
}

u16 rnm_skb_protocol(const struct sk_buff *skb)
{
	return be16_to_cpu(skb->protocol);
}

bool rnm_skb_is_gso(const struct sk_buff *skb)
{
	return skb_is_gso(skb);
}

/*
 * Segments a GSO frame in software, with every offload off (checksums are
 * computed), as the wire would carry it, for @dev (skb->dev, which holds
 * no reference and may be stale, is set to it).  Consumes @skb; returns
 * the list of segments (linked through skb->next; @skb alone if it needed
 * no segmenting), or NULL if segmenting failed.  Bottom halves disabled.
 */
struct sk_buff *rnm_skb_gso_segment(struct sk_buff *skb,
				    struct net_device *dev)
{
	struct sk_buff *segs;

	skb->dev = dev;
	segs = skb_gso_segment(skb, 0);

	if (!segs)
		return skb;
	if (IS_ERR(segs)) {
		dev_kfree_skb_any(skb);
		return NULL;
	}
	dev_consume_skb_any(skb);
	return segs;
}

/* Unlinks and returns the first buffer of @list, NULL if it is empty. */
struct sk_buff *rnm_skb_list_pop(struct sk_buff **list)
{
	struct sk_buff *skb = *list;

	if (skb) {
		*list = skb->next;
		skb_mark_not_on_list(skb);
	}
	return skb;
}

unsigned int rnm_netdev_mtu(const struct net_device *dev)
{
	return READ_ONCE(dev->mtu);
}

/*
 * XDP runs on a copy of each frame, whose first page is laid out so:
 * XDP_PACKET_HEADROOM in front, and room for the skb_shared_info of an
 * sk_buff built around it at the end.  What is left is the longest frame
 * in one page, Ethernet header and a VLAN tag included; the MTU is that
 * less those 18 bytes.
 */
#define RNM_XDP_MAX_FRAME SKB_WITH_OVERHEAD(PAGE_SIZE - XDP_PACKET_HEADROOM)
#define RNM_XDP_MAX_MTU (RNM_XDP_MAX_FRAME - ETH_HLEN - VLAN_HLEN)
/*
 * A program that takes frames in several buffers (xdp.frags,
 * BPF_F_XDP_HAS_FRAGS) gets the part beyond RNM_XDP_MAX_FRAME in up to
 * MAX_SKB_FRAGS more pages: 73152 bytes with 4 KiB pages and 17 frags,
 * more than any MTU allows (ETH_MAX_MTU).
 */
#define RNM_XDP_MAX_FRAME_FRAGS (RNM_XDP_MAX_FRAME + MAX_SKB_FRAGS * PAGE_SIZE)
#define RNM_XDP_MAX_MTU_FRAGS						\
	min_t(unsigned int, ETH_MAX_MTU,				\
	      RNM_XDP_MAX_FRAME_FRAGS - ETH_HLEN - VLAN_HLEN)
/*
 * Pages a receive queue's page pool keeps for reuse beyond its lockless
 * cache of 128: returned from elsewhere than the poll (a socket, the peer).
 * The pool keeps what it holds until the device is deleted, so this bounds
 * what a queue that ran XDP pins: 192 pages, 768 KiB with 4 KiB pages.
 */
#define RNM_XDP_POOL_SIZE 64

unsigned int rnm_xdp_max_mtu(void)
{
	return RNM_XDP_MAX_MTU;
}

unsigned int rnm_xdp_max_mtu_frags(void)
{
	return RNM_XDP_MAX_MTU_FRAGS;
}

/*
 * The largest MTU of a device that runs @prog: RNM_XDP_MAX_MTU, or, for a
 * program that takes frames in several buffers, RNM_XDP_MAX_MTU_FRAGS.
 */
unsigned int rnm_xdp_prog_max_mtu(const struct bpf_prog *prog)
{
	return prog->aux->xdp_has_frags ? RNM_XDP_MAX_MTU_FRAGS : RNM_XDP_MAX_MTU;
}

bool rnm_netdev_bpf_is_setup_prog(const struct netdev_bpf *bpf)
{
	return bpf->command == XDP_SETUP_PROG;
}

/* The program of an XDP_SETUP_PROG command (NULL to detach). */
struct bpf_prog *rnm_netdev_bpf_prog(const struct netdev_bpf *bpf)
{
	return bpf->prog;
}

void rnm_netdev_bpf_mtu_error(struct netdev_bpf *bpf)
{
	NL_SET_ERR_MSG_FMT(bpf->extack,
			   "MTU too large for XDP (at most %u; %u for a program with frags)",
			   (unsigned int)RNM_XDP_MAX_MTU,
			   (unsigned int)RNM_XDP_MAX_MTU_FRAGS);
}

/*
 * The XDP buffer of rnm_xdp_run_skb(), which the metadata kfuncs get as
 * their context: the buffer (a copy of the frame in pages of the page pool)
 * and @skb, the frame it is a copy of, alive while the program runs.
 */
struct rnm_xdp_buff {
	struct xdp_buff xdp;
	struct sk_buff *skb;
};

/*
 * bpf_xdp_metadata_rx_hash(): the frame's flow hash as the kernel has it
 * (skb_get_hash(), as veth reports it): the sending socket's, kept from the
 * peer's stack, else computed from the headers; vnapi has no RSS of its
 * own.  L4 if it stands for the ports too.
 */
static int rnm_xdp_rx_hash(const struct xdp_md *ctx, u32 *hash,
			   enum xdp_rss_hash_type *rss_type)
{
	const struct rnm_xdp_buff *rx = (const void *)ctx;

	*hash = skb_get_hash(rx->skb);
	*rss_type = rx->skb->l4_hash ? XDP_RSS_TYPE_L4_ANY : XDP_RSS_TYPE_NONE;
	return 0;
}

/*
 * bpf_xdp_metadata_rx_vlan_tag(): the VLAN tag taken out of the frame (by
 * the receive VLAN offload: rnm_dev_forward_skb()), with its protocol, as
 * veth reports it; -ENODATA for a frame without one, or with its tag still
 * in it (that offload off).
 */
static int rnm_xdp_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
			       u16 *vlan_tci)
{
	const struct rnm_xdp_buff *rx = (const void *)ctx;
	int err;

	err = __vlan_hwaccel_get_tag(rx->skb, vlan_tci);
	if (err)
		return err;
	*vlan_proto = rx->skb->vlan_proto;
	return 0;
}

/*
 * The receive metadata the devices' XDP programs can read, those bound to
 * the device (BPF_F_XDP_DEV_BOUND_ONLY): the hash and the VLAN tag.  No
 * timestamp (no hardware clock: bpf_xdp_metadata_rx_timestamp() returns
 * -EOPNOTSUPP).  Not static: in the in-tree form of this file
 * (rust/helpers/net/netdevice.c) the helpers are __rust_helper functions,
 * inline with external linkage, which may not use a static variable
 * (clang's -Wstatic-in-inline).
 */
const struct xdp_metadata_ops rnm_xdp_metadata_ops = {
	.xmo_rx_hash = rnm_xdp_rx_hash,
	.xmo_rx_vlan_tag = rnm_xdp_rx_vlan_tag,
};

/*
 * Before registration: with @xdp native XDP (XDP_PASS, XDP_DROP, XDP_TX,
 * XDP_REDIRECT) on frames in one or several buffers, with @ndo_xmit
 * frames (in one or several buffers) redirected to the device.
 */
void rnm_netdev_set_xdp_features(struct net_device *dev, bool xdp,
				 bool ndo_xmit)
{
	xdp_features_t val = 0;

	if (xdp)
		val |= NETDEV_XDP_ACT_BASIC | NETDEV_XDP_ACT_REDIRECT |
		       NETDEV_XDP_ACT_RX_SG;
	if (ndo_xmit)
		val |= NETDEV_XDP_ACT_NDO_XMIT | NETDEV_XDP_ACT_NDO_XMIT_SG;
	dev->xdp_features = val;
	dev->xdp_metadata_ops = xdp ? &rnm_xdp_metadata_ops : NULL;
}

/*
 * Registers @rxq as the XDP receive queue @index of @dev, with a page pool
 * of its own (stored in *@pp) as its memory model: the order-0 pages that
 * rnm_xdp_run_skb() gives the program come from it and go back to it,
 * whatever becomes of the frame (dropped, passed up, sent or redirected).
 * Process context.  Undone by rnm_xdp_rxq_unreg().
 */
int rnm_xdp_rxq_reg(struct xdp_rxq_info *rxq, struct net_device *dev,
		    u32 index, struct page_pool **pp)
{
	struct page_pool_params params = {
		.order = 0,
		.pool_size = RNM_XDP_POOL_SIZE,
		.nid = NUMA_NO_NODE,
		.netdev = dev,
		.queue_idx = index,
	};
	struct page_pool *pool;
	int err;

	pool = page_pool_create(&params);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	/* Each frag is a page of its own: bpf_xdp_adjust_tail() may grow
	 * the last one to the end of its page.
	 */
	err = __xdp_rxq_info_reg(rxq, dev, index, 0, PAGE_SIZE);
	if (err)
		goto destroy;
	err = xdp_rxq_info_reg_mem_model(rxq, MEM_TYPE_PAGE_POOL, pool);
	if (err) {
		xdp_rxq_info_unreg(rxq);
		goto destroy;
	}
	*pp = pool;
	return 0;

destroy:
	page_pool_destroy(pool);
	return err;
}

/*
 * Unregisters @rxq and releases its page pool @pp (freed once the last of
 * its pages still in flight comes back).  No poll may run any more.
 */
void rnm_xdp_rxq_unreg(struct xdp_rxq_info *rxq, struct page_pool *pp)
{
	/* Drops the reference the memory model holds on @pp ... */
	xdp_rxq_info_unreg(rxq);
	/* ... and this, the creator's. */
	page_pool_destroy(pp);
}

/*
 * Runs @prog on @skb, a frame received on @napi's device (eth_type_trans
 * done: skb->data past the Ethernet header), whose XDP receive queue is
 * @rxq with the page pool @pp.  Called from @napi's poll (bottom halves
 * disabled, under RCU), the only context that takes pages from @pp or
 * puts them back directly.
 *
 * The frame, from its MAC header, is copied into a page of @pp laid out
 * for XDP (checksum completed first if it was left to the device): up to
 * RNM_XDP_MAX_FRAME bytes; for a program with frags (xdp.frags), the rest
 * into more pages of @pp, its frags (multi-buffer XDP).  @skb is consumed
 * whatever happens; the pages go back to @pp wherever the frame ends.
 * Returns the verdict carried out:
 *   XDP_PASS      *out is an sk_buff built around the pages, as the
 *                 program left them, for the stack (protocol set, receive
 *                 queue recorded);
 *   XDP_TX        *out is an xdp_frame of the pages, for the caller to
 *                 transmit or return (xdp_return_frame);
 *   XDP_REDIRECT  xdp_do_redirect() took it: the poll must call
 *                 xdp_do_flush() before it completes;
 *   XDP_DROP, XDP_ABORTED (also for a verdict the kernel does not know,
 *                 warned about once): freed;
 * or -1 if it could not be carried out (frame longer than the program
 * takes, or a GSO aggregate, no memory, redirect or conversion failed):
 * freed.
 */
int rnm_xdp_run_skb(struct napi_struct *napi, struct xdp_rxq_info *rxq,
		    struct page_pool *pp, struct bpf_prog *prog,
		    struct sk_buff *skb, void **out)
{
	struct net_device *dev = rxq->dev;
	unsigned int len, max, head, off, size;
	struct rnm_xdp_buff rx = { .skb = skb };
	struct xdp_buff *xdp = &rx.xdp;
	struct xdp_frame *xdpf;
	struct page *page;
	__be16 vlan_proto;
	bool tagged;
	u16 vlan_tci;
	int mac_len;
	u32 act;

	skb->dev = napi->dev;
	if (!skb_mac_header_was_set(skb))
		goto free_skb;
	mac_len = skb->data - skb_mac_header(skb);
	len = skb->len + mac_len;
	max = prog->aux->xdp_has_frags ? RNM_XDP_MAX_FRAME_FRAGS : RNM_XDP_MAX_FRAME;
	/* The checksum left to the device: Internet or CRC32c (SCTP). */
	if (mac_len < 0 || skb_is_gso(skb) || len > max ||
	    (skb->ip_summed == CHECKSUM_PARTIAL && skb_csum_hwoffload_help(skb, 0)))
		goto free_skb;
	page = page_pool_dev_alloc_pages(pp);
	if (!page)
		goto free_skb;
	head = min_t(unsigned int, len, RNM_XDP_MAX_FRAME);
	xdp_init_buff(xdp, PAGE_SIZE, rxq);
	xdp_prepare_buff(xdp, page_address(page), XDP_PACKET_HEADROOM, head, true);
	if (skb_copy_bits(skb, -mac_len, xdp->data, head))
		goto return_buff;
	/* The rest, a page per frag, as skb_pp_cow_data() lays it out. */
	for (off = head; off < len; off += size) {
		size = min_t(unsigned int, len - off, PAGE_SIZE);
		page = page_pool_dev_alloc_pages(pp);
		if (!page)
			goto return_buff;
		if (!xdp_buff_add_frag(xdp, page_to_netmem(page), 0, size, PAGE_SIZE)) {
			page_pool_put_full_page(pp, page, true);
			goto return_buff;
		}
		if (skb_copy_bits(skb, off - mac_len, page_address(page), size))
			goto return_buff;
	}
	/*
	 * @skb stays until the program has run: the metadata kfuncs read it.
	 * A tag out of band (receive VLAN offload) is not in the buffer, as a
	 * NIC that strips tags leaves it in the descriptor: the program reads
	 * it with bpf_xdp_metadata_rx_vlan_tag(), the stack gets it back with
	 * the frame, and a frame sent out (XDP_TX, XDP_REDIRECT) goes without.
	 */
	act = bpf_prog_run_xdp(prog, xdp);
	tagged = skb_vlan_tag_present(skb);
	vlan_proto = skb->vlan_proto;
	vlan_tci = skb_vlan_tag_get(skb);
	consume_skb(skb);
	switch (act) {
	case XDP_PASS:
		/* Freed, the pages go back to @pp (skb_mark_for_recycle). */
		skb = xdp_build_skb_from_buff(xdp);
		if (!skb)
			break;
		if (tagged)
			__vlan_hwaccel_put_tag(skb, vlan_proto, vlan_tci);
		*out = skb;
		return XDP_PASS;
	case XDP_TX:
		xdpf = xdp_convert_buff_to_frame(xdp);
		if (!xdpf) {
			trace_xdp_exception(dev, prog, act);
			break;
		}
		*out = xdpf;
		return XDP_TX;
	case XDP_REDIRECT:
		if (xdp_do_redirect(dev, xdp, prog))
			break;
		return XDP_REDIRECT;
	case XDP_DROP:
		xdp_return_buff(xdp);
		return XDP_DROP;
	default:
		bpf_warn_invalid_xdp_action(dev, prog, act);
		fallthrough;
	case XDP_ABORTED:
		trace_xdp_exception(dev, prog, act);
		xdp_return_buff(xdp);
		return XDP_ABORTED;
	}
	xdp_return_buff(xdp);
	return -1;

return_buff:
	/* The head page and the frags added so far. */
	xdp_return_buff(xdp);
free_skb:
	dev_kfree_skb_any(skb);
	return -1;
}

/* The length of @xdpf in bytes, its frags included. */
unsigned int rnm_xdp_frame_len(const struct xdp_frame *xdpf)
{
	return xdp_get_frame_len(xdpf);
}

/*
 * An sk_buff around @xdpf's memory, received on @dev (eth_type_trans());
 * NULL, with @xdpf untouched, if there is no memory for it.
 */
struct sk_buff *rnm_xdp_build_skb_from_frame(struct xdp_frame *xdpf,
					     struct net_device *dev)
{
	return xdp_build_skb_from_frame(xdpf, dev);
}

/*
 * The simulated interrupt line's delivery to another CPU: an asynchronous
 * cross-CPU function call (an IPI), as a NIC's MSI-X vector steered there.
 */
void rnm_init_csd(struct __call_single_data *csd, void (*func)(void *),
		  void *info)
{
	INIT_CSD(csd, func, info);
}

bool rnm_cpu_online(unsigned int cpu)
{
	return cpu < nr_cpu_ids && cpu_online(cpu);
}
