// SPDX-License-Identifier: GPL-2.0

//! Conntrack expectations (`struct nf_conntrack_expect`).
//!
//! C header: [`include/net/netfilter/nf_conntrack_expect.h`](srctree/include/net/netfilter/nf_conntrack_expect.h)
//!
//! An expectation tells conntrack that a connection matching its tuple is
//! related to its master connection: the first packet of such a connection
//! gets `ct state related`, and the expectation is consumed.  Helpers
//! create them from their `help` callback:
//!
//! ```
//! use crate::rnm::netfilter::expect::{ExpectError, ExpectTuple, Expectation};
//! use crate::rnm::netfilter::helper::{HelpContext, Policy};
//! use crate::rnm::netfilter::Verdict;
//!
//! /// Expects a connection from anywhere to `dst` port `port`, with at
//! /// most 2 per master, each living 60 seconds.
//! fn expect(ctx: &HelpContext<'_>, dst: [u8; 16], port: u16) -> Verdict {
//!     let Ok(limits) = Policy::new(2, 60) else {
//!         return Verdict::Drop;
//!     };
//!     let exp = match Expectation::alloc(ctx) {
//!         Ok(exp) => exp,
//!         Err(_) => return Verdict::Drop,
//!     };
//!     let tuple = ExpectTuple {
//!         src: None,
//!         dst,
//!         sport: None,
//!         dport: port,
//!     };
//!     match exp.init(&tuple).related(Some(limits)) {
//!         Ok(_) | Err(ExpectError::TableFull) => Verdict::Accept,
//!         Err(_) => Verdict::Drop,
//!     }
//! }
//! # let _ = expect;
//! ```
//!
//! Each step consumes the expectation: it is registered at most once, and
//! only once initialised.

use super::{helper::HelpContext, helper::Policy};
use crate::rnm::bindings;
use core::{marker::PhantomData, ptr::NonNull};
use kernel::prelude::*;

/// Why an expectation could not be allocated or registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectError {
    /// No memory for the expectation.
    NoMemory,
    /// Another expectation with an overlapping tuple exists (`-EBUSY`).
    Clash,
    /// The same expectation exists for another master connection or class
    /// (`-EALREADY`).
    Exists,
    /// The namespace's expectation table is full
    /// (`net.netfilter.nf_conntrack_expect_max`, `-EMFILE`).
    TableFull,
    /// The master connection lost its helper area, for example because it
    /// is being destroyed (`-ESHUTDOWN`).
    Shutdown,
    /// The expectation was rejected as invalid (`-EINVAL`).
    Invalid,
    /// Behind NAT, every port tried for the expected connection was
    /// expected already ([`Nat::expect_related`]).
    ///
    /// [`Nat::expect_related`]: super::nat::Nat::expect_related
    NoFreePort,
    /// Any other error.
    Other(Error),
}

impl ExpectError {
    #[inline]
    pub(super) fn from_errno(err: Error) -> Self {
        match err {
            e if e == EBUSY => Self::Clash,
            e if e == EALREADY => Self::Exists,
            e if e == EMFILE => Self::TableFull,
            e if e == ESHUTDOWN => Self::Shutdown,
            e if e == EINVAL => Self::Invalid,
            e if e == ENOMEM => Self::NoMemory,
            e => Self::Other(e),
        }
    }

    /// The kernel error code of the failure.
    #[inline]
    pub fn to_error(self) -> Error {
        match self {
            Self::NoMemory => ENOMEM,
            Self::Clash => EBUSY,
            Self::Exists => EALREADY,
            Self::TableFull => EMFILE,
            Self::Shutdown => ESHUTDOWN,
            Self::Invalid => EINVAL,
            Self::NoFreePort => EADDRINUSE,
            Self::Other(e) => e,
        }
    }
}

impl From<ExpectError> for Error {
    #[inline]
    fn from(e: ExpectError) -> Self {
        e.to_error()
    }
}

/// What an expectation matches: the first packet of the expected
/// connection, in its original direction.  Its layer 3 family is the
/// master connection's, as the C helpers give it (`nf_ct_l3num()`): the
/// addresses are of that family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpectTuple {
    /// Source address (16 bytes of `union nf_inet_addr`), or any.
    pub src: Option<[u8; 16]>,
    /// Destination address.
    pub dst: [u8; 16],
    /// Source port (host order), or any.
    pub sport: Option<u16>,
    /// Destination port (host order).
    pub dport: u16,
}

#[inline]
fn inet_addr(bytes: &[u8; 16]) -> bindings::nf_inet_addr {
    let mut all = [0u32; 4];
    for (w, c) in all.iter_mut().zip(bytes.chunks_exact(4)) {
        *w = u32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
    }
    bindings::nf_inet_addr { all }
}

/// State of an [`Expectation`]: allocated, its tuple not set yet.
pub enum Allocated {}

/// State of an [`Expectation`]: initialised, ready to be registered.
pub enum Initialised {}

/// What [`Expectation::related`] did besides registering the expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Related {
    /// How many unexpired expectations of the same master and class were
    /// removed to stay within the policy's `max_expected`.
    pub evicted: u32,
}

/// An expectation of the connection of a help callback, in state `S`
/// ([`Allocated`], then [`Initialised`]); it is registered (and consumed)
/// by [`Expectation::related`], dropped otherwise.
///
/// It borrows the callback (`'a`), which holds the master connection: it
/// cannot be kept past the callback.
///
/// # Invariants
///
/// `exp` points at an expectation allocated by `nf_ct_expect_alloc` for
/// the connection of a help callback that runs for `'a` (which holds the
/// master), on which `self` owns one reference; it is not registered, and
/// when `S` is [`Initialised`] it has been initialised by
/// `nf_ct_expect_init`.
pub struct Expectation<'a, S = Allocated> {
    exp: NonNull<bindings::nf_conntrack_expect>,
    _ctx: PhantomData<&'a ()>,
    _state: PhantomData<S>,
}

impl<'a, S> Expectation<'a, S> {
    /// Moves the reference into an expectation of state `T`.
    ///
    /// # Safety
    ///
    /// The expectation must satisfy the invariants of state `T`.
    #[inline]
    unsafe fn into_state<T>(self) -> Expectation<'a, T> {
        let exp = self.exp;
        // The reference moves to the result: no `nf_ct_expect_put` here.
        core::mem::forget(self);
        // INVARIANT: same expectation and reference; state `T` (caller).
        Expectation {
            exp,
            _ctx: PhantomData,
            _state: PhantomData,
        }
    }

    /// Gives up the reference without dropping the expectation.
    #[inline]
    pub(super) fn into_raw(self) -> NonNull<bindings::nf_conntrack_expect> {
        let exp = self.exp;
        core::mem::forget(self);
        exp
    }
}

impl<'a> Expectation<'a, Allocated> {
    /// Allocates an expectation whose master is the connection of `ctx`
    /// (`nf_ct_expect_alloc()`, atomic allocation).
    ///
    /// Fails with [`ExpectError::NoMemory`].
    #[inline]
    pub fn alloc(ctx: &HelpContext<'a>) -> Result<Self, ExpectError> {
        let ct = ctx.conn().as_ptr();
        // SAFETY: `ct` is the valid connection of the callback.
        let exp = unsafe { bindings::nf_ct_expect_alloc(ct) };
        let exp = NonNull::new(exp).ok_or(ExpectError::NoMemory)?;
        // INVARIANT: a fresh expectation of the callback's connection, with
        // one reference, ours.
        Ok(Self {
            exp,
            _ctx: PhantomData,
            _state: PhantomData,
        })
    }

    /// Sets the tuple and mask of the expectation, of the default class
    /// and the master connection's family (`nf_ct_expect_init()`); the
    /// helper of the master connection is attached to the expected
    /// connection.
    #[inline]
    pub fn init(self, tuple: &ExpectTuple) -> Expectation<'a, Initialised> {
        let src = tuple.src.as_ref().map(inet_addr);
        let dst = inet_addr(&tuple.dst);
        let sport = tuple.sport.map(u16::to_be);
        let dport = tuple.dport.to_be();
        // SAFETY: `exp` is valid, and its master, set by `alloc`, is held by
        // the packet of the callback (type invariant).
        let family = unsafe { bindings::rnm_nf_ct_expect_l3num(self.exp.as_ptr()) };
        // SAFETY: `exp` is a valid expectation whose master is held by the
        // packet of the callback, which runs under `rcu_read_lock()` (type
        // invariant); the address and port pointers are valid for the
        // call, which copies them.
        unsafe {
            bindings::nf_ct_expect_init(
                self.exp.as_ptr(),
                bindings::NF_CT_EXPECT_CLASS_DEFAULT,
                family,
                src.as_ref().map_or(core::ptr::null(), |a| a),
                &dst,
                super::L4Proto::Tcp.to_raw(),
                sport.as_ref().map_or(core::ptr::null(), |p| p),
                &dport,
            )
        };
        // SAFETY: initialised just above.
        unsafe { self.into_state() }
    }
}

impl<'a> Expectation<'a, Initialised> {
    /// Registers the expectation (`nf_ct_expect_related()`), consuming it.
    ///
    /// With `None`, the policy registered with the master's helper applies:
    /// if the master has its `max_expected` expectations of the class,
    /// conntrack removes the oldest, and the expectation lives its
    /// `timeout`.
    ///
    /// With `Some(limits)`, the limits of this expectation, for example
    /// those of the master's namespace: the helper's registered policy is
    /// not changed.  Expired expectations of the master, then the oldest
    /// of the class, are removed until the master has fewer than
    /// `limits.max_expected()` (the registered policy's `max_expected`
    /// stays a ceiling: conntrack enforces it too), and the expectation
    /// lives `limits.timeout()` seconds from its allocation, as one
    /// registered with the policy lives its `timeout`.
    ///
    /// Returns how many live expectations were removed to make room.
    /// Fails with [`ExpectError::Clash`], [`ExpectError::Exists`],
    /// [`ExpectError::TableFull`] or [`ExpectError::Shutdown`] (see
    /// there); the expectation is then dropped.
    #[inline]
    pub fn related(self, limits: Option<Policy>) -> Result<Related, ExpectError> {
        let exp = self.into_raw();
        let mut evicted: kernel::ffi::c_uint = 0;
        let ret = match limits {
            // SAFETY: `exp` is a valid, initialised expectation whose master
            // is held (type invariant); registering takes its own
            // reference.
            None => unsafe { bindings::rnm_nf_ct_expect_related(exp.as_ptr(), 0) },
            // SAFETY: as above; `max_expected` and `timeout` are in the
            // ranges the helper needs (`Policy` invariants); `evicted` is
            // valid for writes.
            Some(p) => unsafe {
                bindings::rnm_nf_ct_expect_related_limited(
                    exp.as_ptr(),
                    p.max_expected().into(),
                    p.timeout(),
                    &mut evicted,
                )
            },
        };
        // SAFETY: we owned one reference on `exp` (type invariant), given up
        // by `into_raw`; the table holds its own if it was registered.
        unsafe { bindings::nf_ct_expect_put(exp.as_ptr()) };
        if ret < 0 {
            return Err(ExpectError::from_errno(Error::from_errno(ret)));
        }
        Ok(Related { evicted })
    }
}

impl<S> Drop for Expectation<'_, S> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we own one reference on `exp` (type invariant); it is not
        // registered, so this frees it (after an RCU grace period).
        unsafe { bindings::nf_ct_expect_put(self.exp.as_ptr()) };
    }
}
