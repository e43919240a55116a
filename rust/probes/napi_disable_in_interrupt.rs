// SPDX-License-Identifier: GPL-2.0
//! Probe: the interrupt handler cannot disable NAPI (which sleeps, and
//! must be serialised with enabling): disabling needs the RTNL proof that
//! only `ndo_open`/`ndo_stop` get.
// probe-expect: E0061.*takes 1 argument but 0 arguments were supplied
#![forbid(unsafe_code)]

use crate::rnm::{
    bh::{BhContext, IrqContext},
    net::napi::{Napi, Poll, PollContext, Poller},
};

struct Queue;

impl Poller for Queue {
    fn poll<'a>(_napi: &'a Napi<Self>, ctx: PollContext<'a>) -> Poll<'a> {
        ctx.complete()
    }

    fn completed(napi: &Napi<Self>, _bh: &BhContext) {
        napi.unmask_irq();
    }

    fn interrupt(napi: &Napi<Self>, irq: &IrqContext, _remote: bool) {
        napi.disable(); // probe-misuse
        napi.schedule(irq);
    }
}
