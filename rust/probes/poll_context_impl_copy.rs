// SPDX-License-Identifier: GPL-2.0
//! Probe: a module cannot make `PollContext` `Copy`, which would let a poll
//! hand up its whole budget through one copy and complete through another
//! with fewer frames.
// probe-expect: E0184.*the type has a destructor
#![forbid(unsafe_code)]

use crate::rnm::net::napi::PollContext;

#[allow(dead_code)]
struct Unused;

impl Clone for PollContext<'_> { fn clone(&self) -> Self { *self } } // probe-misuse
impl Copy for PollContext<'_> {} // probe-misuse
