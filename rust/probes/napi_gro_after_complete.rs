// SPDX-License-Identifier: GPL-2.0
//! Probe: a poll cannot hand frames to GRO after completing NAPI (the
//! context belongs to the core again): completing consumes its context.
// probe-expect: E0382.*borrow of moved value: `ctx`
#![forbid(unsafe_code)]

use crate::rnm::net::{napi::PollContext, skb::SkBuff};

pub fn probe(mut ctx: PollContext<'_>, skb: SkBuff) {
    let _done = ctx.complete(); // probe-misuse
    let _ = ctx.gro_receive(skb);
}
