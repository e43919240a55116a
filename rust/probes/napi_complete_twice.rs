// SPDX-License-Identifier: GPL-2.0
//! Probe: a poll cannot complete NAPI twice: completing consumes its
//! context.
// probe-expect: E0382.*use of moved value: `ctx`
#![forbid(unsafe_code)]

use crate::rnm::net::napi::{Poll, PollContext};

pub fn probe(ctx: PollContext<'_>) -> Poll<'_> {
    let _first = ctx.complete(); // probe-misuse
    ctx.complete()
}
