// SPDX-License-Identifier: GPL-2.0
//! Probe: waiting on a condition variable with the guard of
//! `SpinLockBh::lock_with` would release the lock and sleep with bottom
//! halves still disabled (and let an RCU grace period end under a
//! reference from `RcuArc::get_in`); the guard is not the kernel crate's
//! `Guard`, so it must not compile.
// probe-expect: E0308.*mismatched types
#![forbid(unsafe_code)]

use crate::rnm::bh::{self, SpinLockBh};
use kernel::sync::CondVar;

pub fn probe(lock: &SpinLockBh<u32>, cv: &CondVar) {
    let Some(bh) = bh::disable() else { return };
    let mut guard = lock.lock_with(&bh);
    *guard += 1;
    cv.wait(&mut guard); // probe-misuse
}
