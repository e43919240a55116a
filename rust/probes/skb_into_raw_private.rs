// SPDX-License-Identifier: GPL-2.0
//! Probe: leaf code cannot turn an `SkBuff` into a raw pointer (which would
//! leak the buffer past the abstraction's ownership rules).
// probe-expect: E0624.*method `into_raw` is private
#![forbid(unsafe_code)]

use crate::rnm::net::skb::SkBuff;

pub fn probe(skb: SkBuff) {
    let _p = skb.into_raw(); // probe-misuse
}
