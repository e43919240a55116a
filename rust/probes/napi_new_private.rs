// SPDX-License-Identifier: GPL-2.0
//! Probe: a NAPI context cannot be made apart from its device (which would
//! let it outlive the device): only `NewDevice::add_napi` adds one.
// probe-expect: E0624.*associated function `new` is private
#![forbid(unsafe_code)]

use crate::rnm::net::{
    device::Device,
    napi::{Napi, Poller},
};

pub fn probe<P: Poller>(dev: &Device, data: P) {
    let _napi = Napi::new(dev, 0, 64, data); // probe-misuse
}
