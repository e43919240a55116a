// SPDX-License-Identifier: GPL-2.0
//! Probe: an expectation cannot outlive the help callback it was allocated
//! in (its master is only held by the callback's packet).
// probe-expect: lifetime may not live long enough|E0521|borrowed data escapes
#![forbid(unsafe_code)]

use crate::rnm::netfilter::expect::{ExpectError, Expectation};
use crate::rnm::netfilter::helper::HelpContext;

pub fn probe(ctx: &HelpContext<'_>) -> Result<(), ExpectError> {
    let exp = Expectation::alloc(ctx)?;
    let _kept: Expectation<'static> = exp; // probe-misuse
    Ok(())
}
