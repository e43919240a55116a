// SPDX-License-Identifier: GPL-2.0

//! vnapi: a virtual Ethernet NIC with a NAPI receive path.
//!
//! Devices live on their own bus, `/sys/bus/vnapi/`; two devices are linked
//! as peers, and a frame transmitted on one is received on the other the
//! way a real NIC receives it: into a bounded rx ring, then a (simulated,
//! coalesced) interrupt, whose handler masks it and schedules NAPI, whose
//! poll hands at most a budget of frames up the stack through GRO and
//! unmasks the interrupt when the ring is empty.
//!
//! See Documentation/rnm/vnapi.rst.

use kernel::prelude::*;

#[allow(dead_code)]
#[path = "../../../rust/rnm/lib.rs"]
mod rnm;

mod bus;
mod config;
#[allow(unused_attributes, unreachable_pub)]
#[path = "vnapi_logic/src/lib.rs"]
mod logic;
mod port;
mod queue;

module! {
    type: bus::VnapiModule,
    name: "vnapi",
    authors: ["rust-netmods developers"],
    description: "Virtual NIC with a NAPI receive path (rx ring, coalesced interrupt, GRO)",
    license: "GPL",
    alias: ["vnapi:vnapi"],
}
