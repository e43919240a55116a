// SPDX-License-Identifier: GPL-2.0
//! Probe: an expectation cannot be registered before its tuple is set:
//! `related()` exists only on an initialised one.
// probe-expect: E0599.*no method named `related`
#![forbid(unsafe_code)]

use crate::rnm::netfilter::expect::{ExpectError, Expectation};
use crate::rnm::netfilter::helper::HelpContext;

pub fn probe(ctx: &HelpContext<'_>) -> Result<(), ExpectError> {
    let exp = Expectation::alloc(ctx)?;
    exp.related(None)?; // probe-misuse
    Ok(())
}
