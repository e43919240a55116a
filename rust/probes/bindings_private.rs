// SPDX-License-Identifier: GPL-2.0
//! Probe: leaf code cannot name the generated bindings (raw C types and
//! functions); only the abstractions in `rust/rnm/` can.
// probe-expect: E0603.*module `bindings` is private
#![forbid(unsafe_code)]

pub fn probe() {
    let _p: *mut crate::rnm::bindings::sk_buff = core::ptr::null_mut(); // probe-misuse
}
