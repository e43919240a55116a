// SPDX-License-Identifier: GPL-2.0

//! Conntrack helpers (`struct nf_conntrack_helper`).
//!
//! C header: [`include/net/netfilter/nf_conntrack_helper.h`](srctree/include/net/netfilter/nf_conntrack_helper.h)
//!
//! A helper watches the packets of the connections it is assigned to (by
//! `ct helper set` in nftables or `-j CT --helper` in iptables) and creates
//! expectations for the related connections they announce.  A
//! [`Registration`] registers the [`Helper`] implementation of a Rust type
//! under a name; dropping it unregisters the helper and removes every
//! expectation the helper created (`nf_conntrack_helper_unregister`).
//!
//! The `help` callback runs in softirq context (or with bottom halves
//! disabled) under `rcu_read_lock()`.  All callbacks of the helpers of one
//! module are serialised by one spinlock taken with bottom halves disabled,
//! as `nf_conntrack_ftp` does with its `nf_ftp_lock`: this gives
//! [`Helper::help`] exclusive access to the connection's helper data
//! ([`Helper::Data`]), which both directions of a connection share.
//! A helper that reads only the payload of established connections says
//! so ([`Helper::PACKETS`]), and the other packets are accepted before the
//! lock is taken, as `nf_conntrack_ftp` accepts them.
//!
//! # Examples
//!
//! ```
//! use crate::rnm::net_namespace::{NetRef, PernetData, PernetId, PernetRegistration};
//! use crate::rnm::netfilter::helper::{HelpContext, Helper, HelperNet, Policy, Registration};
//! use crate::rnm::netfilter::{Family, L4Proto, Verdict};
//! # use kernel::prelude::*;
//!
//! static ID: PernetId = PernetId::new();
//!
//! /// Packets seen in each namespace.
//! struct Seen(core::sync::atomic::AtomicU64);
//!
//! impl PernetData for Seen {
//!     fn id() -> &'static PernetId {
//!         &ID
//!     }
//!
//!     fn new(_net: NetRef<'_>) -> Result<Self> {
//!         Ok(Seen(core::sync::atomic::AtomicU64::new(0)))
//!     }
//! }
//!
//! struct Echo;
//!
//! impl Helper for Echo {
//!     type Net = Seen;
//!     /// Packets seen on each connection.
//!     type Data = u32;
//!
//!     fn help(_ctx: &mut HelpContext<'_>, net: HelperNet<'_, Seen>, packets: &mut u32) -> Verdict {
//!         *packets += 1;
//!         if let Some(seen) = net.get() {
//!             seen.0.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
//!         }
//!         Verdict::Accept
//!     }
//! }
//!
//! const POLICY: Policy = match Policy::new(1, 300) {
//!     Ok(p) => p,
//!     Err(_) => panic!("invalid expectation policy"),
//! };
//!
//! fn register(module: &'static ThisModule) -> Result<Registration<Echo>> {
//!     let net = PernetRegistration::register()?;
//!     Registration::register(c"echo", Family::Unspec, L4Proto::Tcp, POLICY, net, module)
//! }
//! # let _ = register;
//! ```

use super::{
    conntrack::{Conn, ConntrackInfo, Direction},
    Family, L4Proto, Verdict,
};
use crate::rnm::{
    bindings,
    net::skb::{header_pointer, linear_bytes},
    net_namespace::{PernetData, PernetRegistration},
};
use core::{
    marker::PhantomData,
    mem::{align_of, size_of, MaybeUninit},
    ptr::{self, NonNull},
};
use kernel::{
    error::{code::*, to_result, Error},
    ffi::{c_int, c_uint},
    prelude::*,
};

/// Size of the per-connection helper data area (`nf_conn_help.data`).
pub const DATA_SIZE: usize = 32;
/// Alignment of the per-connection helper data area.
pub const DATA_ALIGN: usize = 8;

// The area is `nf_conn_help.data`: at least that long and aligned.
const _: () = assert!(
    core::mem::offset_of!(bindings::nf_conn_help, data) % DATA_ALIGN == 0
        && core::mem::offset_of!(bindings::nf_conn_help, data) + DATA_SIZE
            <= size_of::<bindings::nf_conn_help>()
);

/// The module's helper lock (`rnm_nf_help_lock`, a C spinlock of the
/// module), held with bottom halves disabled
/// (`spin_lock_bh()`) while the guard lives.  Not `Send`: released on
/// the CPU that took it.
///
/// # Invariants
///
/// Made only by [`with_help_data`], once it has taken the lock on this
/// CPU.
struct HelpLockGuard(PhantomData<*mut ()>);

/// The lock of the helpers' data.
#[inline(always)]
fn help_lock() -> *mut kernel::bindings::spinlock_t {
    // Only the address of the C `spinlock_t` (statically initialised,
    // `DEFINE_SPINLOCK`), which is only accessed as a lock.
    ptr::addr_of_mut!(bindings::rnm_nf_help_lock).cast()
}

impl Drop for HelpLockGuard {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: taken by `with_help_data` on this CPU (the guard is not
        // `Send`) and not released since.
        unsafe { crate::rnm::bh::spin::unlock_bh(help_lock()) };
    }
}

/// The helper data area of `ct` (`nfct_help_data()`), `None` if it has no
/// helper extension.
///
/// # Safety
///
/// `ct` must be valid, and its extension area not reallocated during the
/// call.  (Only a connection that is not confirmed yet has extensions
/// added, which reallocates the area, and only by its owner: the path of
/// its first packet, where conntrack calls the helper from.)
#[inline(always)]
unsafe fn help_data(ct: *const bindings::nf_conn) -> Option<NonNull<u8>> {
    // SAFETY: `ct` is valid (caller).
    let ext = NonNull::new(unsafe { (*ct).ext })?;
    // SAFETY: a connection's extension area starts with the offsets of its
    // extensions, 0 for those it does not have (`nf_ct_ext_find()`).
    let off = unsafe { (*ext.as_ptr()).offset[bindings::nf_ct_ext_id_NF_CT_EXT_HELPER as usize] };
    if off == 0 {
        return None;
    }
    // SAFETY: the helper extension, a `struct nf_conn_help`, is at that
    // offset of the area; only the address of its `data` is taken.
    let help = unsafe { ext.as_ptr().cast::<u8>().add(off.into()) };
    let help = help.cast::<bindings::nf_conn_help>();
    // SAFETY: as just said.
    NonNull::new(unsafe { ptr::addr_of_mut!((*help).data) }.cast::<u8>())
}

/// Runs `f` under the module's helper lock, with bottom halves disabled,
/// with the helper data of `ct` as a `Slot<T>` (`None` if the connection
/// has no helper area).  Softirq or process context, never hard interrupt
/// context (where conntrack helpers do not run).
///
/// # Safety
///
/// `ct` must be valid, and its helper a `Registration<H>` with
/// `H::Data == T`.
#[inline]
unsafe fn with_help_data<T: Copy + Default, R>(
    ct: *const bindings::nf_conn,
    f: impl FnOnce(Option<&mut Slot<T>>) -> R,
) -> R {
    // SAFETY: the lock is statically initialised, and never taken with
    // it held on this CPU: conntrack calls the helper callbacks, the only
    // callers, in softirq or process context, never nested.
    unsafe { crate::rnm::bh::spin::lock_bh(help_lock()) };
    // INVARIANT: the lock was just taken, on this CPU.
    let _guard = HelpLockGuard(PhantomData);
    // SAFETY: `ct` is valid (caller); conntrack hands its helper a
    // connection whose extensions are not reallocated meanwhile.
    let data = unsafe { help_data(ct) };
    let slot = data.map(|p| {
        // The area is `DATA_SIZE` bytes aligned to `DATA_ALIGN` (checked
        // by `Slot::FITS`), zeroed when attached (`init` false), written
        // only as a `Slot<T>` by this helper (caller); the lock is held
        // until after `f` returns, and `f` cannot keep the reference.
        // SAFETY: a valid `Slot<T>`, accessed exclusively under the lock.
        unsafe { p.cast::<Slot<T>>().as_mut() }
    });
    f(slot)
}

/// Limits of the expectations of one class (`struct
/// nf_conntrack_expect_policy`): how many one master connection may have at
/// once, and how long one lives unless a connection matches it.
///
/// Registered with a helper ([`Registration::register`]), a policy is the
/// kernel's for that helper; it is never written after registration.
/// Given to [`Expectation::related`](super::expect::Expectation::related),
/// it applies to that one expectation.
///
/// # Invariants
///
/// `1 <= max_expected <= 255` (`NF_CT_EXPECT_MAX_CNT`, and the `u8`
/// counter `nf_conn_help.expecting`) and `1 <= timeout <=`
/// [`Policy::MAX_TIMEOUT`], so that `timeout * HZ` jiffies fits in the
/// signed 32-bit deadline arithmetic of `nf_ct_exp_is_expired()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    max_expected: u8,
    timeout: u32,
}

impl Policy {
    /// The longest timeout, in seconds: `INT_MAX / HZ` (24 days with
    /// `HZ=1000`, 99 days with `HZ=250`).
    pub const MAX_TIMEOUT: u32 = bindings::RNM_NF_CT_EXPECT_TIMEOUT_MAX;

    /// A policy of at most `max_expected` expectations per master (a new
    /// one beyond that replaces the oldest), each living `timeout` seconds.
    ///
    /// Fails with `EINVAL` if `max_expected` is 0, or `timeout` is 0 or
    /// above [`Policy::MAX_TIMEOUT`].  In a `const` item, a failure is a
    /// compile error:
    ///
    /// ```
    /// use crate::rnm::netfilter::helper::Policy;
    ///
    /// const POLICY: Policy = match Policy::new(1, 300) {
    ///     Ok(p) => p,
    ///     Err(_) => panic!("invalid expectation policy"),
    /// };
    /// assert_eq!(POLICY.timeout(), 300);
    /// assert!(Policy::new(0, 300).is_err());
    /// ```
    #[inline]
    pub const fn new(max_expected: u8, timeout: u32) -> Result<Self> {
        if max_expected == 0 || timeout == 0 || timeout > Self::MAX_TIMEOUT {
            return Err(EINVAL);
        }
        // INVARIANT: checked just above.
        Ok(Self {
            max_expected,
            timeout,
        })
    }

    /// How many expectations of the class a master may have at once
    /// (1..=255).
    #[inline]
    pub const fn max_expected(&self) -> u8 {
        self.max_expected
    }

    /// Lifetime of an expectation, in seconds (1..=[`Policy::MAX_TIMEOUT`]).
    #[inline]
    pub const fn timeout(&self) -> u32 {
        self.timeout
    }

    #[inline]
    fn to_raw(self) -> bindings::nf_conntrack_expect_policy {
        bindings::nf_conntrack_expect_policy {
            max_expected: self.max_expected.into(),
            timeout: self.timeout,
            name: [0; 16],
        }
    }
}

/// Which packets of its connections a helper's [`Helper::help`] is called
/// for ([`Helper::PACKETS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packets {
    /// Every packet of the connection's protocol: an ICMP error related to
    /// the connection (`IP_CT_RELATED`), which conntrack hands to its
    /// helper too, is accepted without calling it, since its transport
    /// header is ICMP's.
    All,
    /// Only the packets of an established connection (`IP_CT_ESTABLISHED`
    /// or `IP_CT_ESTABLISHED_REPLY`: after traffic both ways) that carry
    /// TCP payload.  The others, and packets too short for their TCP
    /// header, are accepted before the helper lock is taken, as
    /// `nf_conntrack_ftp` does before taking its lock; for a packet
    /// passed on, [`HelpContext::tcp_segment_info`] costs nothing.  For
    /// helpers of TCP only: [`Registration::register`] fails with `EINVAL`
    /// for another protocol.
    EstablishedTcpPayload,
}

/// A conntrack helper implemented in Rust.
pub trait Helper: 'static {
    /// Per-namespace state the callbacks read (for example limits set
    /// through per-namespace sysctls).  Its [`PernetRegistration`] is given
    /// to, and owned by, the helper's [`Registration`], so the value of a
    /// namespace is alive whenever a callback runs.
    type Net: PernetData;

    /// Per-connection state, kept in the helper area of the connection
    /// (`nf_conn_help.data`, at most [`DATA_SIZE`] bytes aligned to at most
    /// [`DATA_ALIGN`]).  It starts as `Default::default()` and has no
    /// destructor (the area is freed with the connection).
    type Data: Copy + Default + Send;

    /// The packets [`Helper::help`] is called for: [`Packets::All`]
    /// unless the helper says otherwise.
    const PACKETS: Packets = Packets::All;

    /// Called for the packets of a connection the helper is assigned to
    /// that [`Helper::PACKETS`] selects, with the state of the
    /// connection's namespace (looked up on request) and exclusive access
    /// to the connection's data.
    ///
    /// Softirq context (or bottom halves disabled), under the module's
    /// helper lock: must not sleep.
    fn help(
        ctx: &mut HelpContext<'_>,
        net: HelperNet<'_, Self::Net>,
        data: &mut Self::Data,
    ) -> Verdict;

    /// Called when a connection is restored through ctnetlink (for example
    /// by conntrackd after a failover), whose earlier traffic the helper
    /// has not seen.
    #[inline]
    fn restored(_data: &mut Self::Data) {}
}

/// The state of a helper in the namespace of the connection being helped
/// ([`Helper::Net`]), looked up on request: a helper that needs it for
/// some packets only does not pay the lookup (`net_generic()`) for the
/// others.
///
/// # Invariants
///
/// The namespace of `conn` is alive for `'a`, and so is a
/// `PernetRegistration<T>`.
pub struct HelperNet<'a, T: PernetData> {
    conn: Conn<'a>,
    _t: PhantomData<&'a T>,
}

impl<T: PernetData> Clone for HelperNet<'_, T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: PernetData> Copy for HelperNet<'_, T> {}

impl<'a, T: PernetData> HelperNet<'a, T> {
    /// The helper's state in the connection's namespace; `None` if the
    /// namespace has none: while it is being created, and once it is being
    /// dismantled (its devices may still pass packets then).  Each call looks
    /// it up (`nf_ct_net()`, `net_generic()`).  Any context the callback
    /// runs in.
    #[inline]
    pub fn get(&self) -> Option<&'a T> {
        let netref = self.conn.net();
        // SAFETY: a `PernetRegistration<T>` is alive for `'a` (type
        // invariant).
        unsafe { PernetRegistration::<T>::get_unchecked(&netref) }
    }
}

/// The per-connection data as stored in the helper area: the area is
/// zeroed when the helper is attached, which reads as "not initialised".
#[repr(C)]
struct Slot<T> {
    init: bool,
    value: MaybeUninit<T>,
}

impl<T: Copy + Default> Slot<T> {
    const FITS: () = assert!(
        size_of::<Slot<T>>() <= DATA_SIZE && align_of::<Slot<T>>() <= DATA_ALIGN,
        "helper data does not fit nf_conn_help.data"
    );

    #[inline]
    fn get(&mut self) -> &mut T {
        if !self.init {
            self.value.write(T::default());
            self.init = true;
        }
        // SAFETY: `init` is set only once `value` has been written.
        unsafe { self.value.assume_init_mut() }
    }
}

/// The packet a [`Helper::help`] call is about.
///
/// # Invariants
///
/// `skb` points at a valid packet whose transport header starts at
/// `protoff` and that belongs to `conn`, for `'a`; nothing else accesses the
/// packet during the callback.
pub struct HelpContext<'a> {
    skb: NonNull<bindings::sk_buff>,
    protoff: c_uint,
    conn: Conn<'a>,
    ctinfo: ConntrackInfo,
    /// What the TCP header says of the payload, if read already and the
    /// packet not rewritten since.
    segment: Option<TcpSegmentInfo>,
    /// Bytes the payload grew (or shrank) by NAT rewrites in this
    /// callback, recorded for sequence adjustment once it returns.
    seq_delta: i32,
}

// As for the proof types of `bh` (the module may implement traits for
// this crate's types): a copy of the context, or code of the module run
// when it is dropped, could rewrite the packet under a borrowed payload or
// after the length changes were handed to sequence adjustment.
impl Drop for HelpContext<'_> {
    #[inline(always)]
    fn drop(&mut self) {}
}

/// What the TCP header of a packet says of its payload, read without making
/// the packet linear ([`HelpContext::tcp_segment_info`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegmentInfo {
    /// Sequence number of the first byte of the payload (host order).
    pub seq: u32,
    /// Length of the payload, bytes; 0 if the packet has none.
    pub len: usize,
}

/// The TCP payload of a packet and its sequence number.
pub struct TcpSegment<'b> {
    /// Sequence number of the first byte of the payload (host order).
    pub seq: u32,
    /// The payload; empty if the packet has none.
    pub data: &'b [u8],
}

impl<'a> HelpContext<'a> {
    /// The connection the packet belongs to.
    #[inline]
    pub fn conn(&self) -> &Conn<'a> {
        &self.conn
    }

    /// The state of the connection as seen by the packet.
    #[inline]
    pub fn ctinfo(&self) -> ConntrackInfo {
        self.ctinfo
    }

    /// The direction of the packet.
    #[inline]
    pub fn direction(&self) -> Direction {
        self.ctinfo.direction()
    }

    /// The packet (valid for the callback; see the type invariants).
    #[inline]
    pub(super) fn skb_ptr(&self) -> *mut bindings::sk_buff {
        self.skb.as_ptr()
    }

    /// Offset of the packet's TCP header, bytes.
    #[inline]
    pub(super) fn protoff(&self) -> c_uint {
        self.protoff
    }

    /// The change of payload length the rewrites of this callback made so
    /// far, bytes.
    #[inline]
    pub(super) fn seq_delta(&self) -> i32 {
        self.seq_delta
    }

    /// Records that a rewrite changed the packet, and that the rewrites
    /// of this callback changed the payload's length by `delta` bytes in
    /// all (see [`super::nat::Nat::mangle`]).
    #[inline]
    pub(super) fn rewritten(&mut self, delta: i32) {
        self.seq_delta = delta;
        self.segment = None;
    }

    /// Returns the packet's TCP sequence number and the length of its
    /// payload (`skb->len` minus the end of the TCP header, bytes), read
    /// with `skb_header_pointer()` without making the packet linear
    /// (cheaper than [`Self::tcp_payload`] for a helper that reads whole
    /// payloads only at some sequence numbers).  What it returns describes
    /// the packet as it is now: a NAT rewrite
    /// ([`super::nat::Nat::mangle`]) makes it stale.
    ///
    /// Fails with `EINVAL` if the packet is too short for its TCP header.
    #[inline]
    pub fn tcp_segment_info(&self) -> Result<TcpSegmentInfo> {
        match self.segment {
            Some(info) => Ok(info),
            // SAFETY: by the type invariant `skb` is valid, its TCP header
            // starts at `protoff`, and nothing else accesses it.
            None => unsafe { tcp_segment_info(self.skb, self.protoff) },
        }
    }

    /// Returns the last byte of the packet's TCP payload, `None` if it has
    /// none, without making the packet linear (for a helper that tracks
    /// line ends in segments it does not read).
    ///
    /// Fails with `EINVAL` if the packet is too short for its TCP header.
    #[inline]
    pub fn tcp_last_byte(&self) -> Result<Option<u8>> {
        if self.tcp_segment_info()?.len == 0 {
            return Ok(None);
        }
        Ok(self.tail(1, &mut [MaybeUninit::uninit()])?.first().copied())
    }

    /// Returns the packet's TCP sequence number and payload without making
    /// the packet linear (`skb_header_pointer()`): the payload in place if
    /// it is in the packet's linear part, else copied into `buf` (which
    /// need not be initialised: only the copy is read).  Cheaper
    /// than [`Self::tcp_payload`] for short payloads, such as the command
    /// lines of a control protocol, which the stack often sends in a page
    /// fragment: copying a few bytes costs less than reallocating the
    /// packet's head.
    ///
    /// Fails with `EMSGSIZE` if the payload is longer than `buf` (and then
    /// reads nothing), and `EINVAL` if the packet is too short for its TCP
    /// header.  Any context the callback runs in (it does not sleep).
    #[inline]
    pub fn tcp_payload_copy<'s>(
        &'s self,
        buf: &'s mut [MaybeUninit<u8>],
    ) -> Result<TcpSegment<'s>> {
        let info = self.tcp_segment_info()?;
        if info.len == 0 {
            return Ok(TcpSegment {
                seq: info.seq,
                data: &[],
            });
        }
        if info.len > buf.len() {
            return Err(EMSGSIZE);
        }
        Ok(TcpSegment {
            seq: info.seq,
            data: self.tail(info.len, buf)?,
        })
    }

    /// The last `len` bytes of the packet (`len` at most its length and
    /// `buf`'s), in place or copied into `buf` (`skb_header_pointer()`).
    /// `EINVAL` if the packet is shorter (never for its payload).
    #[inline]
    fn tail<'s>(&'s self, len: usize, buf: &'s mut [MaybeUninit<u8>]) -> Result<&'s [u8]> {
        // SAFETY: by the type invariant `skb` is valid.
        let skb_len = unsafe { (*self.skb.as_ptr()).len } as usize;
        let offset = skb_len.checked_sub(len).ok_or(EINVAL)?;
        // SAFETY: by the type invariant `skb` is valid and nothing else
        // accesses it; it is not modified while `self` is borrowed (it
        // changes only through `&mut HelpContext`: `tcp_payload()`, and
        // `Nat::mangle()` through `nat()`).
        unsafe { header_pointer(self.skb, offset, len, buf) }.ok_or(EINVAL)
    }

    /// Makes the packet linear and returns its TCP sequence number and
    /// payload, which never extends past the packet.
    ///
    /// Fails with `ENOMEM` if the packet cannot be made linear and `EINVAL`
    /// if it is too short for its TCP header.
    #[inline]
    pub fn tcp_payload(&mut self) -> Result<TcpSegment<'_>> {
        let mut seq = 0u32;
        let mut data: *const u8 = ptr::null();
        let mut len: c_uint = 0;
        // SAFETY: by the type invariant `skb` is valid and its TCP header
        // starts at `protoff`; the out pointers are valid for writes.
        check(unsafe {
            bindings::rnm_skb_tcp_payload(
                self.skb.as_ptr(),
                self.protoff,
                &mut seq,
                &mut data,
                &mut len,
            )
        })?;
        let data = if data.is_null() || len == 0 {
            &[][..]
        } else {
            // SAFETY: the packet is linear, `data` points into its data
            // and `len` bytes up to its end are readable; the packet is not
            // modified while `self` is borrowed (type invariant).
            unsafe { core::slice::from_raw_parts(data, len as usize) }
        };
        Ok(TcpSegment { seq, data })
    }
}

/// [`to_result`], inlined: the kernel crate's is a call, here made for
/// every packet.
#[inline(always)]
fn check(ret: c_int) -> Result {
    if ret < 0 {
        Err(Error::from_errno(ret))
    } else {
        Ok(())
    }
}

/// Reads what the TCP header of `skb` says of its payload
/// (see [`HelpContext::tcp_segment_info`]).
///
/// # Safety
///
/// `skb` must be valid, its TCP header must start at `protoff`, and
/// nothing may write to it during the call.
#[inline]
unsafe fn tcp_segment_info(
    skb: NonNull<bindings::sk_buff>,
    protoff: c_uint,
) -> Result<TcpSegmentInfo> {
    let mut buf = [MaybeUninit::uninit(); TCP_HLEN];
    // SAFETY: `skb` is valid and nothing writes to it during the call
    // (caller), in which the header is read.
    let th = unsafe { header_pointer(skb, protoff as usize, TCP_HLEN, &mut buf) };
    // SAFETY: as for this function.
    unsafe { segment_info(skb, protoff, th) }.ok_or(EINVAL)
}

/// [`tcp_segment_info`] for a packet whose TCP header (its first 20 bytes,
/// which hold the fields read) is in its linear part; `None` for another.
/// No calls: the caller's common case stays free of a stack frame.
///
/// # Safety
///
/// As for [`tcp_segment_info`].
#[inline(always)]
unsafe fn tcp_segment_info_linear(
    skb: NonNull<bindings::sk_buff>,
    protoff: c_uint,
) -> Option<TcpSegmentInfo> {
    // SAFETY: `skb` is valid and nothing writes to it during the call
    // (caller), in which the header is read.
    let th = unsafe { linear_bytes(skb, protoff as usize, TCP_HLEN) };
    // SAFETY: as for this function.
    unsafe { segment_info(skb, protoff, th) }
}

/// Length of the TCP header without options, bytes: it holds the fields
/// [`segment_info`] reads.
const TCP_HLEN: usize = 20;

/// The [`TcpSegmentInfo`] of `skb` from `th`, the first [`TCP_HLEN`] bytes
/// of its TCP header (at `protoff`), or `None` if they could not be read.
///
/// # Safety
///
/// `skb` must be valid.
#[inline(always)]
unsafe fn segment_info(
    skb: NonNull<bindings::sk_buff>,
    protoff: c_uint,
    th: Option<&[u8]>,
) -> Option<TcpSegmentInfo> {
    let th: &[u8; TCP_HLEN] = th?.try_into().ok()?;
    // `struct tcphdr`: `seq` at byte 4 (network order), `doff` (the
    // header's length in 32-bit words) in the high nibble of byte 12.
    let seq = u32::from_be_bytes([th[4], th[5], th[6], th[7]]);
    let data_off = protoff as usize + usize::from(th[12] >> 4) * 4;
    // SAFETY: `skb` is valid (caller).
    let skb_len = unsafe { (*skb.as_ptr()).len } as usize;
    Some(TcpSegmentInfo {
        seq,
        len: skb_len.saturating_sub(data_off),
    })
}

/// Callback of the helper (`nf_conntrack_helper.help`).
///
/// # Safety
///
/// Called by conntrack with a valid packet, its connection, which has this
/// helper attached, the offset of the transport header and the packet's
/// conntrack info, under `rcu_read_lock()`.
unsafe extern "C" fn help_callback<H: Helper>(
    skb: *mut bindings::sk_buff,
    protoff: c_uint,
    ct: *mut bindings::nf_conn,
    ctinfo: bindings::ip_conntrack_info,
) -> c_int {
    // SAFETY: the callers of a helper (`nf_confirm()`; `nf_ct_helper()`
    // for Open vSwitch and tc `act_ct`) pass the packet and its
    // connection, both already dereferenced: neither is null.
    let (skb, ct) = unsafe { (NonNull::new_unchecked(skb), NonNull::new_unchecked(ct)) };
    let Some(ctinfo) = ConntrackInfo::from_raw(ctinfo) else {
        return Verdict::Drop.to_raw();
    };
    let (seq, len) = match H::PACKETS {
        Packets::All => {
            // An ICMP error related to the connection is not of its
            // protocol: accepted, as `nf_conntrack_ftp` accepts it.
            let related = matches!(ctinfo, ConntrackInfo::Related);
            // SAFETY: conntrack passes a valid packet and its connection.
            if related && !unsafe { bindings::rnm_nf_ct_skb_is_own_l4(skb.as_ptr(), ct.as_ptr()) } {
                return Verdict::Accept.to_raw();
            }
            (0, 0)
        }
        Packets::EstablishedTcpPayload => {
            if !ctinfo.is_established() {
                return Verdict::Accept.to_raw();
            }
            // SAFETY: conntrack passes a valid packet whose transport
            // header, TCP (`register` checked the helper's protocol),
            // starts at `protoff`, and does not touch it during the call.
            match unsafe { tcp_segment_info_linear(skb, protoff) } {
                Some(info) if info.len == 0 => return Verdict::Accept.to_raw(),
                Some(info) => (info.seq, info.len),
                // Not in the linear part: `help_packet` reads it.
                None => (0, 0),
            }
        }
    };
    // SAFETY: as for this function; `seq` and `len` are as `help_packet`
    // takes them.
    unsafe { help_packet::<H>(skb, protoff, ct, ctinfo, seq, len) }
}

/// The part of [`help_callback`] for the packets the helper is called for,
/// out of line: the packets [`help_callback`] accepts (most of a TCP
/// connection's, which carry no payload) do not pay for its stack frame,
/// and the call, all of whose arguments are in registers, is a jump.
///
/// # Safety
///
/// As for [`help_callback`].  If `H::PACKETS` is
/// [`Packets::EstablishedTcpPayload`], the packet is of an established
/// connection, and `seq` and `len` are its [`TcpSegmentInfo`], or `len` is
/// 0 if its TCP header is not in its linear part (and then not read yet).
#[inline(never)]
unsafe fn help_packet<H: Helper>(
    skb: NonNull<bindings::sk_buff>,
    protoff: c_uint,
    ct: NonNull<bindings::nf_conn>,
    ctinfo: ConntrackInfo,
    seq: u32,
    len: usize,
) -> c_int {
    let segment = match H::PACKETS {
        Packets::All => None,
        Packets::EstablishedTcpPayload if len > 0 => Some(TcpSegmentInfo { seq, len }),
        Packets::EstablishedTcpPayload => {
            // SAFETY: as in `help_callback`.
            match unsafe { tcp_segment_info(skb, protoff) } {
                Ok(info) if info.len > 0 => Some(info),
                _ => return Verdict::Accept.to_raw(),
            }
        }
    };
    let help = |slot: Option<&mut Slot<H::Data>>| {
        let Some(slot) = slot else {
            return Verdict::Drop.to_raw();
        };
        // INVARIANT: conntrack hands the helper a valid packet of `ct`
        // during the call and does not touch it until the call returns.
        let mut ctx = HelpContext {
            skb,
            protoff,
            // SAFETY: the packet holds a reference on `ct` during the call.
            conn: unsafe { Conn::from_raw(ct) },
            ctinfo,
            segment,
            seq_delta: 0,
        };
        // INVARIANT: the connection's namespace is alive during the call
        // (`Conn`); the `PernetRegistration<H::Net>` is owned by the
        // helper's `Registration`, whose `drop` unregisters the helper and
        // waits for running callbacks (this one) before dropping it.
        let net = HelperNet {
            conn: ctx.conn,
            _t: PhantomData,
        };
        let verdict = H::help(&mut ctx, net, slot.get());
        if ctx.seq_delta != 0 {
            // All rewrites of the packet in one record: conntrack keeps
            // one change of offset per packet and direction
            // (`nf_ct_seqadj_set()` ignores a second one at the same
            // sequence number).
            // SAFETY: the packet and its connection are valid, its TCP
            // header starts at `protoff`, and the rewrites that changed
            // its length checked that the connection has sequence
            // adjustment; `ct->lock`, which this takes, is not held.
            unsafe {
                bindings::rnm_nf_ct_seqadj_tcp(
                    skb.as_ptr(),
                    ct.as_ptr(),
                    ctinfo.to_raw(),
                    protoff,
                    ctx.seq_delta,
                )
            };
        }
        verdict.to_raw()
    };
    // SAFETY: `ct` is valid and has this helper attached (see the
    // function's safety section), so its data is an `H::Data` slot.
    unsafe { with_help_data(ct.as_ptr(), help) }
}

/// Callback for connections restored through ctnetlink
/// (`nf_conntrack_helper.from_nlattr`).
///
/// # Safety
///
/// Called by ctnetlink with a valid connection that has this helper
/// attached.
unsafe extern "C" fn from_nlattr_callback<H: Helper>(
    _attr: *mut bindings::nlattr,
    ct: *mut bindings::nf_conn,
) -> c_int {
    // SAFETY: `ct` is valid and has this helper attached (see the
    // function's safety section), so its data is an `H::Data` slot.
    unsafe {
        with_help_data::<H::Data, _>(ct, |slot| match slot {
            Some(slot) => {
                H::restored(slot.get());
                0
            }
            None => ENOENT.to_errno(),
        })
    }
}

/// A registered conntrack helper; unregistered on drop, which also removes
/// the expectations it created, and then drops the per-namespace state of
/// the helper.
///
/// # Invariants
///
/// `helper` is the helper registered by `nf_conntrack_helper_register`,
/// with callbacks for `H`, and has not been unregistered; `net` is the
/// registration of `H::Net`, dropped only after `helper` is unregistered.
pub struct Registration<H: Helper> {
    helper: NonNull<bindings::nf_conntrack_helper>,
    _net: PernetRegistration<H::Net>,
    _h: PhantomData<H>,
}

impl<H: Helper> Registration<H> {
    /// Registers `H` as the conntrack helper `name` (1 to 15 bytes) for
    /// `family` and `l4proto`, with the expectation policy `policy` for its
    /// one class of expectations, belonging to `module`, and takes `net`,
    /// the per-namespace state its callbacks read
    /// (`nf_conntrack_helper_register()`).
    ///
    /// `policy` applies to every expectation of the helper's connections
    /// that is registered without a policy of its own: those created
    /// through ctnetlink, and those of [`Expectation::related`] with
    /// `None`; its `max_expected` is also the ceiling of the per-expectation
    /// policies.
    ///
    /// Process context.  Fails with `EBUSY` if a helper of that name is
    /// already registered for the same protocols, `EINVAL` if the name is
    /// empty or too long or if `H` selects [`Packets::EstablishedTcpPayload`]
    /// and `l4proto` is not TCP, `ENOMEM`; `net` is dropped on failure.
    ///
    /// [`Expectation::related`]: super::expect::Expectation::related
    #[inline]
    pub fn register(
        name: &CStr,
        family: Family,
        l4proto: L4Proto,
        policy: Policy,
        net: PernetRegistration<H::Net>,
        module: &'static ThisModule,
    ) -> Result<Self> {
        #[allow(clippy::let_unit_value)]
        let () = Slot::<H::Data>::FITS;
        if name.to_bytes().is_empty()
            || name.to_bytes().len() >= bindings::NF_CT_HELPER_NAME_LEN as usize
        {
            return Err(EINVAL);
        }
        if H::PACKETS == Packets::EstablishedTcpPayload && l4proto != L4Proto::Tcp {
            return Err(EINVAL);
        }

        let raw_policy = policy.to_raw();
        let mut template = MaybeUninit::<bindings::nf_conntrack_helper>::zeroed();
        // SAFETY: `template` is writable; `name` is a NUL-terminated string
        // (copied); `raw_policy` holds `expect_class_max + 1` = 1 policy
        // (copied); the callbacks match the C prototypes; `module` is this
        // module.
        unsafe {
            bindings::nf_ct_helper_init(
                template.as_mut_ptr(),
                family.to_raw(),
                l4proto.to_raw().into(),
                name.as_char_ptr().cast(),
                &raw_policy,
                0,
                Some(help_callback::<H>),
                Some(from_nlattr_callback::<H>),
                module.as_ptr().cast(),
            )
        };
        let mut helper: *mut bindings::nf_conntrack_helper = ptr::null_mut();
        // SAFETY: `template` was initialised by `nf_ct_helper_init`; the
        // kernel copies it and registers the copy, which it returns.
        to_result(unsafe {
            bindings::nf_conntrack_helper_register(template.as_mut_ptr(), &mut helper)
        })?;
        let helper = NonNull::new(helper).ok_or(ENOMEM)?;
        // INVARIANT: registered just above, with `H`'s callbacks; `net`
        // is dropped after `drop` has unregistered it (fields are dropped
        // after `Drop::drop`).
        Ok(Self {
            helper,
            _net: net,
            _h: PhantomData,
        })
    }
}

impl<H: Helper> Registration<H> {
    /// The registered helper (valid while `self` is: type invariant).
    #[inline]
    pub(super) fn as_ptr(&self) -> *const bindings::nf_conntrack_helper {
        self.helper.as_ptr()
    }
}

impl<H: Helper> Drop for Registration<H> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: by the type invariant `helper` is registered.  This
        // unhooks the callbacks, waits for running ones (synchronize_rcu)
        // and removes the helper's expectations; connections still holding
        // the helper keep the (refcounted) structure, not our callbacks.
        unsafe { bindings::nf_conntrack_helper_unregister(self.helper.as_ptr()) };
    }
}

// SAFETY: the registration owns the registered helper, used only once, by
// `drop`: `nf_conntrack_helper_unregister()` may be called from any thread
// in process context (which the drop of a module's data has); and it owns
// a `PernetRegistration`, which is `Send`.
unsafe impl<H: Helper> Send for Registration<H> {}
// SAFETY: `&Registration` gives access to nothing (no method takes
// `&self`).
unsafe impl<H: Helper> Sync for Registration<H> {}
