// SPDX-License-Identifier: GPL-2.0
//! Probe: a view of the payload read without making the packet linear
//! cannot outlive the borrow of the helper's context.  It may point into
//! the packet's linear part or into one of its page fragments, which the
//! packet holds only while the help callback runs.
// probe-expect: E0621.*explicit lifetime required in the type of `ctx`
#![forbid(unsafe_code)]

use crate::rnm::netfilter::helper::HelpContext;
use core::mem::MaybeUninit;

pub fn probe<'a>(
    ctx: &HelpContext<'a>,
    buf: &'a mut [MaybeUninit<u8>],
    kept: &mut &'a [u8],
) -> usize {
    let Ok(seg) = ctx.tcp_payload_copy(buf) else {
        return 0;
    };
    *kept = seg.data; // probe-misuse
    seg.data.len()
}
