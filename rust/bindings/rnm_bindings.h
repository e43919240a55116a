/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C APIs the project's abstractions need beyond what the kernel crate's
 * bindings provide.  bindgen runs on this header at build time, with the
 * kernel's own bindgen flags and the allowlists in bindgen_parameters; the
 * output (bindings_generated.rs) is never committed.
 */

#include <linux/sysctl.h>
#include <linux/slab.h>
/* per-CPU counters */
#include <linux/percpu_counter.h>

#include "../helpers/rnm_helpers.h"

/* net: net_device, NAPI, sk_buff, ethtool; bus and sysfs; hrtimer */
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/skbuff.h>
#include <linux/device.h>
#include <linux/device/bus.h>
#include <linux/hrtimer.h>
/* per-queue statistics (the netdev netlink family's qstats) */
#include <net/netdev_queues.h>
/* XDP */
#include <net/xdp.h>
/* netfilter: conntrack helpers and expectations */
#include <linux/netfilter.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include "../helpers/netfilter.h"
#include "../helpers/nf_nat.h"

/* sysfs: directories of attribute files */
#include <linux/kobject.h>
#include <linux/sysfs.h>
