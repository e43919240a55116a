// SPDX-License-Identifier: GPL-2.0
//! Probe: an expectation cannot be initialised again once registered
//! (`nf_ct_expect_init()` would rewrite the tuple of an expectation in the
//! hash table): `init()` and `related()` consume it.
// probe-expect: E0382.*use of moved value
#![forbid(unsafe_code)]

use crate::rnm::netfilter::expect::{ExpectError, ExpectTuple, Expectation};
use crate::rnm::netfilter::helper::HelpContext;

pub fn probe(ctx: &HelpContext<'_>, tuple: &ExpectTuple) -> Result<(), ExpectError> {
    let exp = Expectation::alloc(ctx)?;
    exp.init(tuple).related(None)?;
    let _again = exp.init(tuple); // probe-misuse
    Ok(())
}
