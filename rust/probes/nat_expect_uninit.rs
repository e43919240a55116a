// SPDX-License-Identifier: GPL-2.0
//! Probe: behind NAT too, only an initialised expectation can be
//! registered (`nf_ct_expect_related()` on one whose tuple was never set
//! would expect garbage).
// probe-expect: E0308.*mismatched types
#![forbid(unsafe_code)]

use crate::rnm::netfilter::expect::{ExpectError, ExpectTuple, Expectation};
use crate::rnm::netfilter::helper::HelpContext;

pub fn probe(ctx: &mut HelpContext<'_>, tuple: &ExpectTuple) -> Result<(), ExpectError> {
    let initialised = Expectation::alloc(ctx)?.init(tuple);
    let allocated = Expectation::alloc(ctx)?;
    if let Some(mut nat) = ctx.nat() {
        let _ = nat.expect_related(initialised, None)?.port();
        let _ = nat.expect_related(allocated, None)?.port(); // probe-misuse
    }
    Ok(())
}
