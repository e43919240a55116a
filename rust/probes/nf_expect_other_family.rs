// SPDX-License-Identifier: GPL-2.0
//! Probe: an expectation is of its master connection's layer 3 family, as
//! the C helpers make theirs (`nf_ct_l3num()`): another family would make
//! traffic of that family related to the master (an IPv6 connection with
//! an IPv4 master, whose NAT follows the master's addresses).  The tuple
//! has no family to give.
// probe-expect: E0560.*has no field named `family`
#![forbid(unsafe_code)]

use crate::rnm::netfilter::expect::{ExpectError, ExpectTuple, Expectation};
use crate::rnm::netfilter::helper::HelpContext;
use crate::rnm::netfilter::Family;

pub fn probe(ctx: &HelpContext<'_>) -> Result<(), ExpectError> {
    let _ = Family::Ipv6;
    let tuple = ExpectTuple {
        family: Family::Ipv6, // probe-misuse
        src: None,
        dst: [0; 16],
        sport: None,
        dport: 21,
    };
    Expectation::alloc(ctx)?.init(&tuple).related(None)?;
    Ok(())
}
