// SPDX-License-Identifier: GPL-2.0
//! Probe: a driver cannot make a transmit queue of its own to stop: only
//! `start_xmit` gets one, the queue the core picked and locked.
// probe-expect: E0451.*field `dev` of struct `([a-z_]+::)*TxQueue` is private
#![forbid(unsafe_code)]

use crate::rnm::net::device::{Device, TxQueue};

pub fn probe(dev: &Device, txq: &TxQueue<'_>) {
    let forged = TxQueue { dev, index: txq.index() }; // probe-misuse
    txq.try_stop();
}
