// SPDX-License-Identifier: GPL-2.0
//! Probe: a group of statistics cannot have more (or fewer) names than
//! values: names and values are arrays of one length `N`, so the count the
//! core gets, the names and the values cannot disagree.
// probe-expect: E0308|expected an array with a size of 2
#![forbid(unsafe_code)]

use crate::rnm::net::ethtool::Stats;

pub fn probe(out: &mut Stats<'_>) {
    out.group(format_args!("rx0_"), &["frames", "bytes"], [1, 2]);
    out.group(format_args!("rx1_"), &["frames", "bytes"], [1, 2, 3]); // probe-misuse
}
