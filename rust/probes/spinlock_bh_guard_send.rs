// SPDX-License-Identifier: GPL-2.0
//! Probe: the guard of `SpinLockBh::lock` cannot move to another thread,
//! which would enable bottom halves on a CPU that did not disable them.
// probe-expect: E0277.*cannot be sent between threads safely
#![forbid(unsafe_code)]

use crate::rnm::bh::SpinLockBh;

fn must_be_send<T: Send>(_: T) {}

pub fn probe(lock: &SpinLockBh<u32>) {
    let Some(guard) = lock.lock() else { return };
    must_be_send(guard); // probe-misuse
}
