// SPDX-License-Identifier: GPL-2.0

//! Networking: network devices, NAPI, socket buffers, ethtool, XDP.
//!
//! C header: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h)

pub mod device;
pub mod ethtool;
pub mod napi;
pub mod skb;
pub mod xdp;

use crate::rnm::bindings;

/// Waits until every CPU has left the network stack's RCU read-side
/// critical sections (transmit and receive paths) that were running when
/// the call started.
///
/// Used after unpublishing a pointer that transmit paths read, before
/// freeing what it pointed at.  Sleeps: process context only.
pub fn synchronize_net() {
    // SAFETY: `synchronize_net` has no preconditions beyond process
    // context, which the documentation of this function requires.
    unsafe { bindings::synchronize_net() };
}
