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
//! ```ignore
//! let mut exp = Expectation::alloc(ctx)?;
//! exp.init(&ExpectTuple { family, src: Some(saddr), dst: daddr, sport: None, dport: port });
//! match exp.related(None) {
//!     Ok(()) => {}
//!     Err(ExpectError::TableFull) => { /* count it */ }
//!     Err(e) => return Verdict::Drop,
//! }
//! ```

use super::{helper::HelpContext, helper::Policy, Family};
use crate::rnm::bindings;
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{error::code::*, prelude::*};

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
    /// Any other error.
    Other(Error),
}

impl ExpectError {
    #[inline]
    fn from_errno(err: Error) -> Self {
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
/// connection, in its original direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpectTuple {
    /// Layer 3 family.
    pub family: Family,
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

/// A reference to an expectation of the connection of a help callback.
///
/// # Invariants
///
/// `exp` points at an expectation allocated by `nf_ct_expect_alloc` for
/// the connection of `ctx`, on which `self` owns one reference; it is used
/// only during the help callback (`'a`), while the master connection is
/// held by the packet.
pub struct Expectation<'a> {
    exp: NonNull<bindings::nf_conntrack_expect>,
    ct: *mut bindings::nf_conn,
    initialised: bool,
    _ctx: PhantomData<&'a ()>,
}

impl<'a> Expectation<'a> {
    /// Allocates an expectation whose master is the connection of `ctx`
    /// (`nf_ct_expect_alloc()`, atomic allocation).
    #[inline]
    pub fn alloc(ctx: &HelpContext<'a>) -> Result<Self, ExpectError> {
        let ct = ctx.conn().as_ptr();
        // SAFETY: `ct` is the valid connection of the callback.
        let exp = unsafe { bindings::nf_ct_expect_alloc(ct) };
        let exp = NonNull::new(exp).ok_or(ExpectError::NoMemory)?;
        // INVARIANT: a fresh expectation of `ct` with one reference, ours.
        Ok(Self {
            exp,
            ct,
            initialised: false,
            _ctx: PhantomData,
        })
    }

    /// Sets the tuple and mask of the expectation, of the default class
    /// (`nf_ct_expect_init()`); the helper of the master connection is
    /// attached to the expected connection.
    #[inline]
    pub fn init(&mut self, tuple: &ExpectTuple) {
        let src = tuple.src.as_ref().map(inet_addr);
        let dst = inet_addr(&tuple.dst);
        let sport = tuple.sport.map(u16::to_be);
        let dport = tuple.dport.to_be();
        // SAFETY: `exp` is a valid expectation whose master is held
        // (type invariant); the address and port pointers are valid for
        // the call, which copies them.
        unsafe {
            bindings::nf_ct_expect_init(
                self.exp.as_ptr(),
                bindings::NF_CT_EXPECT_CLASS_DEFAULT,
                tuple.family.to_raw(),
                src.as_ref().map_or(core::ptr::null(), |a| a),
                &dst,
                super::L4Proto::Tcp.to_raw(),
                sport.as_ref().map_or(core::ptr::null(), |p| p),
                &dport,
            )
        };
        self.initialised = true;
    }

    /// Registers the expectation (`nf_ct_expect_related()`).
    ///
    /// With `policy`, the per-connection limit and the timeout of the
    /// default class of the master's helper are first set to it, so that
    /// limits configured at run time apply to this expectation and the
    /// following ones.  If the master already has `max_expected`
    /// expectations of the class, conntrack removes the oldest one to make
    /// room (see [`Conn::expecting`](super::conntrack::Conn::expecting)).
    #[inline]
    pub fn related(&self, policy: Option<Policy>) -> Result<(), ExpectError> {
        if !self.initialised {
            return Err(ExpectError::Invalid);
        }
        if let Some(p) = policy {
            // SAFETY: `ct` is the valid master (type invariant), in an RCU
            // read-side section (help callback).
            unsafe {
                bindings::rnm_nfct_set_helper_policy(
                    self.ct,
                    bindings::NF_CT_EXPECT_CLASS_DEFAULT,
                    p.max_expected,
                    p.timeout,
                )
            };
        }
        // SAFETY: `exp` is a valid, initialised expectation (type invariant
        // and the check above); registering takes its own reference.
        let ret = unsafe { bindings::rnm_nf_ct_expect_related(self.exp.as_ptr(), 0) };
        if ret < 0 {
            return Err(ExpectError::from_errno(Error::from_errno(ret)));
        }
        Ok(())
    }
}

impl Drop for Expectation<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we own one reference on `exp` (type invariant).
        unsafe { bindings::nf_ct_expect_put(self.exp.as_ptr()) };
    }
}
