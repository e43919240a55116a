// SPDX-License-Identifier: GPL-2.0
//! Probe: a namespace's value cannot be used after its registration is
//! dropped (which drops every namespace's value): it borrows the
//! registration.
// probe-expect: E0505.*cannot move out of `reg` because it is borrowed
#![forbid(unsafe_code)]

use crate::rnm::net_namespace::{NetRef, PernetData, PernetId, PernetRegistration};
use crate::rnm::sysctl::IntValue;
use kernel::prelude::*;

static ID: PernetId = PernetId::new();

struct Limits {
    max: IntValue,
}

impl PernetData for Limits {
    fn id() -> &'static PernetId {
        &ID
    }

    fn new(_net: NetRef<'_>) -> Result<Self> {
        Ok(Self {
            max: IntValue::new(1, 1, 9),
        })
    }
}

pub fn probe(reg: PernetRegistration<Limits>, net: NetRef<'_>) -> i32 {
    let limits = reg.get(&net);
    drop(reg); // probe-misuse
    limits.map_or(0, |l| l.max.get())
}
