// SPDX-License-Identifier: GPL-2.0
//! Probe: a NAPI context cannot be kept after its device is gone: the
//! contexts are borrowed from the device's registration.
// probe-expect: E0505.*cannot move out of `reg` because it is borrowed
#![forbid(unsafe_code)]

use crate::rnm::net::device::{DeviceOps, Registration};

pub fn probe<T: DeviceOps>(reg: Registration<T>) {
    let napi = &reg.napis()[0];
    drop(reg); // probe-misuse
    let _ = napi.irq_masked();
}
