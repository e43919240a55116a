/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for static inline kernel functions and macros that
 * the abstractions call.  They are compiled into each module that needs
 * them (see the module's *_helpers.c) and declared here for bindgen.
 */
#ifndef RNM_HELPERS_H
#define RNM_HELPERS_H

/* bottom halves (rust/rnm/bh.rs) */
#include "bh.h"
/* sysfs attributes (rust/rnm/sysfs.rs) */
#include "sysfs.h"
/* net: net_device, NAPI, sk_buff, hrtimer, bottom halves */
#include "net.h"
/* per-CPU counters (rust/rnm/percpu_counter.rs) */
#include "percpu_counter.h"

#endif /* RNM_HELPERS_H */
