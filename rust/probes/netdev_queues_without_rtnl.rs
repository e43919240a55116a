// SPDX-License-Identifier: GPL-2.0
//! Probe: the number of queues the stack uses changes only under RTNL
//! (the core asserts it, and moves the queues' sysfs directories): the
//! transmit path, which gets bottom halves disabled and no RTNL, cannot
//! change it; only callbacks the core calls under RTNL get the proof.
// probe-expect: E0061.*takes 2 arguments but 1 argument was supplied
#![forbid(unsafe_code)]

use crate::rnm::{bh::BhContext, net::device::Device};
use kernel::prelude::*;

pub fn probe(dev: &Device, _bh: &BhContext) -> Result {
    dev.set_real_num_queues(1)?; // probe-misuse
    Ok(())
}
