// SPDX-License-Identifier: GPL-2.0
//! Probe: the counters a statistics callback fills are the core's, on its
//! stack, for the duration of the call only: a driver cannot keep them to
//! write later.
// probe-expect: lifetime may not live long enough
#![forbid(unsafe_code)]

use crate::rnm::net::device::QueueStatsRx;

pub fn probe<'a>(
    stats: &'a mut QueueStatsRx<'a>,
    kept: &mut Option<&'static mut QueueStatsRx<'static>>,
) {
    stats.set_packets(1);
    *kept = Some(stats); // probe-misuse
}
