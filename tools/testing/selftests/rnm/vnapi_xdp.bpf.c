// SPDX-License-Identifier: GPL-2.0
/*
 * XDP programs for vnapi_xdp.sh and bench_vnapi.sh (BENCH_XDP=1), one per
 * section (xdp/pass for xdp_pass, ...), attached with
 *   ip link set dev DEV xdpdrv obj vnapi_xdp.o sec xdp/pass
 * ip selects the program by its section and loads it as XDP (libbpf does
 * not know these section names, ip sets the type).
 * Compiled where they run (the guest's root is the build root):
 *   clang-19 -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu [-D...] \
 *	-c vnapi_xdp.bpf.c -o vnapi_xdp.o
 *
 * Which UDP datagrams the UDP programs act on (compile-time, optional):
 *   -DUDP_PORT=P		source or destination port P only (the
 *				source port matches the reflected datagrams
 *				on the sender's side)
 *   -DUDP_MIN_PAYLOAD=L	payload of at least L bytes only (so that
 *				iperf3's 4-byte UDP connect messages pass)
 * Everything else is passed to the stack, so that ARP, TCP (iperf3's
 * control connection) and the rest keep working.
 *
 * xdp_frags (section xdp.frags, multi-buffer) is built only with
 * -DFRAGS=F, F one of pass, drop_udp, tx_reflect and redirect.
 *
 * xdp_meta (section xdp/meta) is built only with -DMETA: it calls the
 * receive metadata kfuncs, which resolve only in a program bound to the
 * device (BPF_F_XDP_DEV_BOUND_ONLY), loaded with
 *   bpftool prog loadall vnapi_xdp.o DIR type xdp xdpmeta_dev DEV pinmaps MAPS
 * on a kernel with BTF.
 *
 * xdp_vlan (section xdp/vlan, for vnapi_vlan.sh) is built only with
 * -DVLAN; with -DMETA too, it also calls bpf_xdp_metadata_rx_vlan_tag()
 * (then loaded bound to the device, as xdp_meta).
 *
 * xdp_redirect is built only with -DREDIRECT_IFINDEX=N (the device to
 * redirect to, in the namespace of the device the program runs on) and
 * -DREDIRECT_DMAC=0x..,0x..,0x..,0x..,0x..,0x.. (the destination MAC the
 * frames get, that of the device behind it).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IP_MF		0x2000
#define IP_OFFSET	0x1fff

/* The Ethernet, IPv4 and UDP headers of an unfragmented IPv4 UDP frame
 * that the compile-time filter selects; false for anything else.
 */
static __always_inline int udp_frame(struct xdp_md *ctx, struct ethhdr **eth,
				     struct iphdr **ip, struct udphdr **udp)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *e = data;
	struct iphdr *iph;
	struct udphdr *uh;
	__u32 ihl;

	if ((void *)(e + 1) > data_end)
		return 0;
	if (e->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	iph = (void *)(e + 1);
	if ((void *)(iph + 1) > data_end)
		return 0;
	if (iph->protocol != IPPROTO_UDP)
		return 0;
	/* A fragment other than the first has no UDP header. */
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return 0;
	ihl = iph->ihl;
	if (ihl < 5)
		return 0;
	uh = (void *)iph + ihl * 4;
	if ((void *)(uh + 1) > data_end)
		return 0;
#ifdef UDP_PORT
	if (uh->dest != bpf_htons(UDP_PORT) && uh->source != bpf_htons(UDP_PORT))
		return 0;
#endif
#ifdef UDP_MIN_PAYLOAD
	if (bpf_ntohs(uh->len) < sizeof(*uh) + UDP_MIN_PAYLOAD)
		return 0;
#endif
	*eth = e;
	*ip = iph;
	*udp = uh;
	return 1;
}

SEC("xdp/pass")
int xdp_pass(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

SEC("xdp/drop")
int xdp_drop(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_DROP;
}

/* Drops the selected UDP datagrams only (for the benchmark, whose
 * iperf3 needs its TCP control connection).
 */
static __always_inline int drop_udp(struct xdp_md *ctx)
{
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;

	return udp_frame(ctx, &eth, &ip, &udp) ? XDP_DROP : XDP_PASS;
}

SEC("xdp/drop_udp")
int xdp_drop_udp(struct xdp_md *ctx)
{
	return drop_udp(ctx);
}

SEC("xdp/aborted")
int xdp_aborted(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_ABORTED;
}

/* Sends a selected UDP datagram back where it came from: Ethernet
 * addresses, IPv4 addresses and UDP ports swapped.  The IPv4 and UDP
 * checksums stay valid: swapping words does not change a one's-complement
 * sum (the UDP checksum must be complete in the frame, though: a sender
 * with checksum offload leaves only the pseudo-header's sum in it).
 */
static __always_inline int tx_reflect(struct xdp_md *ctx)
{
	unsigned char mac[ETH_ALEN];
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	__be32 addr;
	__be16 port;

	if (!udp_frame(ctx, &eth, &ip, &udp))
		return XDP_PASS;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	addr = ip->daddr;
	ip->daddr = ip->saddr;
	ip->saddr = addr;
	port = udp->dest;
	udp->dest = udp->source;
	udp->source = port;
	return XDP_TX;
}

SEC("xdp/tx_reflect")
int xdp_tx_reflect(struct xdp_md *ctx)
{
	return tx_reflect(ctx);
}

#ifdef REDIRECT_IFINDEX
/* The MAC written byte by byte, as immediates (an array initialised from
 * the list would also leave a .rodata section behind).
 */
#define SET_MAC(p, a, b, c, d, e, f) \
	do { (p)[0] = a; (p)[1] = b; (p)[2] = c; (p)[3] = d; (p)[4] = e; (p)[5] = f; } while (0)
#define SET_MAC_LIST(p, ...) SET_MAC(p, __VA_ARGS__)

/* Sends a selected UDP datagram out of device REDIRECT_IFINDEX, to
 * the destination MAC REDIRECT_DMAC.
 */
static __always_inline int redirect(struct xdp_md *ctx)
{
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;

	if (!udp_frame(ctx, &eth, &ip, &udp))
		return XDP_PASS;
	SET_MAC_LIST(eth->h_dest, REDIRECT_DMAC);
	return bpf_redirect(REDIRECT_IFINDEX, 0);
}

SEC("xdp/redirect")
int xdp_redirect(struct xdp_md *ctx)
{
	return redirect(ctx);
}
#endif

#ifdef FRAGS
static __always_inline int pass(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

/* With -DFRAGS=F (pass, drop_udp, tx_reflect, or redirect with the
 * REDIRECT_ definitions): what xdp_F does, as
 * xdp_frags in section xdp.frags, which libbpf (and so ip) loads with
 * BPF_F_XDP_HAS_FRAGS: it takes frames longer than a page, in several
 * buffers (multi-buffer XDP).  One such program per object: libbpf knows
 * the section by its exact name only.  A selected UDP frame whose length,
 * frags included, is not that of its IPv4 datagram and Ethernet header is
 * aborted.
 */
SEC("xdp.frags")
int xdp_frags(struct xdp_md *ctx)
{
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;

	if (udp_frame(ctx, &eth, &ip, &udp) &&
	    bpf_xdp_get_buff_len(ctx) != sizeof(*eth) + bpf_ntohs(ip->tot_len))
		return XDP_ABORTED;
	return FRAGS(ctx);
}
#endif

char _license[] SEC("license") = "GPL";

#ifdef META
/* The receive metadata kfuncs (srctree/net/core/xdp.c). */
enum xdp_rss_hash_type {
	XDP_RSS_TYPE_NONE = 0,
	XDP_RSS_TYPE_L4_ANY = 1 << 3,
};
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash,
				    enum xdp_rss_hash_type *rss_type) __ksym;
extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx,
					 __u64 *timestamp) __ksym;

/* What xdp_meta saw of the selected datagrams of one UDP source port.  The
 * datagrams of one flow come through one receive queue, in one NAPI context
 * at a time: plain increments.
 */
struct meta {
	__u32 frames;
	__u32 hashed;		/* the hash kfunc returned 0 */
	__u32 l4;		/* ... with the type XDP_RSS_TYPE_L4_ANY */
	__u32 changed;		/* ... with a hash other than the first */
	__u32 hash;		/* the first hash */
	__s32 ts_ret;		/* the timestamp kfunc's last return value */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct meta);
} meta SEC(".maps");

SEC("xdp/meta")
int xdp_meta(struct xdp_md *ctx)
{
	enum xdp_rss_hash_type type = XDP_RSS_TYPE_NONE;
	struct meta zero = {}, *m;
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	__u32 port, hash = 0;
	__u64 ts;

	if (!udp_frame(ctx, &eth, &ip, &udp))
		return XDP_PASS;
	port = bpf_ntohs(udp->source);
	bpf_map_update_elem(&meta, &port, &zero, BPF_NOEXIST);
	m = bpf_map_lookup_elem(&meta, &port);
	if (!m)
		return XDP_PASS;
	m->frames++;
	if (!bpf_xdp_metadata_rx_hash(ctx, &hash, &type)) {
		if (!m->hashed)
			m->hash = hash;
		else if (hash != m->hash)
			m->changed++;
		m->hashed++;
		if (type & XDP_RSS_TYPE_L4_ANY)
			m->l4++;
	}
	m->ts_ret = bpf_xdp_metadata_rx_timestamp(ctx, &ts);
	return XDP_PASS;
}
#endif

#ifdef VLAN
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8

#ifdef META
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx,
					__be16 *vlan_proto,
					__u16 *vlan_tci) __ksym;
#endif

/* A kind of IPv4 UDP datagram xdp_vlan saw, by destination port: the VLAN
 * tags in the frame, outer first (TPID 0: none), and the tag out of band
 * that bpf_xdp_metadata_rx_vlan_tag() gave.  Host order.
 */
struct vlan_key {
	__u16 port;
	__u16 in_tpid[2];
	__u16 in_vid[2];
	__u16 oob_tpid;
	__u16 oob_vid;
	__u16 pad;
	__s32 oob_ret;		/* the kfunc's return value; 1: not called */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct vlan_key);
	__type(value, __u64);
} vlan SEC(".maps");

/* Counts the IPv4 UDP datagrams by kind (struct vlan_key), with at most
 * two tags in the frame; passes everything.
 */
SEC("xdp/vlan")
int xdp_vlan(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct vlan_key key = { .oob_ret = 1 };
	struct ethhdr *e = data;
	__u16 proto, *tag = (void *)(e + 1);
	struct iphdr *iph;
	struct udphdr *uh;
	__u64 zero = 0, *n;
	int i;
#ifdef META
	__be16 oob_proto;
	__u16 oob_tci;
#endif

	if ((void *)(e + 1) > data_end)
		return XDP_PASS;
	proto = bpf_ntohs(e->h_proto);
	for (i = 0; i < 2; i++) {
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if ((void *)(tag + 2) > data_end)
			return XDP_PASS;
		key.in_tpid[i] = proto;
		key.in_vid[i] = bpf_ntohs(tag[0]) & 0xfff;
		proto = bpf_ntohs(tag[1]);
		tag += 2;
	}
	if (proto != ETH_P_IP)
		return XDP_PASS;
	iph = (void *)tag;
	if ((void *)(iph + 1) > data_end || iph->protocol != IPPROTO_UDP ||
	    iph->ihl != 5)
		return XDP_PASS;
	uh = (void *)(iph + 1);
	if ((void *)(uh + 1) > data_end)
		return XDP_PASS;
	key.port = bpf_ntohs(uh->dest);
#ifdef META
	key.oob_ret = bpf_xdp_metadata_rx_vlan_tag(ctx, &oob_proto, &oob_tci);
	if (!key.oob_ret) {
		key.oob_tpid = bpf_ntohs(oob_proto);
		key.oob_vid = oob_tci & 0xfff;
	}
#endif
	bpf_map_update_elem(&vlan, &key, &zero, BPF_NOEXIST);
	n = bpf_map_lookup_elem(&vlan, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_PASS;
}
#endif
