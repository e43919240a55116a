// SPDX-License-Identifier: GPL-2.0
//! Probe: a GSO frame is cut into segments only with bottom halves
//! disabled (it frees the aggregate as the transmit path does): cutting
//! takes the proof.
// probe-expect: E0061.*this method takes 2 arguments but 1 argument was supplied
#![forbid(unsafe_code)]

use crate::rnm::{
    bh::BhContext,
    net::{device::Device, skb::SkBuff},
};

pub fn probe(skb: SkBuff, dev: &Device, bh: &BhContext) {
    let _ = bh;
    let _segs = skb.gso_segment(dev); // probe-misuse
}
