// SPDX-License-Identifier: GPL-2.0
//! Probe: a frame is forwarded to a device only with bottom halves
//! disabled, never in hard interrupt context (where the interrupt handler,
//! `Poller::interrupt`, may run): `__dev_forward_skb` frees a frame it
//! drops, and scrubbing a frame drops its conntrack entry, which takes a
//! lock with only bottom halves disabled.  The handler's `IrqContext` is
//! not the `BhContext` that `Device::forward` needs.
// probe-expect: E0308.*mismatched types
#![forbid(unsafe_code)]

use crate::rnm::{
    bh::IrqContext,
    net::{device::Device, skb::SkBuff},
};

pub fn probe(to: &Device, from: &Device, skb: SkBuff, irq: &IrqContext) {
    let _ = to.forward(skb, from, irq); // probe-misuse
}
