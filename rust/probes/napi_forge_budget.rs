// SPDX-License-Identifier: GPL-2.0
//! Probe: a poll cannot report more work than its budget: the count it
//! completes with is the frames its context handed up, which it cannot
//! forge.
// probe-expect: E0451.*field `frames` of struct `([a-z_]+::)*WorkDone` is private
#![forbid(unsafe_code)]

use crate::rnm::net::napi::{Poll, PollContext, WorkDone};
use core::marker::PhantomData;

pub fn probe(ctx: PollContext<'_>) -> Poll<'_> {
    let budget = ctx.remaining();
    return Poll::Complete(WorkDone { frames: budget + 1, reopened: false, _poll: PhantomData }); // probe-misuse
    ctx.complete()
}
