// SPDX-License-Identifier: GPL-2.0
//! Probe: bottom halves cannot be enabled again (the `BhGuard` dropped)
//! while a bottom-half spinlock taken under it is held.
// probe-expect: E0505.*cannot move out of `bh` because it is borrowed
#![forbid(unsafe_code)]

use crate::rnm::bh::{self, SpinLockBh};

pub fn probe(lock: &SpinLockBh<u32>) -> u32 {
    let Some(bh) = bh::disable() else { return 0 };
    let guard = lock.lock_with(&bh);
    drop(bh); // probe-misuse
    *guard
}
