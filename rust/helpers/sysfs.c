// SPDX-License-Identifier: GPL-2.0
/* Attributes of sysfs files that are not in static memory; declared in sysfs.h. */

#include <linux/sysfs.h>

#include "sysfs.h"

/*
 * With lockdep, sysfs gives each file the lock class of its attribute's
 * key, which must be in static memory or registered: an attribute that is
 * not static needs sysfs_attr_init(), which points it at one (the one key
 * here, shared by every attribute initialised through this function).
 * Without lockdep it does nothing.
 */
void rnm_sysfs_attr_init(struct attribute *attr)
{
	sysfs_attr_init(attr);
}
