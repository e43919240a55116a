// SPDX-License-Identifier: GPL-2.0
//! Probe: an `XDP_TX` frame handed on (its memory now the buffer's) cannot
//! be transmitted or returned again: handing it on consumes it.
// probe-expect: E0382.*use of moved value: `frame`
#![forbid(unsafe_code)]

use crate::rnm::net::{device::Device, skb::SkBuff, xdp::XdpFrame};

pub fn probe(dev: &Device, frame: XdpFrame) {
    let _skb = SkBuff::from_xdp_frame(frame, dev);
    drop(frame); // probe-misuse
}
