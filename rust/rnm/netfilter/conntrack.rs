// SPDX-License-Identifier: GPL-2.0

//! The connection a packet belongs to (`struct nf_conn`).
//!
//! C header: [`include/net/netfilter/nf_conntrack.h`](srctree/include/net/netfilter/nf_conntrack.h)

use super::Family;
use crate::rnm::bindings;
use core::{
    marker::PhantomData,
    ptr::{self, NonNull},
};

/// Direction of a packet relative to the connection (`enum ip_conntrack_dir`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the side that opened the connection (`IP_CT_DIR_ORIGINAL`).
    Original,
    /// From the other side (`IP_CT_DIR_REPLY`).
    Reply,
}

impl Direction {
    /// The opposite direction.
    #[inline]
    pub fn reverse(self) -> Self {
        match self {
            Direction::Original => Direction::Reply,
            Direction::Reply => Direction::Original,
        }
    }

    #[inline]
    pub(in crate::rnm) fn index(self) -> u32 {
        match self {
            Direction::Original => 0,
            Direction::Reply => 1,
        }
    }
}

/// State of the connection as seen by a packet (`enum ip_conntrack_info`).
///
/// The discriminants are the C values: converting costs nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ConntrackInfo {
    /// Part of an established connection, original direction.
    Established = bindings::ip_conntrack_info_IP_CT_ESTABLISHED,
    /// Related to another connection (an expectation matched), original
    /// direction.
    Related = bindings::ip_conntrack_info_IP_CT_RELATED,
    /// The first packets of a connection.
    New = bindings::ip_conntrack_info_IP_CT_NEW,
    /// Part of an established connection, reply direction.
    EstablishedReply = bindings::ip_conntrack_info_IP_CT_ESTABLISHED_REPLY,
    /// Related to another connection, reply direction.
    RelatedReply = bindings::ip_conntrack_info_IP_CT_RELATED_REPLY,
}

impl ConntrackInfo {
    #[inline]
    pub(in crate::rnm) fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            x if x == Self::Established as u32 => Self::Established,
            x if x == Self::Related as u32 => Self::Related,
            x if x == Self::New as u32 => Self::New,
            x if x == Self::EstablishedReply as u32 => Self::EstablishedReply,
            x if x == Self::RelatedReply as u32 => Self::RelatedReply,
            _ => return None,
        })
    }

    #[inline]
    pub(in crate::rnm) fn to_raw(self) -> u32 {
        self as u32
    }

    /// The direction of the packet (`CTINFO2DIR`).
    #[inline]
    pub fn direction(self) -> Direction {
        if self as u32 >= bindings::ip_conntrack_info_IP_CT_IS_REPLY {
            Direction::Reply
        } else {
            Direction::Original
        }
    }

    /// Whether traffic has been seen in both directions (`IP_CT_ESTABLISHED`
    /// or `IP_CT_ESTABLISHED_REPLY`).
    #[inline]
    pub fn is_established(self) -> bool {
        matches!(self, Self::Established | Self::EstablishedReply)
    }
}

/// One direction of a connection (`struct nf_conntrack_tuple`), as seen by
/// the packets of that direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuple {
    /// Source address: the 16 bytes of `union nf_inet_addr`, network order
    /// (an IPv4 address in the first four, the rest zero).
    pub src: [u8; 16],
    /// Destination address, as `src`.
    pub dst: [u8; 16],
    /// Source port, host order.
    pub sport: u16,
    /// Destination port, host order.
    pub dport: u16,
}

/// A tracked connection, borrowed for the duration of a callback.
///
/// # Invariants
///
/// `ct` points at a valid `struct nf_conn` that the packet being processed
/// holds a reference on for `'a`.  (Copies are more borrows of it.)
#[derive(Clone, Copy)]
pub struct Conn<'a> {
    ct: NonNull<bindings::nf_conn>,
    _p: PhantomData<&'a bindings::nf_conn>,
}

impl<'a> Conn<'a> {
    /// # Safety
    ///
    /// `ct` must point at a valid `struct nf_conn` that stays alive for `'a`.
    pub(in crate::rnm) unsafe fn from_raw(ct: NonNull<bindings::nf_conn>) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self {
            ct,
            _p: PhantomData,
        }
    }

    #[inline]
    pub(in crate::rnm) fn as_ptr(&self) -> *mut bindings::nf_conn {
        self.ct.as_ptr()
    }

    /// The tuple of direction `dir` as conntrack stores it
    /// (`ct->tuplehash[dir].tuple`), read in place.
    #[inline]
    fn raw_tuple(&self, dir: Direction) -> &'a bindings::nf_conntrack_tuple {
        let i = dir.index() as usize;
        // Both tuples are set before the connection is confirmed (the reply
        // one by NAT, on the packet's own path, before any helper runs); a
        // confirmed connection's never change.  The reference covers the
        // tuple only, not the fields that change (lock, status, timeout).
        // SAFETY: `ct` is valid for `'a` (type invariant); the tuple does
        // not change while a packet of the connection holds it.
        unsafe { &*ptr::addr_of!((*self.ct.as_ptr()).tuplehash[i].tuple) }
    }

    /// The layer 3 protocol number (`nf_ct_l3num()`, `NFPROTO_IPV4` or
    /// `NFPROTO_IPV6`).
    #[inline]
    pub fn l3num(&self) -> u16 {
        self.raw_tuple(Direction::Original).src.l3num
    }

    /// The layer 3 family of the connection.
    #[inline]
    pub fn family(&self) -> Option<Family> {
        Family::from_raw(self.l3num())
    }

    /// The tuple of direction `dir`.
    #[inline]
    pub fn tuple(&self, dir: Direction) -> Tuple {
        let t = self.raw_tuple(dir);
        // SAFETY: every variant of the address and port unions is plain
        // bytes; `all` covers each whole.
        let (src, dst, sport, dport) =
            unsafe { (t.src.u3.all, t.dst.u3.all, t.src.u.all, t.dst.u.all) };
        let mut tuple = Tuple {
            src: [0; 16],
            dst: [0; 16],
            sport: u16::from_be(sport),
            dport: u16::from_be(dport),
        };
        for (out, (s, d)) in tuple
            .src
            .chunks_exact_mut(4)
            .zip(tuple.dst.chunks_exact_mut(4))
            .zip(src.iter().zip(dst.iter()))
        {
            out.0.copy_from_slice(&s.to_ne_bytes());
            out.1.copy_from_slice(&d.to_ne_bytes());
        }
        tuple
    }

    /// The network namespace of the connection.
    #[inline]
    pub fn net(&self) -> crate::rnm::net_namespace::NetRef<'a> {
        // SAFETY: by the type invariant `ct` is valid; its namespace is
        // set when it is allocated and never changes (`nf_ct_net()`).
        #[cfg(CONFIG_NET_NS)]
        let net = unsafe { (*self.ct.as_ptr()).ct_net.net };
        // SAFETY: by the type invariant `ct` is valid.
        #[cfg(not(CONFIG_NET_NS))]
        let net = unsafe { bindings::rnm_nf_ct_net(self.ct.as_ptr()) };
        // SAFETY: a connection's namespace is never null; the packet that
        // holds the connection for `'a` is processed in that namespace,
        // which is therefore alive and not dismantled (its devices, which
        // go first, are still there) for `'a`.
        unsafe { crate::rnm::net_namespace::NetRef::from_raw(NonNull::new_unchecked(net)) }
    }
}
