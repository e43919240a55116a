// SPDX-License-Identifier: GPL-2.0
//! Probe: a GSO frame is cut into segments only with bottom halves
//! disabled (it frees the aggregate as the transmit path does): cutting
//! takes the proof.
// probe-expect: E0061.*this method takes 1 argument but 0 arguments were supplied
#![forbid(unsafe_code)]

use crate::rnm::{bh::BhContext, net::skb::SkBuff};

pub fn probe(skb: SkBuff, bh: &BhContext) {
    let _ = bh;
    let _segs = skb.gso_segment(); // probe-misuse
}
