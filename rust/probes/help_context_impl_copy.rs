// SPDX-License-Identifier: GPL-2.0
//! Probe: a module cannot make a conntrack helper's `HelpContext` `Copy`,
//! which would let it rewrite the packet (NAT) through a copy while it
//! reads the payload borrowed from the original, and lose the length
//! change that sequence adjustment needs.
// probe-expect: E0184.*the type has a destructor
#![forbid(unsafe_code)]

use crate::rnm::netfilter::helper::HelpContext;

#[allow(dead_code)]
struct Unused;

impl Clone for HelpContext<'_> { fn clone(&self) -> Self { *self } } // probe-misuse
impl Copy for HelpContext<'_> {} // probe-misuse
