/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for the static inline net_device, NAPI, sk_buff and
 * cross-CPU call functions used by rust/rnm/net/.  Defined in net.c.
 */
#ifndef RNM_HELPERS_NET_H
#define RNM_HELPERS_NET_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/smp.h>
#include <net/xdp.h>

void rnm_netif_carrier_on(struct net_device *dev);
void rnm_netif_carrier_off(struct net_device *dev);
void rnm_set_netdev_dev(struct net_device *dev, struct device *parent);
void rnm_netdev_set_ops(struct net_device *dev, const struct net_device_ops *ops,
		     const struct ethtool_ops *ethtool_ops);
void rnm_netdev_set_sw_features(struct net_device *dev, bool vlan);
void rnm_eth_hw_addr_random(struct net_device *dev);
void rnm_netdev_set_mtu(struct net_device *dev, unsigned int mtu);

int rnm_napi_add_enable(struct net_device *dev, struct napi_struct *napi,
			int (*poll)(struct napi_struct *, int),
			unsigned int index, const u32 *weight);
void rnm_napi_disable_del(struct napi_struct *napi);
void rnm_napi_init_unlisted(struct napi_struct *napi);
bool rnm_napi_queue_index_ok(const struct net_device *dev, unsigned int index);
void rnm_napi_update_weight(struct napi_struct *napi, struct net_device *dev,
			    const u32 *weight);
gro_result_t rnm_napi_gro_receive(struct napi_struct *napi,
				  struct sk_buff *skb);
bool rnm_napi_gro_idle(const struct napi_struct *napi);
struct sk_buff *rnm_dev_forward_skb(struct net_device *to,
				    struct net_device *from,
				    struct sk_buff *skb);
int rnm_napi_receive_skb(struct napi_struct *napi, struct sk_buff *skb);
unsigned int rnm_napi_receive_list(struct napi_struct *napi,
				   struct sk_buff **skbs, unsigned int n);

void rnm_dev_kfree_skb_any(struct sk_buff *skb);
u16 rnm_skb_protocol(const struct sk_buff *skb);
bool rnm_netif_tx_try_stop(struct net_device *dev, u16 index);
bool rnm_netif_tx_wake_queue(struct net_device *dev, unsigned int i);
void rnm_skb_tx_timestamp(struct sk_buff *skb);

struct sk_buff *rnm_skb_gso_segment(struct sk_buff *skb, struct net_device *dev);
bool rnm_skb_is_gso(const struct sk_buff *skb);
struct sk_buff *rnm_skb_list_pop(struct sk_buff **list);

unsigned int rnm_netdev_mtu(const struct net_device *dev);
unsigned int rnm_xdp_max_mtu(void);
unsigned int rnm_xdp_max_mtu_frags(void);
unsigned int rnm_xdp_prog_max_mtu(const struct bpf_prog *prog);
bool rnm_netdev_bpf_is_setup_prog(const struct netdev_bpf *bpf);
struct bpf_prog *rnm_netdev_bpf_prog(const struct netdev_bpf *bpf);
void rnm_netdev_bpf_mtu_error(struct netdev_bpf *bpf);
extern const struct xdp_metadata_ops rnm_xdp_metadata_ops;
void rnm_netdev_set_xdp_features(struct net_device *dev, bool xdp,
				 bool ndo_xmit);
int rnm_xdp_rxq_reg(struct xdp_rxq_info *rxq, struct net_device *dev,
		    u32 index, struct page_pool **pp);
void rnm_xdp_rxq_unreg(struct xdp_rxq_info *rxq, struct page_pool *pp);
int rnm_xdp_run_skb(struct napi_struct *napi, struct xdp_rxq_info *rxq,
		    struct page_pool *pp, struct bpf_prog *prog,
		    struct sk_buff *skb, void **out);
unsigned int rnm_xdp_frame_len(const struct xdp_frame *xdpf);
struct sk_buff *rnm_xdp_build_skb_from_frame(struct xdp_frame *xdpf,
					     struct net_device *dev);

void rnm_init_csd(struct __call_single_data *csd, void (*func)(void *),
		  void *info);
bool rnm_cpu_online(unsigned int cpu);

#endif /* RNM_HELPERS_NET_H */
