// SPDX-License-Identifier: GPL-2.0
//! Probe: a poll reopens only the interrupt line of the context it polls.
//! With the proof for another context's line, this one would complete
//! without its `completed` callback and stay masked; the proof comes from
//! the poll's own `PollContext`, and no `Napi` makes one.
// probe-expect: E0599.*no method named `reopen_irq` found
#![forbid(unsafe_code)]

use crate::rnm::net::napi::{Napi, Poll, PollContext, Poller};

pub fn probe<'a, P: Poller>(other: &Napi<P>, ctx: PollContext<'a>) -> Poll<'a> {
    let _ = other;
    let reopened = other.reopen_irq(&ctx); // probe-misuse
    return ctx.complete_reopened(reopened); // probe-misuse
    ctx.complete()
}
