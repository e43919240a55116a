// SPDX-License-Identifier: GPL-2.0
//! Probe: the interrupt handler runs in hard interrupt context (the
//! hrtimer of `arm_irq`, the IPI of a steered line), where
//! `local_bh_enable()` hits `WARN_ON_ONCE(in_hardirq())`: `bh::disable()`
//! (whose guard's drop calls it) must not be callable there.
// probe-expect: E0061|E0599|E0425|takes 1 argument
#![forbid(unsafe_code)]

use crate::rnm::{
    bh::{self, BhContext},
    net::napi::{Napi, Poll, PollContext, Poller},
};

struct Queue;

impl Poller for Queue {
    fn poll<'a>(_napi: &'a Napi<Self>, ctx: PollContext<'a>) -> Poll<'a> {
        ctx.complete()
    }

    fn completed(_napi: &Napi<Self>, _bh: &BhContext) {}

    fn interrupt(napi: &Napi<Self>, bh: &BhContext, _remote: bool) {
        let _guard = bh::disable(); // probe-misuse
        napi.schedule(bh);
    }
}
