// SPDX-License-Identifier: GPL-2.0
//! Probe: a module cannot give `XdpFrames` a destructor of its own, which
//! would take (and free) frames after the adapter counted those taken: the
//! core would then free the same frames again.
// probe-expect: E0119.*conflicting implementations of trait `Drop`
#![forbid(unsafe_code)]

use crate::rnm::net::xdp::XdpFrames;

#[allow(dead_code)]
struct Unused;

impl Drop for XdpFrames<'_> { fn drop(&mut self) { self.for_each(drop) } } // probe-misuse
