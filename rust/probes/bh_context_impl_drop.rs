// SPDX-License-Identifier: GPL-2.0
//! Probe: a module cannot give `BhContext` a destructor of its own, which a
//! `BhGuard` would run after enabling bottom halves, with the proof in hand
//! (an `RcuArc` read outside any RCU read-side section, a `SpinLockBh`
//! taken with bottom halves enabled).  The abstractions are compiled into
//! the module's crate, so the orphan rule does not stop it.
// probe-expect: E0119.*conflicting implementations of trait `Drop`
#![forbid(unsafe_code)]

use crate::rnm::bh::BhContext;

#[allow(dead_code)]
struct Unused;

impl Drop for BhContext { fn drop(&mut self) {} } // probe-misuse
