// SPDX-License-Identifier: GPL-2.0
//! Probe: a module cannot give a conntrack helper's `HelpContext` a
//! destructor of its own, which would run after the adapter handed the
//! callback's length changes to sequence adjustment, and could rewrite the
//! packet again there.
// probe-expect: E0119.*conflicting implementations of trait `Drop`
#![forbid(unsafe_code)]

use crate::rnm::netfilter::helper::HelpContext;

#[allow(dead_code)]
struct Unused;

impl Drop for HelpContext<'_> { fn drop(&mut self) {} } // probe-misuse
