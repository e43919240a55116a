// SPDX-License-Identifier: GPL-2.0
//! Probe: a driver registers only on the bus type it is written for: its
//! probe and remove take that bus's device data, which a device of another
//! bus does not have.
// probe-expect: E0308.*mismatched types
#![forbid(unsafe_code)]

use crate::rnm::bus::{Attr, Bus, BusType, Device, Driver, DriverRegistration};
use kernel::prelude::*;

struct BusA;

impl Bus for BusA {
    type DeviceData = u32;
    const NAME: &'static CStr = c"rnm_probe_a";
    const BUS_ATTRS: &'static [Attr] = &[];
    const DEVICE_ATTRS: &'static [Attr] = &[];
}

struct BusB;

impl Bus for BusB {
    type DeviceData = KVec<u8>;
    const NAME: &'static CStr = c"rnm_probe_b";
    const BUS_ATTRS: &'static [Attr] = &[];
    const DEVICE_ATTRS: &'static [Attr] = &[];
}

static BUS_A: BusType<BusA> = BusType::new();
static BUS_B: BusType<BusB> = BusType::new();

struct DriverA;

impl Driver for DriverA {
    type Bus = BusA;
    type Data = u32;
    const NAME: &'static CStr = c"rnm_probe_a";

    fn probe(dev: &Device<BusA>) -> Result<Pin<KBox<u32>>> {
        Ok(KBox::pin(*dev.data(), GFP_KERNEL)?)
    }
}

pub fn probe(module: &'static ThisModule) -> Result {
    let _ = &BUS_B;
    let _a = DriverRegistration::<DriverA>::register(&BUS_B, module)?; // probe-misuse
    let _a = DriverRegistration::<DriverA>::register(&BUS_A, module)?;
    Ok(())
}
