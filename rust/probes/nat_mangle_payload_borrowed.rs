// SPDX-License-Identifier: GPL-2.0
//! Probe: the payload cannot be rewritten while a view of it is alive
//! (mangling moves the bytes after the match and may reallocate the
//! packet's data, leaving the view dangling).
// probe-expect: E0499.*cannot borrow .* as mutable more than once
#![forbid(unsafe_code)]

use crate::rnm::netfilter::helper::HelpContext;

pub fn probe(ctx: &mut HelpContext<'_>) -> usize {
    let Ok(seg) = ctx.tcp_payload() else {
        return 0;
    };
    let data = seg.data;
    let _ = ctx.nat().map(|mut nat| nat.mangle(0, 1, b"x")); // probe-misuse
    data.len()
}
