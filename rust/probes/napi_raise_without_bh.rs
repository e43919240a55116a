// SPDX-License-Identifier: GPL-2.0
//! Probe: an interrupt cannot be raised with bottom halves enabled (the
//! NAPI it schedules would not be polled, and `Napi::disable` relies on
//! raising being an RCU read-side section): raising needs a `BhContext`.
// probe-expect: E0061.*takes 1 argument but 0 arguments were supplied
#![forbid(unsafe_code)]

use crate::rnm::{
    bh,
    net::napi::{Napi, Poller},
};

pub fn probe<P: Poller>(napi: &Napi<P>) {
    napi.raise_irq(); // probe-misuse
    if let Some(guard) = bh::disable() {
        napi.raise_irq(&guard);
    }
}
