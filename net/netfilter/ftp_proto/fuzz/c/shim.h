/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parser functions cut out of the kernel source (kernel_parsers.h,
 * see build.rs) need of the kernel, in userspace: types, byte order, the
 * conntrack structures they write and the macros they call.  Only
 * freestanding headers: nothing here may clash with the kernel's names.
 */
#ifndef RNM_FUZZ_SHIM_H
#define RNM_FUZZ_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint8_t u_int8_t;
typedef uint16_t u_int16_t;
typedef uint32_t u_int32_t;
typedef uint32_t __u32;
typedef uint16_t __be16;
typedef uint32_t __be32;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define htons(x) ((__be16)__builtin_bswap16(x))
#define htonl(x) ((__be32)__builtin_bswap32(x))
#else
#define htons(x) ((__be16)(x))
#define htonl(x) ((__be32)(x))
#endif
#define ntohs(x) htons(x)

#define memset __builtin_memset
#define memcpy __builtin_memcpy
#define strlen __builtin_strlen

/* Kernel names that are also C library functions or globals. */
#define strncasecmp rnm_kernel_strncasecmp
#define _ctype rnm_kernel_ctype

#define min_t(type, x, y) ((type)(x) < (type)(y) ? (type)(x) : (type)(y))

/* pr_debug() without DEBUG: checks its arguments, prints nothing. */
static inline __attribute__((format(printf, 1, 2))) int no_printk(const char *fmt, ...)
{
	return 0;
}
#define pr_debug(fmt, ...) no_printk(fmt, ##__VA_ARGS__)

#define PF_INET 2
#define PF_INET6 10

/* include/uapi/linux/netfilter/nf_conntrack_tuple_common.h */
enum ip_conntrack_dir {
	IP_CT_DIR_ORIGINAL,
	IP_CT_DIR_REPLY,
	IP_CT_DIR_MAX
};

/* include/uapi/linux/in6.h */
struct in6_addr {
	u8 s6_addr[16];
};

/* include/uapi/linux/netfilter.h */
union nf_inet_addr {
	__u32 all[4];
	__be32 ip;
	__be32 ip6[4];
};

/* include/net/netfilter/nf_conntrack_tuple.h, the members the parsers use */
union nf_conntrack_man_proto {
	__be16 all;
	struct {
		__be16 port;
	} tcp;
};

struct nf_conntrack_man {
	union nf_inet_addr u3;
	union nf_conntrack_man_proto u;
	u_int16_t l3num;
};

#endif /* RNM_FUZZ_SHIM_H */
