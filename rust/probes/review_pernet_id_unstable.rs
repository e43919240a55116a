// SPDX-License-Identifier: GPL-2.0
//! Probe: `PernetData::id()` must name one fixed id.  Registration claims
//! the id of its first call, but `init_callback`, `exit_callback` and
//! `get` look the slot up with whatever later calls return: an `id()` that
//! changes its answer makes `net_generic()` storage of another type (or
//! `ptr[0]`, which aliases `net_generic.s.len`) be written as `Slot<Self>`.
// probe-expect: E0407|E0046|not a member of trait|E0015
#![forbid(unsafe_code)]

use crate::rnm::net_namespace::{NetRef, PernetData, PernetId};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;

static MINE: PernetId = PernetId::new();
static OTHER: PernetId = PernetId::new();
static CALLED: AtomicBool = AtomicBool::new(false);

struct Big([u64; 64]);

impl PernetData for Big {
    fn id() -> &'static PernetId {
        // Registration gets MINE, every callback OTHER (index 0).
        if CALLED.swap(true, Ordering::Relaxed) { return &OTHER; } // probe-misuse
        let _ = &OTHER;
        &MINE
    }

    fn new(_net: NetRef<'_>) -> Result<Self> {
        Ok(Big([0; 64]))
    }
}
