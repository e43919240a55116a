// SPDX-License-Identifier: GPL-2.0
//! Probe: a namespace's value must not be reachable before `init_callback`
//! has written it.  `ops_init()` assigns the kzalloc'ed storage before it
//! calls `init`, so `PernetData::new` of a new namespace that reaches the
//! registration (here through a static `RcuArc`) gets `Some(&value)` of
//! all-zero bytes: a null `&CStr` here.
// probe-expect: E0[0-9]+
#![forbid(unsafe_code)]

use crate::rnm::{
    net_namespace::{NetRef, PernetData, PernetId, PernetRegistration},
    rcu::RcuArc,
};
use kernel::{prelude::*, sync::rcu};

static ID: PernetId = PernetId::new();
static REG: RcuArc<PernetRegistration<Named>> = RcuArc::new();

struct Named {
    name: &'static CStr,
}

impl PernetData for Named {
    fn id() -> &'static PernetId {
        &ID
    }

    fn new(net: NetRef<'_>) -> Result<Self> {
        let guard = rcu::read_lock();
        if let Some(reg) = REG.get(&guard) {
            let _ = reg.get(&net).map(|me| me.name.to_bytes().len()); // probe-misuse
            let _ = (reg, net);
        }
        Ok(Named { name: c"named" })
    }
}
