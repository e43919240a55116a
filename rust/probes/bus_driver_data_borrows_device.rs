// SPDX-License-Identifier: GPL-2.0
//! Probe: a driver's per-device data cannot keep the device that probe
//! lends: it must not outlive the binding (the device may be deleted right
//! after `remove`), and the borrow ends with the probe.
// probe-expect: lifetime may not live long enough|E0521|borrowed data escapes
#![forbid(unsafe_code)]

use crate::rnm::bus::{Attr, Bus, Device, Driver};
use kernel::prelude::*;

struct MyBus;

impl Bus for MyBus {
    type DeviceData = u32;
    const NAME: &'static CStr = c"rnm_probe";
    const BUS_ATTRS: &'static [Attr] = &[];
    const DEVICE_ATTRS: &'static [Attr] = &[];
}

struct Kept(Option<&'static Device<MyBus>>);

struct MyDriver;

impl Driver for MyDriver {
    type Bus = MyBus;
    type Data = Kept;
    const NAME: &'static CStr = c"rnm_probe";

    fn probe(dev: &Device<MyBus>) -> Result<Pin<KBox<Kept>>> {
        let _ = dev;
        let kept = Kept(Some(dev)); // probe-misuse
        let kept = Kept(None);
        Ok(KBox::pin(kept, GFP_KERNEL)?)
    }
}
