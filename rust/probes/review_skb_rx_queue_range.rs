// SPDX-License-Identifier: GPL-2.0
//! Probe: `SkBuff::record_rx_queue` takes any `u16`; a queue index at or
//! above the receiving device's `real_num_rx_queues` reaches
//! `get_rps_cpu()`, which (RPS configured, more than one receive queue)
//! hits `WARN_ONCE("%s received packet on queue %u, but number of RX
//! queues is %u")`.  The index should be checked against the device, or
//! recorded by the abstraction from the NAPI context's queue.
// probe-expect: E0[0-9]+
#![forbid(unsafe_code)]

use crate::rnm::{
    bh::BhContext,
    net::{
        napi::{Napi, Poll, PollContext, Poller},
        skb::SkBuff,
    },
};
use kernel::{prelude::*, sync::SpinLock};

struct Queue {
    frames: Pin<KBox<SpinLock<KVec<SkBuff>>>>,
}

impl Poller for Queue {
    fn poll<'a>(napi: &'a Napi<Self>, mut ctx: PollContext<'a>) -> Poll<'a> {
        if let Some(mut skb) = napi.data().frames.lock().pop() {
            skb.record_rx_queue(u16::MAX - 1); // probe-misuse
            skb.record_rx_queue(0);
            let _ = ctx.gro_receive(skb);
        }
        ctx.complete()
    }

    fn completed(_napi: &Napi<Self>, _bh: &BhContext) {}

    fn interrupt(_napi: &Napi<Self>, _bh: &BhContext, _remote: bool) {}
}
