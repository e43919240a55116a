// SPDX-License-Identifier: GPL-2.0
//! Probe: the proof that bottom halves are disabled cannot outlive the
//! guard that disabled them.
// probe-expect: E0505.*cannot move out of `guard` because it is borrowed
#![forbid(unsafe_code)]

use crate::rnm::{
    bh::{self, BhContext},
    net::napi::{Napi, Poller},
};

pub fn probe<P: Poller>(napi: &Napi<P>) {
    let Some(guard) = bh::disable() else { return };
    let bh: &BhContext = &guard;
    drop(guard); // probe-misuse
    napi.arm_irq(100, bh);
}
