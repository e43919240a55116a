// SPDX-License-Identifier: GPL-2.0
//! Probe: a driver cannot make a transmit queue of its own to stop: only
//! `start_xmit` gets one, the queue the core picked and locked.
// probe-expect: E0451.*field `txq` of struct `([a-z_]+::)*TxQueue` is private
#![forbid(unsafe_code)]

use crate::rnm::net::device::TxQueue;
use core::{marker::PhantomData, ptr::NonNull};

pub fn probe(txq: &TxQueue<'_>) {
    let forged = TxQueue { txq: NonNull::dangling(), index: txq.index(), _call: PhantomData }; // probe-misuse
    txq.try_stop();
}
