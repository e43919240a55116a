// SPDX-License-Identifier: GPL-2.0
//! Probe: `net::synchronize_net()` sleeps (and waits for RCU readers), so
//! it must not be callable from the poll (softirq, an RCU read-side
//! section): it needs a process-context proof, as `Napi::disable` does.
// probe-expect: E0061|E0603|E0425|takes 1 argument
#![forbid(unsafe_code)]

use crate::rnm::{
    bh::BhContext,
    net::{
        napi::{Napi, Poll, PollContext, Poller},
        synchronize_net,
    },
};

struct Queue;

impl Poller for Queue {
    fn poll<'a>(_napi: &'a Napi<Self>, ctx: PollContext<'a>) -> Poll<'a> {
        synchronize_net(); // probe-misuse
        ctx.complete()
    }

    fn completed(_napi: &Napi<Self>, _bh: &BhContext) {
        let _ = synchronize_net;
    }

    fn interrupt(_napi: &Napi<Self>, _bh: &BhContext, _remote: bool) {}
}
