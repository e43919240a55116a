// SPDX-License-Identifier: GPL-2.0

//! Netfilter connection tracking: helpers, the connections they watch and
//! the expectations they create.
//!
//! C headers: [`include/net/netfilter/nf_conntrack.h`](srctree/include/net/netfilter/nf_conntrack.h),
//! [`include/net/netfilter/nf_conntrack_helper.h`](srctree/include/net/netfilter/nf_conntrack_helper.h),
//! [`include/net/netfilter/nf_conntrack_expect.h`](srctree/include/net/netfilter/nf_conntrack_expect.h)
//!
//! - [`helper::Registration`] registers a conntrack helper whose `help`
//!   callback is the [`helper::Helper::help`] method of a Rust type, with
//!   per-connection data of a Rust type kept in the helper area of the
//!   connection.
//! - [`conntrack::Conn`] is the view of the connection a packet belongs
//!   to, and [`helper::HelpContext`] that of the packet.
//! - [`expect::Expectation`] announces a related connection; its failures
//!   are the typed [`expect::ExpectError`].
//! - [`nat`] rewrites the payload of a NATed connection and NATs the
//!   expected connections as their master.
//!
//! The non-generic functions that call the C wrappers of
//! `rust/helpers/netfilter.c` are `#[inline]`: the wrappers are linked only
//! into the modules that use them, and an inline function is only emitted
//! where it is called.

pub mod conntrack;
pub mod expect;
pub mod helper;
pub mod nat;

use crate::rnm::bindings;

/// Verdict of a hook or helper on a packet (`NF_ACCEPT`, `NF_DROP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let the packet continue (`NF_ACCEPT`).
    Accept,
    /// Drop the packet (`NF_DROP`).
    Drop,
}

impl Verdict {
    #[inline]
    pub(in crate::rnm) fn to_raw(self) -> kernel::ffi::c_int {
        match self {
            Verdict::Accept => bindings::NF_ACCEPT as kernel::ffi::c_int,
            Verdict::Drop => bindings::NF_DROP as kernel::ffi::c_int,
        }
    }
}

/// A network layer protocol family (`NFPROTO_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Any family (`NFPROTO_UNSPEC`): for helpers that handle both.
    Unspec,
    /// IPv4 (`NFPROTO_IPV4`).
    Ipv4,
    /// IPv6 (`NFPROTO_IPV6`).
    Ipv6,
}

impl Family {
    /// The `NFPROTO_*` number.
    #[inline]
    pub fn to_raw(self) -> u8 {
        (match self {
            Family::Unspec => bindings::NFPROTO_UNSPEC,
            Family::Ipv4 => bindings::NFPROTO_IPV4,
            Family::Ipv6 => bindings::NFPROTO_IPV6,
        }) as u8
    }

    /// The family of the `NFPROTO_*` (equal to `AF_*`) number `raw`.
    #[inline]
    pub fn from_raw(raw: u16) -> Option<Self> {
        match u32::from(raw) {
            x if x == bindings::NFPROTO_IPV4 => Some(Family::Ipv4),
            x if x == bindings::NFPROTO_IPV6 => Some(Family::Ipv6),
            _ => None,
        }
    }
}

/// A transport protocol a helper can watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L4Proto {
    /// TCP (`IPPROTO_TCP`).
    Tcp,
}

impl L4Proto {
    /// The `IPPROTO_*` number.
    #[inline]
    pub fn to_raw(self) -> u8 {
        match self {
            L4Proto::Tcp => bindings::IPPROTO_TCP as u8,
        }
    }
}
