// SPDX-License-Identifier: GPL-2.0
//! Probe: the interrupt handler, which may run in hard interrupt context,
//! cannot take a bottom-half spinlock: process context holds it with
//! interrupts enabled, and the interrupt would spin on its own CPU forever.
//! The handler's `IrqContext` is not the `BhContext` that
//! `SpinLockBh::lock_with` needs, and nothing turns one into the other.
// probe-expect: E0308.*mismatched types
#![forbid(unsafe_code)]

use crate::rnm::{
    bh::{BhContext, IrqContext, SpinLockBh},
    net::napi::{Napi, Poll, PollContext, Poller},
};
use kernel::prelude::*;

#[pin_data]
struct Queue {
    #[pin]
    ring: SpinLockBh<u32>,
}

impl Poller for Queue {
    fn poll<'a>(napi: &'a Napi<Self>, ctx: PollContext<'a>) -> Poll<'a> {
        *napi.data().ring.lock_with(ctx.bh()) += 1;
        ctx.complete()
    }

    fn completed(napi: &Napi<Self>, _bh: &BhContext) {
        napi.unmask_irq();
    }

    fn interrupt(napi: &Napi<Self>, irq: &IrqContext, _remote: bool) {
        *napi.data().ring.lock_with(irq) += 1; // probe-misuse
        napi.schedule(irq);
    }
}
