// SPDX-License-Identifier: GPL-2.0
//! Probe: the transmit queue lent to `start_xmit` is the one whose lock the
//! core holds for that call: a driver cannot keep it to stop it later,
//! unlocked, when its qdisc may be gone.
// probe-expect: lifetime may not live long enough|borrowed data escapes
#![forbid(unsafe_code)]

use crate::rnm::net::device::TxQueue;

pub fn probe<'a>(txq: &'a TxQueue<'a>, kept: &mut Option<&'static TxQueue<'static>>) {
    txq.try_stop();
    *kept = Some(txq); // probe-misuse
}
