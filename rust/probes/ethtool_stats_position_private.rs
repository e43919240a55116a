// SPDX-License-Identifier: GPL-2.0
//! Probe: a driver cannot move the statistics writer's position (to write
//! a statistic twice, or past the count the core sized its buffer by): the
//! writer only appends.
// probe-expect: E0616|field `n` of struct `.*Stats` is private
#![forbid(unsafe_code)]

use crate::rnm::net::ethtool::Stats;

pub fn probe(out: &mut Stats<'_>) {
    out.stat(format_args!("drops"), 1);
    out.n = 0; // probe-misuse
}
