// SPDX-License-Identifier: GPL-2.0
//! Probe: a module's `static` is not `'static` past `rmmod`: a leaked sysctl
//! registration keeps /proc/sys/dev/probe/limit with `procname` and `data`
//! pointing into the unloaded module's memory.  Same for a leaked
//! `sysfs::Directory` (counter and `show` in the module), bus, device, or
//! conntrack helper registration.
// probe-expect: E0[0-9]+
#![forbid(unsafe_code)]

use crate::rnm::sysctl::{Entry, IntValue, Registration};
use kernel::prelude::*;

static LIMIT: IntValue = IntValue::new(1, 0, 2);

pub fn probe() -> Result {
    let reg = Registration::register(c"dev/probe", &[Entry::new(c"limit", &LIMIT, 0o644)])?;
    core::mem::forget(reg); // probe-misuse
    Ok(())
}
