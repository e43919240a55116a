// SPDX-License-Identifier: GPL-2.0
//! Probe: a guard of a bottom-half spinlock taken as a block's tail
//! expression would be dropped after the block's `BhGuard`, releasing the
//! lock with bottom halves already enabled again; it must not compile.
// probe-expect: E0597.*`bh` does not live long enough
#![forbid(unsafe_code)]

use crate::rnm::bh::{self, SpinLockBh};

pub fn probe(lock: &SpinLockBh<u32>) {
    let Some(bh) = bh::disable() else { return };
    let _ = &bh;
    *lock.lock_with(&bh) += 1 // probe-misuse
}
