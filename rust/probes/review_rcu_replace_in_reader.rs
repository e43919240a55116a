// SPDX-License-Identifier: GPL-2.0
//! Probe: `RcuArc::replace` waits for a grace period (`synchronize_rcu`,
//! sleeps), so it must not be callable where it cannot sleep: here inside
//! the RCU read-side section of a guard it was read under, and from the
//! softirq transmit path (which has a `BhContext`).
// probe-expect: E0061|E0502|takes 2 arguments|cannot borrow
#![forbid(unsafe_code)]

use crate::rnm::rcu::RcuArc;
use kernel::sync::rcu;

pub fn probe(peer: &RcuArc<u32>) -> u32 {
    let guard = rcu::read_lock();
    let v = peer.get(&guard).copied().unwrap_or(0);
    drop(peer.replace(None)); // probe-misuse
    drop(guard);
    v
}
