// SPDX-License-Identifier: GPL-2.0
//! Probe: a bus device (or bus) must not be given an empty name:
//! `device_add()` accepts "" (only NULL is refused) and
//! `kobject_add_internal()` then hits `WARN(1, "attempted to be registered
//! with empty name")`.  `sysfs::Directory::create` refuses one with
//! `EINVAL`; `DeviceRegistration::new` (and `BusType::new` for `Bus::NAME`)
//! should too, or take a name type that cannot be empty.
// probe-expect: E0[0-9]+
#![forbid(unsafe_code)]

use crate::rnm::bus::{Attr, Bus, BusType, DeviceRegistration};
use kernel::prelude::*;

struct MyBus;

impl Bus for MyBus {
    type DeviceData = u32;
    const NAME: &'static CStr = c"rnm_probe";
    const BUS_ATTRS: &'static [Attr] = &[];
    const DEVICE_ATTRS: &'static [Attr] = &[];
}

static BUS: BusType<MyBus> = BusType::new();

pub fn probe() -> Result {
    let dev = DeviceRegistration::new(&BUS, c"", Ok::<_, Error>(0))?; // probe-misuse
    let _ = &BUS;
    drop(dev); // probe-misuse
    Ok(())
}
