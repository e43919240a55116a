// SPDX-License-Identifier: GPL-2.0
//! Probe: a module cannot make `IrqContext` (or `BhContext`) `Copy`, which
//! would let a copy of the proof outlive the reference it was lent by.
// probe-expect: E0184.*the type has a destructor
#![forbid(unsafe_code)]

use crate::rnm::bh::IrqContext;

#[allow(dead_code)]
struct Unused;

impl Clone for IrqContext { fn clone(&self) -> Self { *self } } // probe-misuse
impl Copy for IrqContext {} // probe-misuse
