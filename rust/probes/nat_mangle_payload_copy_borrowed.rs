// SPDX-License-Identifier: GPL-2.0
//! Probe: the payload cannot be rewritten while a view of it read without
//! making the packet linear is alive (that view may point into the
//! packet's data, which mangling moves and may reallocate).
// probe-expect: E0502.*cannot borrow .* as mutable because it is also borrowed as immutable
#![forbid(unsafe_code)]

use crate::rnm::netfilter::helper::HelpContext;

pub fn probe(ctx: &mut HelpContext<'_>) -> usize {
    let mut buf = [core::mem::MaybeUninit::uninit(); 64];
    let Ok(seg) = ctx.tcp_payload_copy(&mut buf) else {
        return 0;
    };
    let data = seg.data;
    let _ = ctx.nat().map(|mut nat| nat.mangle(0, 1, b"x")); // probe-misuse
    data.len()
}
