// SPDX-License-Identifier: GPL-2.0
//! Probe: an XDP frame cannot leave the bottom-half callback that got it
//! (kept in a driver's data, it could be dropped in hard interrupt
//! context, where returning a page pool's page is not allowed): it is not
//! `Send`.
// probe-expect: E0277.*cannot be sent between threads safely
#![forbid(unsafe_code)]

use crate::rnm::net::xdp::XdpFrame;

fn need_send<T: Send>() {}

pub fn probe() {
    need_send::<u8>();
    need_send::<XdpFrame>(); // probe-misuse
}
