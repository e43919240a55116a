// SPDX-License-Identifier: GPL-2.0
//! Probe: a poll cannot claim it reopened its interrupt line (sparing the
//! `completed` callback that would) without reopening it: the proof comes
//! only from `PollContext::reopen_irq`.
// probe-expect: E0451.*field `_poll` of struct `([a-z_]+::)*Reopened` is private
#![forbid(unsafe_code)]

use crate::rnm::net::napi::{Poll, PollContext, Reopened};
use core::marker::PhantomData;

pub fn probe(ctx: PollContext<'_>) -> Poll<'_> {
    return ctx.complete_reopened(Reopened { _poll: PhantomData }); // probe-misuse
    ctx.complete()
}
