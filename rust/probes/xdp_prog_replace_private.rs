// SPDX-License-Identifier: GPL-2.0
//! Probe: a driver cannot swap a device's XDP program itself (outside
//! `ndo_bpf`, under RTNL, with the reference the core moved to it): the
//! program slot is the abstraction's alone.
// probe-expect: E0603.*struct `ProgSlot` is private
#![forbid(unsafe_code)]

use crate::rnm::net::xdp::ProgSlot; // probe-misuse

pub fn probe() {}
