/* SPDX-License-Identifier: GPL-2.0 */
/* Attributes of sysfs files that are not in static memory (rust/rnm/sysfs.rs). */
#ifndef RNM_HELPERS_SYSFS_H
#define RNM_HELPERS_SYSFS_H

struct attribute;

void rnm_sysfs_attr_init(struct attribute *attr);

#endif /* RNM_HELPERS_SYSFS_H */
