// SPDX-License-Identifier: GPL-2.0
//! Probe: an expectation waiting for its announcement to be rewritten
//! cannot outlive the help callback whose packet holds its master.
// probe-expect: E0521|borrowed data escapes|lifetime may not live long enough|does not live long enough
#![forbid(unsafe_code)]

use crate::rnm::netfilter::expect::{ExpectTuple, Expectation};
use crate::rnm::netfilter::helper::HelpContext;
use crate::rnm::netfilter::nat::NatExpectation;

pub fn probe(
    ctx: &mut HelpContext<'_>,
    tuple: &ExpectTuple,
    keep: &mut Option<NatExpectation<'static, 'static, 'static>>,
) {
    let Ok(exp) = Expectation::alloc(ctx) else {
        return;
    };
    let exp = exp.init(tuple);
    if let Some(mut nat) = ctx.nat() {
        if let Ok(exp) = nat.expect_related(exp, None) {
            *keep = Some(exp); // probe-misuse
        }
    }
}
