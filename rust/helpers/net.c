// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for static inline net_device, NAPI, sk_buff and
 * cross-CPU call functions; declared in net.h.  Included by the *_helpers.c
 * of each module that uses rust/rnm/net/.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/busy_poll.h>
#include <linux/smp.h>
#include <linux/cpumask.h>
#include <net/sock.h>

#include "net.h"

/* The value rust/rnm/net/ethtool.rs writes into op_needs_rtnl. */
static_assert(ETHTOOL_OP_NEEDS_RTNL_SCHANNELS == (1 << 3));

void *rnm_netdev_priv(const struct net_device *dev)
{
	return netdev_priv(dev);
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

/* The offloads of a software device that hands frames on unchanged, as veth. */
#define RNM_NET_SW_FEATURES (NETIF_F_HW_CSUM | NETIF_F_SG | NETIF_F_FRAGLIST | \
			     NETIF_F_RXCSUM | NETIF_F_SCTP_CRC | NETIF_F_HIGHDMA | \
			     NETIF_F_GSO_SOFTWARE | NETIF_F_GSO_ENCAP_ALL)

void rnm_netdev_set_sw_features(struct net_device *dev)
{
	/*
	 * No netpoll (netconsole): it transmits with interrupts disabled, from
	 * any context, and ndo_start_xmit() is promised bottom halves disabled
	 * and interrupts enabled (DeviceOps::start_xmit in device.rs).
	 */
	dev->priv_flags |= IFF_NO_QUEUE | IFF_DISABLE_NETPOLL;
	dev->features |= RNM_NET_SW_FEATURES;
	dev->hw_features = RNM_NET_SW_FEATURES;
	dev->hw_enc_features |= RNM_NET_SW_FEATURES;
	dev->vlan_features = dev->features;
	dev->max_mtu = ETH_MAX_MTU;
}

void rnm_eth_hw_addr_random(struct net_device *dev)
{
	eth_hw_addr_random(dev);
}

bool rnm_netif_running(const struct net_device *dev)
{
	return netif_running(dev);
}

void rnm_netdev_set_mtu(struct net_device *dev, unsigned int mtu)
{
	WRITE_ONCE(dev->mtu, mtu);
}

/*
 * Adds @napi to @dev as the NAPI context of receive queue @index, with
 * @weight and the persistent per-NAPI configuration of that index
 * (netif_napi_add_config(): its NAPI ID and the settings of the netdev
 * netlink family's napi-set survive closing and opening the device).
 * Returns -EINVAL if @dev has no receive queue @index: the configuration
 * array and the receive queue array are indexed by it.
 */
int rnm_netif_napi_add_queue(struct net_device *dev, struct napi_struct *napi,
			     int (*poll)(struct napi_struct *, int),
			     unsigned int index, int weight)
{
	if (index >= dev->num_rx_queues || index >= dev->num_napi_configs)
		return -EINVAL;
	netif_napi_add_config(dev, napi, poll, index);
	WRITE_ONCE(napi->weight, weight);
	return 0;
}

/*
 * Links (@link) or unlinks channel napi->index of the NAPI's device and
 * @napi: its receive queue and, if the device has it, its transmit queue
 * (a combined channel, as NIC drivers with one NAPI per queue pair link
 * them), for the netdev netlink family's queue-get.  Under RTNL for a
 * registered device (what netif_queue_set_napi() asserts for a device
 * without the instance lock); @napi was added by
 * rnm_netif_napi_add_queue(), which checked the receive queue's index.
 */
void rnm_napi_link_queues(struct napi_struct *napi, bool link)
{
	struct net_device *dev = napi->dev;
	struct napi_struct *n = link ? napi : NULL;

	netif_queue_set_napi(dev, napi->index, NETDEV_QUEUE_TYPE_RX, n);
	if (napi->index < dev->num_tx_queues)
		netif_queue_set_napi(dev, napi->index, NETDEV_QUEUE_TYPE_TX, n);
}

void rnm_netif_napi_del(struct napi_struct *napi)
{
	netif_napi_del(napi);
}

void rnm_napi_set_weight(struct napi_struct *napi, int weight)
{
	WRITE_ONCE(napi->weight, weight);
}

int rnm_napi_weight(const struct napi_struct *napi)
{
	return READ_ONCE(napi->weight);
}

gro_result_t rnm_napi_gro_receive(struct napi_struct *napi,
				  struct sk_buff *skb)
{
	return napi_gro_receive(napi, skb);
}

/*
 * GRO holds no frame, and napi_complete_done() will flush whatever it is
 * given: no gro_flush_timeout keeps frames past the poll, and the context is
 * not being busy-polled.  A frame that is the only one of a poll that
 * completes then has nothing to be merged with.
 */
bool rnm_napi_gro_idle(const struct napi_struct *napi)
{
	return !napi->gro.bitmask && !READ_ONCE(napi->gro_flush_timeout) &&
	       !(READ_ONCE(napi->state) & NAPIF_STATE_IN_BUSY_POLL);
}

/* What napi_gro_receive() does for a frame it passes up unmerged. */
int rnm_napi_receive_skb(struct napi_struct *napi, struct sk_buff *skb)
{
	skb_mark_napi_id(skb, napi);
	return netif_receive_skb(skb);
}

/*
 * Before GRO: orphans a frame whose destructor is not sock_wfree; keeps a
 * sock_wfree frame's socket but makes GRO compare sockets (slow_gro), so
 * that frames of different sockets are never merged.  As veth does.
 */
void rnm_skb_prepare_for_gro(struct sk_buff *skb)
{
	skb_prepare_for_gro(skb);
}

void rnm_dev_kfree_skb_any(struct sk_buff *skb)
{
	dev_kfree_skb_any(skb);
}

unsigned int rnm_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

unsigned int rnm_skb_headlen(const struct sk_buff *skb)
{
	return skb_headlen(skb);
}

const unsigned char *rnm_skb_data(const struct sk_buff *skb)
{
	return skb->data;
}

u16 rnm_skb_protocol(const struct sk_buff *skb)
{
	return be16_to_cpu(skb->protocol);
}

u16 rnm_skb_get_queue_mapping(const struct sk_buff *skb)
{
	return skb_get_queue_mapping(skb);
}

void rnm_skb_record_rx_queue(struct sk_buff *skb, u16 queue)
{
	skb_record_rx_queue(skb, queue);
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
