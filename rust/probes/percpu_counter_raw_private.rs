// SPDX-License-Identifier: GPL-2.0
//! Probe: safe code cannot reach the `struct percpu_counter` of a
//! `PerCpuCounter`, to move it or free it while it is on the list that CPU
//! hot-unplug walks: the counter owns it in an allocation of its own.
// probe-expect: E0616.*field `ptr` of struct `PerCpuCounter` is private
#![forbid(unsafe_code)]

use crate::rnm::percpu_counter::PerCpuCounter;

pub fn probe(c: PerCpuCounter) {
    let _ = c.ptr; // probe-misuse
}
