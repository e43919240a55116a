// SPDX-License-Identifier: GPL-2.0
//! Probe: a device's private data must not borrow a local: `DeviceOps`
//! (and `Poller`) have no `'static` bound, so a registered device whose
//! `T` borrows a stack slot can be leaked with `mem::forget`, and its
//! `ndo_start_xmit` then reads a dead stack slot (as `sysctl_forget_local`
//! for sysctl tables).
// probe-expect: E0597|does not live long enough|E0310|E0477|may not live long enough
#![forbid(unsafe_code)]

use crate::rnm::{
    bh::BhContext,
    bus::{Attr, Bus},
    net::{
        device::{Device, DeviceOps, Registration},
        ethtool::EthtoolOps,
        napi::{Napi, Poll, PollContext, Poller},
        skb::SkBuff,
    },
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;

struct NoBus;

impl Bus for NoBus {
    type DeviceData = ();
    const NAME: &'static CStr = c"probe";
    const BUS_ATTRS: &'static [Attr] = &[];
    const DEVICE_ATTRS: &'static [Attr] = &[];
}

struct Queue;

impl Poller for Queue {
    fn poll<'a>(_napi: &'a Napi<Self>, ctx: PollContext<'a>) -> Poll<'a> {
        ctx.complete()
    }

    fn completed(_napi: &Napi<Self>, _bh: &BhContext) {}

    fn interrupt(_napi: &Napi<Self>, _bh: &BhContext, _remote: bool) {}
}

struct Dev<'a> {
    tx: &'a AtomicU64,
}

#[vtable]
impl EthtoolOps for Dev<'_> {
    const DRIVER_NAME: &'static CStr = c"probe";
}

impl DeviceOps for Dev<'_> {
    type Queue = Queue;

    fn start_xmit(_dev: &Device, data: &Self, skb: SkBuff, _bh: &BhContext) {
        data.tx.fetch_add(1, Ordering::Relaxed);
        drop(skb);
    }
}

pub fn probe() -> Result {
    let tx = AtomicU64::new(0);
    let mut reg = Registration::new(c"probe%d", 1, |_| Ok(Dev { tx: &tx }))?; // probe-misuse
    reg.register::<NoBus>(None)?; // probe-misuse
    core::mem::forget(reg); // probe-misuse
    Ok(())
}
