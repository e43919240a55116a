// SPDX-License-Identifier: GPL-2.0
//! Probe: the NAT view of a packet exists only for a connection NAT
//! applies to (`HelpContext::nat`): it cannot be built by hand to rewrite
//! a packet that must stay byte-identical.
// probe-expect: E0451.*private
#![forbid(unsafe_code)]

use crate::rnm::netfilter::helper::HelpContext;
use crate::rnm::netfilter::nat::Nat;

pub fn probe<'c, 'a>(ctx: &'c mut HelpContext<'a>) -> Option<Nat<'c, 'a>> {
    let nat = ctx.nat();
    let nat = Some(Nat { ctx }); // probe-misuse
    nat
}
