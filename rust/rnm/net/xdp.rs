// SPDX-License-Identifier: GPL-2.0

//! Native XDP: the program attached to a device, run in its NAPI poll.
//!
//! C header: [`include/net/xdp.h`](srctree/include/net/xdp.h),
//! [`include/linux/filter.h`](srctree/include/linux/filter.h)
//!
//! A driver opts in with [`DeviceOps::XDP`](super::device::DeviceOps::XDP):
//! the abstraction then handles `ndo_bpf` itself (it holds the program,
//! swaps it under RTNL and puts the old one, whose memory the BPF core
//! frees only after an RCU grace period, so that a poll still running it is
//! safe), refuses a program while the MTU is above what it takes
//! ([`max_mtu`], or [`max_mtu_frags`] for a program with frags) and such an
//! MTU while a program is attached, and advertises the device's XDP
//! features.  In its poll the driver hands each frame to
//! [`PollContext::run_xdp`](super::napi::PollContext::run_xdp), which runs
//! the program and carries out the verdict; what is left to the driver is
//! an [`XdpAction::Tx`] frame, which it transmits (or drops).  Frames
//! redirected to the device arrive through
//! [`DeviceOps::xdp_xmit`](super::device::DeviceOps::xdp_xmit).
//!
//! Each NAPI context has its XDP receive queue (`xdp_rxq_info`), registered
//! while the context exists, with a page pool of its own as its memory
//! model (`MEM_TYPE_PAGE_POOL`).  The program sees a copy of each frame in
//! an order-0 page of that pool, with `XDP_PACKET_HEADROOM` (256 bytes) in
//! front of it; the page goes back to the pool wherever the frame ends.  A
//! program with frags (multi-buffer XDP: section `xdp.frags`, loaded with
//! `BPF_F_XDP_HAS_FRAGS`) gets the part of a longer frame that does not fit
//! there in more pages of the pool, one per frag
//! (`NETDEV_XDP_ACT_RX_SG`); `bpf_xdp_adjust_tail` may grow the last one to
//! the end of its page.
//!
//! A program bound to the device (`BPF_F_XDP_DEV_BOUND_ONLY`) may read the
//! frame's receive metadata with the XDP metadata kfuncs, which the
//! abstraction implements for every device with XDP (`xdp_metadata_ops`):
//! `bpf_xdp_metadata_rx_hash()` gives the frame's flow hash as the kernel
//! has it (`skb_get_hash()`: the sending socket's, else computed from the
//! headers; as veth gives it); `bpf_xdp_metadata_rx_vlan_tag()` the VLAN
//! tag the receive VLAN offload took out of the frame, with its protocol
//! (`-ENODATA` if none: see [`Device::forward`]); the timestamp kfunc
//! returns `-EOPNOTSUPP` (no hardware clock).  A tag out of band is not in
//! the program's buffer: it goes back on the frame with `XDP_PASS`, and is
//! lost with `XDP_TX` and `XDP_REDIRECT`, as on a NIC that strips tags.
//!
//! [`Device::forward`]: crate::rnm::net::device::Device::forward

use crate::rnm::{bindings, net::napi::GroResult};
use core::{
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, Ordering},
};

/// The largest MTU, in bytes, of a device with an XDP program without
/// frags attached: the frames, with their Ethernet header and a VLAN tag,
/// must fit in a page beside the XDP headroom and an `sk_buff`'s shared
/// info (3502 with 4 KiB pages).  Any context.
pub fn max_mtu() -> u32 {
    // SAFETY: a constant computed by the C side; no preconditions.
    unsafe { bindings::rnm_xdp_max_mtu() }
}

/// The largest MTU, in bytes, of a device with an XDP program with frags
/// attached (multi-buffer XDP): the part of a frame beyond one page goes
/// into up to `MAX_SKB_FRAGS` more pages, so any MTU up to `ETH_MAX_MTU`
/// (65535).  Any context.
pub fn max_mtu_frags() -> u32 {
    // SAFETY: a constant computed by the C side; no preconditions.
    unsafe { bindings::rnm_xdp_max_mtu_frags() }
}

/// What an XDP program decided for a frame, and what became of it
/// ([`PollContext::run_xdp`](super::napi::PollContext::run_xdp)).
pub enum XdpAction {
    /// `XDP_PASS`: handed to the stack through GRO, as the program left
    /// it.
    Pass(GroResult),
    /// No program was attached (it was detached since the driver looked):
    /// handed to the stack through GRO, as
    /// [`PollContext::gro_receive`](super::napi::PollContext::gro_receive)
    /// does.
    NotRun(GroResult),
    /// `XDP_DROP`: freed.
    Drop,
    /// `XDP_ABORTED` (or a verdict the kernel does not know, warned about):
    /// freed, and traced (`xdp:xdp_exception`).
    Aborted,
    /// `XDP_TX`: the frame, for the driver to transmit out of the device
    /// it was received on (or to drop, which frees it).
    Tx(XdpFrame),
    /// `XDP_REDIRECT`: handed to the redirect target, which gets it when
    /// the poll ends (`xdp_do_flush`, done by the abstraction).
    Redirect,
    /// The verdict could not be carried out, or the program could not
    /// run: frame longer than one page takes (3520 bytes with 4 KiB
    /// pages, [`max_mtu`] and 18 bytes of headers) for a program without
    /// frags, or still a GSO aggregate, no memory, redirect failed.
    /// Freed.
    Error,
}

/// A frame in XDP's format (`struct xdp_frame`), owned: from an
/// [`XdpAction::Tx`] verdict or redirected to the device
/// ([`XdpFrames`]).  Dropping it returns its memory (`xdp_return_frame`).
///
/// Neither `Send` nor `Sync`: a frame stays in the bottom-half callback
/// that got it (the NAPI poll, `ndo_xdp_xmit`).  Its memory may be a page
/// pool's, whose return takes the pool's lock in a way that is valid with
/// bottom halves disabled only (`page_pool_producer_lock`): not in hard
/// interrupt context, where a frame kept in a driver's data could
/// otherwise be dropped.
///
/// # Invariants
///
/// `ptr` points to a valid `xdp_frame` that this value owns: nothing else
/// transmits or returns it.
pub struct XdpFrame {
    ptr: NonNull<bindings::xdp_frame>,
}

impl XdpFrame {
    /// Takes ownership of `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `xdp_frame` whose ownership the caller
    /// gives up.
    pub(in crate::rnm) unsafe fn from_raw(ptr: *mut bindings::xdp_frame) -> Option<Self> {
        // INVARIANT: by the safety requirements.
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }

    /// The raw frame, owned by `self`.
    pub(in crate::rnm) fn as_raw(&self) -> *mut bindings::xdp_frame {
        self.ptr.as_ptr()
    }

    /// Gives up ownership, returning the raw pointer.
    pub(in crate::rnm) fn into_raw(self) -> *mut bindings::xdp_frame {
        core::mem::ManuallyDrop::new(self).ptr.as_ptr()
    }

    /// Length of the frame in bytes, from its Ethernet header, its frags
    /// included (`xdp_get_frame_len`).
    pub fn len(&self) -> u32 {
        // SAFETY: `ptr` is valid by the type invariant.
        unsafe { bindings::rnm_xdp_frame_len(self.ptr.as_ptr()) }
    }

    /// Whether the frame has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for XdpFrame {
    fn drop(&mut self) {
        // SAFETY: we own the frame by the type invariant; the frame never
        // left the bottom-half callback that got it (it is not `Send`).
        unsafe { bindings::xdp_return_frame(self.ptr.as_ptr()) };
    }
}

/// The frames of one `ndo_xdp_xmit` call, redirected to the device
/// ([`DeviceOps::xdp_xmit`](super::device::DeviceOps::xdp_xmit)), in
/// order.  Iterating takes them one by one: a frame taken is the driver's
/// (transmitted, or dropped and so returned), the ones never taken go back
/// to the core, which frees them.  Borrowed for the call only.
///
/// # Invariants
///
/// `frames[next..]` are valid `xdp_frame` pointers owned by the core until
/// taken; `frames[..next]` were handed out.
pub struct XdpFrames<'a> {
    frames: &'a [*mut bindings::xdp_frame],
    next: usize,
}

// The abstractions are compiled into the crate of the module that uses
// them, where the orphan rule does not keep that module from implementing
// `Drop` or `Copy` for their types: this (empty) implementation rules out
// both (E0119, E0184).  The adapter reads how many frames were taken before the value is
// dropped; a copy would hand out the same frames again.
impl Drop for XdpFrames<'_> {
    #[inline(always)]
    fn drop(&mut self) {}
}

impl<'a> XdpFrames<'a> {
    /// # Safety
    ///
    /// `frames` must be the array of valid frames `ndo_xdp_xmit` got,
    /// whose ownership passes to the driver as they are taken.
    pub(in crate::rnm) unsafe fn new(frames: &'a [*mut bindings::xdp_frame]) -> Self {
        // INVARIANT: none handed out yet.
        Self { frames, next: 0 }
    }

    /// How many frames were taken.
    pub(in crate::rnm) fn taken(&self) -> usize {
        self.next
    }
}

impl Iterator for XdpFrames<'_> {
    type Item = XdpFrame;

    fn next(&mut self) -> Option<XdpFrame> {
        let p = *self.frames.get(self.next)?;
        self.next += 1;
        // SAFETY: by the type invariant the frame at the old `next` is valid
        // and not handed out; it is handed out now, once.
        unsafe { XdpFrame::from_raw(p) }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.frames.len() - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for XdpFrames<'_> {}

/// The XDP program of a device, read by its NAPI polls.
///
/// # Invariants
///
/// `prog` is null or a `bpf_prog` of which the slot owns one reference;
/// it is replaced only under RTNL (or with exclusive access), and a
/// program replaced is put only after it was unpublished, so that readers
/// in an RCU read-side section (a poll, with bottom halves disabled) see a
/// program whose memory lasts until they leave it.
pub(in crate::rnm) struct ProgSlot {
    prog: AtomicPtr<bindings::bpf_prog>,
}

impl ProgSlot {
    pub(in crate::rnm) const fn new() -> Self {
        Self {
            prog: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The program, for use within the current RCU read-side section.
    pub(in crate::rnm) fn get(&self) -> *mut bindings::bpf_prog {
        // Pairs with the release store of `replace` (`rcu_dereference`).
        self.prog.load(Ordering::Acquire)
    }

    /// Whether a program is attached.
    pub(in crate::rnm) fn is_attached(&self) -> bool {
        !self.get().is_null()
    }

    /// The largest MTU the attached program takes, in bytes ([`max_mtu`],
    /// or [`max_mtu_frags`] for a program with frags); `None` without a
    /// program.
    ///
    /// # Safety
    ///
    /// RTNL held, so that the program is not replaced and put meanwhile.
    pub(in crate::rnm) unsafe fn max_mtu(&self) -> Option<u32> {
        let prog = self.get();
        // SAFETY: a program in the slot holds the slot's reference (type
        // invariant), which only `replace`, under RTNL, puts: the caller
        // holds RTNL.
        (!prog.is_null()).then(|| unsafe { bindings::rnm_xdp_prog_max_mtu(prog) })
    }

    /// Publishes `prog` (null to detach) and puts the program it replaces.
    ///
    /// # Safety
    ///
    /// RTNL held, or exclusive access; `prog` is null or a program whose
    /// reference the slot takes over.
    pub(in crate::rnm) unsafe fn replace(&self, prog: *mut bindings::bpf_prog) {
        // `rcu_assign_pointer`.
        let old = self.prog.swap(prog, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: the slot owned this reference (type invariant); it is
            // unpublished above, and the BPF core frees the program only
            // after an RCU grace period (`__bpf_prog_put_noref`), so a poll
            // that read it before the swap may finish running it.
            unsafe { bindings::bpf_prog_put(old) };
        }
    }
}

impl Drop for ProgSlot {
    fn drop(&mut self) {
        // SAFETY: exclusive access; the reference, if any, is ours.
        unsafe { self.replace(ptr::null_mut()) };
    }
}
