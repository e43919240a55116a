// SPDX-License-Identifier: GPL-2.0
//! Probe: an expectation policy out of the kernel's ranges (here
//! `max_expected` 0) is rejected; in a `const` item, at compile time.
// probe-expect: E0080|evaluation of constant value failed
#![forbid(unsafe_code)]

use crate::rnm::netfilter::helper::Policy;

const fn checked(max_expected: u8, timeout: u32) -> Policy {
    match Policy::new(max_expected, timeout) {
        Ok(p) => p,
        Err(_) => panic!("invalid expectation policy"),
    }
}

const GOOD: Policy = checked(1, 300);
const BAD: Policy = checked(0, 300); // probe-misuse

pub fn probe() -> Policy {
    GOOD
}
