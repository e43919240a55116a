// SPDX-License-Identifier: GPL-2.0
//! Probe: a driver cannot make the frames of an `ndo_xdp_xmit` call itself
//! (from pointers it holds): only the adapter does, for the frames the
//! core hands over, whose ownership it reports back.
// probe-expect: E0624.*associated function `new` is private
#![forbid(unsafe_code)]

use crate::rnm::net::xdp::XdpFrames;

pub fn probe() {
    let _frames = XdpFrames::new(&[]); // probe-misuse
}
