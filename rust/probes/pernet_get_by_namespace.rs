// SPDX-License-Identifier: GPL-2.0
//! Probe: a namespace's value cannot be looked up with the namespace alone
//! (it would not keep the registration, and so the value, alive); only
//! through the registration.
// probe-expect: E0599.*no function or associated item named `get`
#![forbid(unsafe_code)]

use crate::rnm::net_namespace::{NetRef, PernetData, PernetId, PernetRegistration};
use kernel::prelude::*;

static ID: PernetId = PernetId::new();

struct Limits;

impl PernetData for Limits {
    fn id() -> &'static PernetId {
        &ID
    }

    fn new(_net: NetRef<'_>) -> Result<Self> {
        Ok(Self)
    }
}

pub fn probe(reg: &PernetRegistration<Limits>, net: NetRef<'_>) -> bool {
    let mut found = reg.get(&net).is_some();
    found &= Limits::get(&net).is_some(); // probe-misuse
    found
}
