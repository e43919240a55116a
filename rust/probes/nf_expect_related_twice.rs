// SPDX-License-Identifier: GPL-2.0
//! Probe: an expectation cannot be registered twice: `related()` consumes
//! it (a second `nf_ct_expect_related()` would insert it twice).
// probe-expect: E0382.*use of moved value
#![forbid(unsafe_code)]

use crate::rnm::netfilter::expect::{ExpectError, ExpectTuple, Expectation};
use crate::rnm::netfilter::helper::HelpContext;

pub fn probe(ctx: &HelpContext<'_>, tuple: &ExpectTuple) -> Result<(), ExpectError> {
    let exp = Expectation::alloc(ctx)?.init(tuple);
    exp.related(None)?;
    exp.related(None)?; // probe-misuse
    Ok(())
}
