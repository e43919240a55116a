// SPDX-License-Identifier: GPL-2.0

//! NAT for conntrack helpers: rewriting the addresses a protocol carries in
//! its payload, and expectations whose connections are NATed as their
//! master is.
//!
//! C headers: [`include/net/netfilter/nf_nat_helper.h`](srctree/include/net/netfilter/nf_nat_helper.h),
//! [`include/net/netfilter/nf_conntrack_seqadj.h`](srctree/include/net/netfilter/nf_conntrack_seqadj.h)
//!
//! When NAT applies to a connection, the addresses and ports one peer
//! announces in the payload (FTP's `PORT` or `227`, for example) are those
//! of its side of the NAT, which the other peer cannot reach.  A helper
//! then, from its `help` callback ([`HelpContext::nat`]):
//!
//! 1. registers the expectation of the announced connection through
//!    [`Nat::expect_related`], which makes the expected connection follow
//!    the master's NAT (`nf_nat_follow_master()`) and finds a free port on
//!    the other side of the NAT (`nf_nat_exp_find_port()`);
//! 2. rewrites the announcement to the address [`Nat::announce_addr`] and
//!    that port with [`NatExpectation::mangle`]; conntrack then adjusts the
//!    sequence and acknowledgement numbers (and SACK blocks) of every later
//!    segment of the connection by the change of length
//!    (`nf_conntrack_seqadj.c`).
//!
//! An expectation that is not rewritten into the packet is removed again
//! (dropping a [`NatExpectation`]), so that no connection is expected on a
//! port nobody announced.
//!
//! ```
//! use crate::rnm::netfilter::expect::{ExpectTuple, Expectation};
//! use crate::rnm::netfilter::helper::HelpContext;
//! use crate::rnm::netfilter::Verdict;
//!
//! /// Expects `tuple` and, behind NAT, rewrites the `len` bytes at `off`
//! /// of the payload to the port found, in decimal.
//! fn expect(ctx: &mut HelpContext<'_>, tuple: &ExpectTuple, off: usize, len: usize) -> Verdict {
//!     let Ok(exp) = Expectation::alloc(ctx) else {
//!         return Verdict::Drop;
//!     };
//!     let exp = exp.init(tuple);
//!     let Some(mut nat) = ctx.nat() else {
//!         return match exp.related(None) {
//!             Ok(_) => Verdict::Accept,
//!             Err(_) => Verdict::Drop,
//!         };
//!     };
//!     let Ok(exp) = nat.expect_related(exp, None) else {
//!         return Verdict::Drop;
//!     };
//!     let mut text = [0u8; 5];
//!     let mut port = exp.port();
//!     for digit in text.iter_mut().rev() {
//!         *digit = b'0' + (port % 10) as u8;
//!         port /= 10;
//!     }
//!     match exp.mangle(off, len, &text) {
//!         Ok(_) => Verdict::Accept,
//!         Err(_) => Verdict::Drop,
//!     }
//! }
//! # let _ = expect;
//! ```

use super::{
    expect::{ExpectError, Expectation, Initialised, Related},
    helper::{HelpContext, Helper, Policy, Registration},
};
use crate::rnm::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;

/// Why a payload could not be rewritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MangleError {
    /// The bytes to replace do not lie within the TCP payload, or the
    /// replacement is longer than [`MANGLE_MAX`].
    OutOfRange,
    /// The length would change, but the connection has no sequence
    /// adjustment (its NAT was set up before a helper was assigned, by a
    /// path that does not add it); rewriting would desynchronise the
    /// peers.
    NoSeqAdjust,
    /// The packet could not be made writable, or would exceed 65535
    /// bytes.
    NoMemory,
}

impl From<MangleError> for Error {
    #[inline]
    fn from(e: MangleError) -> Self {
        match e {
            MangleError::OutOfRange => EINVAL,
            MangleError::NoSeqAdjust => EOPNOTSUPP,
            MangleError::NoMemory => ENOMEM,
        }
    }
}

/// The longest replacement text [`Nat::mangle`] accepts, in bytes.
pub const MANGLE_MAX: usize = bindings::RNM_NF_NAT_MANGLE_MAX as usize;

/// The NAT view of the packet of a help callback whose connection is
/// NATed (`ct->status & IPS_NAT_MASK`), from [`HelpContext::nat`].
///
/// It borrows the callback's context mutably: no view of the payload
/// ([`HelpContext::tcp_payload`]) is alive while the packet is rewritten.
pub struct Nat<'c, 'a> {
    ctx: &'c mut HelpContext<'a>,
}

impl<'a> HelpContext<'a> {
    /// The NAT view of the packet, or `None` if NAT does not apply to its
    /// connection (`IPS_SRC_NAT` and `IPS_DST_NAT` both clear), in which
    /// case nothing in the packet may change.
    #[inline]
    pub fn nat(&mut self) -> Option<Nat<'_, 'a>> {
        // SAFETY: the connection is valid for the callback (`Conn`
        // invariant).
        if unsafe { bindings::rnm_nf_ct_is_nat(self.conn().as_ptr()) } {
            Some(Nat { ctx: self })
        } else {
            None
        }
    }
}

impl<'c, 'a> Nat<'c, 'a> {
    /// The address a connection towards the sender of this packet must be
    /// announced with to the receiver: where this packet goes after NAT,
    /// `ct->tuplehash[!dir].tuple.dst.u3` (16 bytes of
    /// `union nf_inet_addr`).
    #[inline]
    pub fn announce_addr(&self) -> [u8; 16] {
        self.ctx.conn().tuple(self.ctx.direction().reverse()).dst
    }

    /// Registers `exp`, whose destination port is the one announced in the
    /// packet, as an expectation NATed as its master is
    /// (`nf_nat_follow_master()`): the expected connection comes from the
    /// receiver of this packet, and after NAT it reaches the announced
    /// port.  The port expected on the receiver's side is the announced
    /// one if free, else one of up to 128 random ports above it
    /// (`nf_nat_exp_find_port()`).
    ///
    /// `limits` as for [`Expectation::related`].
    ///
    /// Fails with [`ExpectError::NoFreePort`] if every port tried was
    /// expected already, or as [`Expectation::related`] does.
    #[inline]
    pub fn expect_related<'n>(
        &'n mut self,
        exp: Expectation<'a, Initialised>,
        limits: Option<Policy>,
    ) -> Result<NatExpectation<'n, 'c, 'a>, ExpectError> {
        let dir = self.ctx.direction().reverse().index();
        let (max_expected, timeout) =
            limits.map_or((0, 0), |p| (u32::from(p.max_expected()), p.timeout()));
        let exp = exp.into_raw();
        let mut evicted = 0;
        let mut port = 0;
        // `exp` is an initialised TCP expectation (the only protocol
        // `Expectation::init` sets) whose master, the connection of the
        // callback, is held by the packet; `max_expected` (non-zero) and
        // `timeout` come from a `Policy`, whose invariants are the limits.
        // SAFETY: as just said; `dir` is a direction; the out pointers are
        // valid for writes.
        let ret = unsafe {
            bindings::rnm_nf_nat_expect_related(
                exp.as_ptr(),
                dir,
                max_expected,
                timeout,
                &mut evicted,
                &mut port,
            )
        };
        if ret < 0 {
            // SAFETY: we owned one reference on `exp`, given up by
            // `into_raw`; it is not registered.
            unsafe { bindings::nf_ct_expect_put(exp.as_ptr()) };
            let err = Error::from_errno(ret);
            return Err(if err == EBUSY {
                ExpectError::NoFreePort
            } else {
                ExpectError::from_errno(err)
            });
        }
        // INVARIANT: registered just above; our reference moves into the
        // result.
        Ok(NatExpectation {
            nat: self,
            exp,
            port,
            evicted,
        })
    }

    /// Replaces the `len` bytes at offset `off` of the TCP payload by
    /// `text` (at most [`MANGLE_MAX`] bytes), fixing the packet's lengths
    /// and checksums (`__nf_nat_mangle_tcp_packet()`).  Offsets are those
    /// of the payload as it is now, after earlier rewrites of this
    /// callback.  When the callback returns, the change of length of all
    /// its rewrites is recorded at once for the sequence adjustment of the
    /// connection in the packet's direction (`nf_ct_seqadj_set()`, which
    /// keeps one change per packet).
    ///
    /// Fails with [`MangleError`]; the packet is then unchanged.
    #[inline]
    pub fn mangle(&mut self, off: usize, len: usize, text: &[u8]) -> Result<(), MangleError> {
        // The payload as it is now (`__nf_nat_mangle_tcp_packet()` makes
        // the packet writable and linear itself).
        let payload_len = self
            .ctx
            .tcp_segment_info()
            .map_err(|_| MangleError::OutOfRange)?
            .len;
        let fits = off.checked_add(len).is_some_and(|end| end <= payload_len);
        if !fits || text.len() > MANGLE_MAX {
            return Err(MangleError::OutOfRange);
        }
        // Both below 2^17: no overflow; the sum of a packet's changes is
        // bounded by its size, but checked all the same.
        let delta = self
            .ctx
            .seq_delta()
            .checked_add(text.len() as i32 - len as i32)
            .ok_or(MangleError::OutOfRange)?;
        // The three fit in `c_uint`: the payload is at most 64 KiB, the
        // text at most `MANGLE_MAX` bytes.
        let (off, len, text_len) = (off as u32, len as u32, text.len() as u32);
        // The packet and its connection are valid and the TCP header starts
        // at `protoff` (`HelpContext` invariants); no view of the payload
        // is alive (`self` borrows the context mutably).
        // SAFETY: as just said; the help callback does not hold `ct->lock`;
        // `text` is valid for `text_len` bytes, which the call copies.
        let ret = unsafe {
            bindings::rnm_nf_nat_mangle_tcp(
                self.ctx.skb_ptr(),
                self.ctx.conn().as_ptr(),
                self.ctx.ctinfo().to_raw(),
                self.ctx.protoff(),
                off,
                len,
                text.as_ptr(),
                text_len,
            )
        };
        match ret {
            0 => {
                self.ctx.rewritten(delta);
                Ok(())
            }
            r if r == EOPNOTSUPP.to_errno() => Err(MangleError::NoSeqAdjust),
            r if r == ENOMEM.to_errno() => Err(MangleError::NoMemory),
            _ => Err(MangleError::OutOfRange),
        }
    }
}

/// A registered expectation of a NATed master whose port has not been
/// written into the packet yet, from [`Nat::expect_related`].
///
/// [`NatExpectation::mangle`] writes the announcement and keeps the
/// expectation; dropping it removes the expectation
/// (`nf_ct_unexpect_related()`), as `nf_nat_ftp` does when it cannot
/// rewrite the packet.
///
/// # Invariants
///
/// `exp` is registered (or was, until a connection matched it or it
/// expired), its master is the connection of the callback `nat` borrows,
/// and `self` owns one reference on it.
pub struct NatExpectation<'n, 'c, 'a> {
    nat: &'n mut Nat<'c, 'a>,
    exp: NonNull<bindings::nf_conntrack_expect>,
    port: u16,
    evicted: u32,
}

impl NatExpectation<'_, '_, '_> {
    /// The port expected on the receiver's side of the NAT (host order),
    /// which the rewritten announcement must carry.
    #[inline]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Rewrites the announcement (see [`Nat::mangle`]) and keeps the
    /// expectation.  On failure the expectation is removed.
    #[inline]
    pub fn mangle(self, off: usize, len: usize, text: &[u8]) -> Result<Related, MangleError> {
        let mut this = core::mem::ManuallyDrop::new(self);
        let res = this.nat.mangle(off, len, text);
        if res.is_err() {
            // SAFETY: `exp` is valid: we own a reference on it.
            unsafe { bindings::nf_ct_unexpect_related(this.exp.as_ptr()) };
        }
        // SAFETY: we own one reference on `exp` (type invariant), given up
        // here; `this` is not dropped.
        unsafe { bindings::nf_ct_expect_put(this.exp.as_ptr()) };
        res.map(|()| Related {
            evicted: this.evicted,
        })
    }
}

impl Drop for NatExpectation<'_, '_, '_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we own one reference on `exp` (type invariant), which
        // keeps it valid for both calls; removing an expectation that a
        // connection already matched, or that expired, does nothing.
        unsafe {
            bindings::nf_ct_unexpect_related(self.exp.as_ptr());
            bindings::nf_ct_expect_put(self.exp.as_ptr());
        }
    }
}

/// The NAT helper name of a registered conntrack helper
/// (`struct nf_conntrack_nat_helper`, `ip_nat_<helper name>`), by which
/// tc `act_ct` and Open vSwitch find and pin the module doing the NAT part
/// of the helper (`nf_nat_helper_try_module_get()`).  The module should
/// also carry that name as an alias, for those to load it.
///
/// Unregistered on drop unless the module is live, that is when the
/// module is unloaded or while it loads: keep it in the module's value, as
/// the C helpers keep it registered until their module's exit.  Dropped
/// while the module is live, it stays registered and keeps the module
/// loaded for good (with a warning in the kernel log): tc and Open vSwitch
/// give back the module reference they took through it by finding it
/// again by name, and would warn, and keep the reference, if it were gone.
/// (Dropped in the module's `init`, which then succeeds, it is
/// unregistered: a user that took a reference through it meanwhile gets
/// that warning.)
///
/// # Invariants
///
/// `nat` was registered by `rnm_nf_nat_helper_register` and has not been
/// unregistered.
pub struct NatHelperRegistration {
    nat: NonNull<bindings::nf_conntrack_nat_helper>,
}

impl NatHelperRegistration {
    /// Registers the NAT helper name of `helper`, owned by `module`
    /// (`nf_nat_helper_register()`).
    ///
    /// Process context.  Fails with `ENOMEM`.
    #[inline]
    pub fn register<H: Helper>(
        helper: &Registration<H>,
        module: &'static ThisModule,
    ) -> Result<Self> {
        // SAFETY: `helper` is registered, so its structure is valid; the
        // function copies its NAT module name; `module` is this module.
        let nat = unsafe {
            bindings::rnm_nf_nat_helper_register(helper.as_ptr(), module.as_ptr().cast())
        };
        // INVARIANT: registered just above.
        Ok(Self {
            nat: NonNull::new(nat).ok_or(ENOMEM)?,
        })
    }
}

impl Drop for NatHelperRegistration {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: registered (type invariant); this unregisters it, waits
        // for RCU readers and frees it, or leaves it registered for good.
        if !unsafe { bindings::rnm_nf_nat_helper_unregister(self.nat.as_ptr()) } {
            pr_warn!("NAT helper name dropped while its module is live: kept, with the module\n");
        }
    }
}

// SAFETY: the registration is only used by `drop`, which may run on any
// thread in process context.
unsafe impl Send for NatHelperRegistration {}
// SAFETY: `&NatHelperRegistration` gives access to nothing.
unsafe impl Sync for NatHelperRegistration {}
