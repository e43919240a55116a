// SPDX-License-Identifier: GPL-2.0
//! Probe: a NAT expectation's announcement is written once: `mangle()`
//! consumes it (its reference is given up there).
// probe-expect: E0382.*use of moved value
#![forbid(unsafe_code)]

use crate::rnm::netfilter::expect::{ExpectTuple, Expectation};
use crate::rnm::netfilter::helper::HelpContext;

pub fn probe(ctx: &mut HelpContext<'_>, tuple: &ExpectTuple) {
    let Ok(exp) = Expectation::alloc(ctx) else {
        return;
    };
    let exp = exp.init(tuple);
    if let Some(mut nat) = ctx.nat() {
        if let Ok(exp) = nat.expect_related(exp, None) {
            let _ = exp.mangle(0, 1, b"x");
            let _ = exp.mangle(0, 1, b"y"); // probe-misuse
        }
    }
}
