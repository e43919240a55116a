// SPDX-License-Identifier: GPL-2.0
//! Probe: a sysctl table cannot point at a value that is not `'static`
//! (leaking its registration with `mem::forget` would leave /proc/sys
//! pointing at a dead stack slot).
// probe-expect: E0597|does not live long enough
#![forbid(unsafe_code)]

use crate::rnm::sysctl::{Entry, IntValue, Registration};
use kernel::prelude::*;

pub fn probe() -> Result {
    let _limit = IntValue::new(1, 0, 2);
    let reg = Registration::register(c"dev/probe", &[Entry::new(c"limit", &_limit, 0o644)])?; // probe-misuse
    core::mem::forget(reg); // probe-misuse
    Ok(())
}
