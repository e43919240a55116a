// SPDX-License-Identifier: GPL-2.0
//! Probe: leaking a `BhGuard` leaves bottom halves (and, without
//! PREEMPT_RT, preemption) disabled on the CPU for good: the next sleep is
//! "BUG: scheduling while atomic" and softirqs stop there.  A guard must
//! not be leakable (a closure API, `bh::with_disabled(|bh| ...)`).
// probe-expect: E0425|E0603|cannot find function|private
#![forbid(unsafe_code)]

use crate::rnm::bh;

pub fn probe() {
    core::mem::forget(bh::disable()); // probe-misuse
}
