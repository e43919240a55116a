// SPDX-License-Identifier: GPL-2.0

//! Socket buffers.
//!
//! C header: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h)

use crate::rnm::{
    bh::BhContext,
    bindings,
    net::{device::Device, xdp::XdpFrame},
};
use core::{
    mem::{ManuallyDrop, MaybeUninit},
    ptr::NonNull,
};
use kernel::ffi::c_int;

/// Returns the `len` bytes of the packet `skb` from `offset` (bytes from
/// `skb->data`) in place if they are all in its linear part
/// (`skb_headlen()`), else `None`.  Makes no calls (a caller on a hot path
/// stays free of a stack frame).  Any context.
///
/// # Safety
///
/// `skb` must point to a valid `sk_buff` whose data and length nothing
/// changes for `'b`.
#[inline(always)]
pub(in crate::rnm) unsafe fn linear_bytes<'b>(
    skb: NonNull<bindings::sk_buff>,
    offset: usize,
    len: usize,
) -> Option<&'b [u8]> {
    let p = skb.as_ptr();
    // SAFETY: `skb` is valid (caller).
    let (skb_len, data_len, data) = unsafe { ((*p).len, (*p).data_len, (*p).data) };
    // SAFETY: `skb->data` of a valid `sk_buff` points into its allocated
    // head: it is not null.  Said, so that callers test no null pointer for
    // the `Option`.
    unsafe { core::hint::assert_unchecked(!data.is_null()) };
    // `skb_headlen()`: `data_len` of the `len` bytes are in fragments.
    if offset.checked_add(len)? > skb_len.saturating_sub(data_len) as usize {
        return None;
    }
    // SAFETY: `skb->data` points to `skb_headlen()` readable bytes, of which
    // these are a part; they do not change for `'b` (caller).
    Some(unsafe { core::slice::from_raw_parts(data.add(offset), len) })
}

/// Returns `len` bytes of the packet `skb` from `offset` (bytes from
/// `skb->data`) without making it linear (`skb_header_pointer()`): in
/// place if they are in its linear part or, whole, in one of its page
/// fragments that nothing else may write (not one shared with user space
/// or the page cache, `SKBFL_SHARED_FRAG`; not on kernels with highmem),
/// else copied from its fragments into the start of `buf`
/// (`skb_copy_bits()`), which need not be initialised: what is returned is.
///
/// Returns `None` if the packet is shorter than `offset + len` bytes, or
/// if the bytes must be copied and `buf` is shorter than `len`.  Any
/// context (it does not sleep).
///
/// # Safety
///
/// `skb` must point to a valid `sk_buff` whose data and length nothing
/// changes for `'b`.
#[inline]
pub(in crate::rnm) unsafe fn header_pointer<'b>(
    skb: NonNull<bindings::sk_buff>,
    offset: usize,
    len: usize,
    buf: &'b mut [MaybeUninit<u8>],
) -> Option<&'b [u8]> {
    // SAFETY: `skb` is valid and its data does not change for `'b`
    // (caller).
    if let Some(bytes) = unsafe { linear_bytes(skb, offset, len) } {
        return Some(bytes);
    }
    let p = skb.as_ptr();
    // SAFETY: `skb` is valid (caller).
    let skb_len = unsafe { (*p).len };
    if offset.checked_add(len)? > skb_len as usize {
        return None;
    }
    // `offset + len` is at most `skb->len`, a `u32`: the casts keep the
    // values.
    // SAFETY: `skb` is valid (caller); the call only reads its fragment
    // table.
    let frag = unsafe { bindings::rnm_skb_frag_pointer(p, offset as u32, len as u32) };
    if !frag.is_null() {
        // The fragment's page is referenced by the packet, which nothing
        // changes for `'b` (caller), and its bytes are not shared with
        // user space or the page cache: nothing writes them meanwhile.  It
        // is in the direct map (no highmem): its address stays valid.
        // SAFETY: `frag` points to `len` readable bytes in one fragment, as above.
        return Some(unsafe { core::slice::from_raw_parts(frag, len) });
    }
    let buf = buf.get_mut(..len)?;
    let (offset, len) = (c_int::try_from(offset).ok()?, c_int::try_from(len).ok()?);
    // SAFETY: `skb` is valid (caller); `buf` holds the `len` bytes the
    // call writes at most.
    if unsafe { bindings::skb_copy_bits(p, offset, buf.as_mut_ptr().cast(), len) } < 0 {
        return None;
    }
    // SAFETY: `skb_copy_bits()` succeeded: it wrote all `len` bytes of
    // `buf`, which stays borrowed for `'b`.
    Some(unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), buf.len()) })
}

/// An owned socket buffer (`struct sk_buff`).
///
/// Dropping it frees the buffer (`dev_kfree_skb_any`, valid in any
/// context).  Handing it on (to the stack through
/// [`PollContext::gro_receive`](super::napi::PollContext::gro_receive), to
/// another device through [`Device::forward`](super::device::Device::forward))
/// consumes it.  Frames handed to GRO are first prepared for it
/// (`skb_prepare_for_gro`): GRO never merges frames that belong to
/// different sockets.
///
/// # Examples
///
/// ```
/// use crate::rnm::net::skb::SkBuff;
///
/// /// Whether `skb` is an IPv4 frame (`ETH_P_IP`) of at least 60 bytes.
/// fn is_big_ipv4(skb: &SkBuff) -> bool {
///     skb.protocol() == 0x0800 && skb.len() >= 60
/// }
/// # Ok::<(), Error>(())
/// ```
///
/// # Invariants
///
/// `ptr` points to a valid `sk_buff` and the `SkBuff` owns one reference
/// to it: nothing else frees it while the `SkBuff` lives.
pub struct SkBuff {
    ptr: NonNull<bindings::sk_buff>,
}

// SAFETY: `SkBuff` owns its buffer (type invariant), and the kernel lets
// the owner of an `sk_buff` hand it on or free it on any CPU and in any
// context (`dev_kfree_skb_any`): what it refers to (socket, route, pages)
// is reference counted, not tied to the thread that allocated it.  The
// device in `skb->dev` is not: a buffer may outlive it.  Freeing never
// reads it, and nothing in `rnm` reads it without first setting it to a
// device the caller proves alive (`Device::forward`, `gso_segment`, the
// receive functions of `PollContext`), except `tx_timestamp`, private to
// `rnm`, which the transmit adapter calls on the frame the core has just
// handed to the live device it names.
unsafe impl Send for SkBuff {}
// SAFETY: every method taking `&self` only reads the buffer (its length,
// protocol, queue mapping, linear data); changes need `&mut self` or
// ownership.  Data shared with clones is read-only to every holder.
unsafe impl Sync for SkBuff {}

impl SkBuff {
    /// Takes ownership of `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `sk_buff` whose reference the caller
    /// gives up.
    pub(in crate::rnm) unsafe fn from_raw(ptr: *mut bindings::sk_buff) -> Option<Self> {
        // INVARIANT: by the safety requirements.
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }

    /// Takes the software transmit timestamp of a frame the device has
    /// taken for transmission, for a socket that asked for one
    /// (`SOF_TIMESTAMPING_TX_SOFTWARE`): a clone of the frame (which then
    /// shares its data, read-only), or an empty buffer with
    /// `SOF_TIMESTAMPING_OPT_TSONLY`, goes to the socket's error queue, and
    /// a BPF program that asked for the event runs.  Also offers it to a PHY
    /// that timestamps (none on these devices).  Any context but hard
    /// interrupt with interrupts disabled (allocates with `GFP_ATOMIC`).
    ///
    /// Wraps `skb_tx_timestamp()` (srctree/include/linux/skbuff.h).
    #[inline]
    pub(in crate::rnm) fn tx_timestamp(&mut self) {
        // SAFETY: `self.ptr` is a valid buffer we own (type invariant).  A
        // clone it queues shares the data, which every holder of a clone
        // only reads (see `Sync`); our buffer stays ours.
        unsafe { bindings::rnm_skb_tx_timestamp(self.ptr.as_ptr()) }
    }

    /// Gives up ownership, returning the raw pointer.
    pub(in crate::rnm) fn into_raw(self) -> *mut bindings::sk_buff {
        ManuallyDrop::new(self).ptr.as_ptr()
    }

    /// Length of the frame in bytes, linear part and fragments
    /// (`skb->len`), from the current data pointer.  Any context.
    #[inline]
    pub fn len(&self) -> u32 {
        // SAFETY: `ptr` is valid by the type invariant.
        unsafe { (*self.ptr.as_ptr()).len }
    }

    /// Whether the frame has no bytes (`skb->len == 0`).  Any context.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The linear part of the frame, from the current data pointer
    /// (`skb->data`, `skb_headlen()` bytes; the rest, if any, is in
    /// fragments).  Any context.
    pub fn data(&self) -> &[u8] {
        let p = self.ptr.as_ptr();
        // SAFETY: `ptr` is valid by the type invariant; `skb->data` points
        // to `skb_headlen()` (`len - data_len`) readable bytes, which live
        // as long as the buffer and are not written while `&self` is
        // borrowed (the `SkBuff` owns the buffer).
        unsafe {
            let headlen = (*p).len - (*p).data_len;
            core::slice::from_raw_parts((*p).data, headlen as usize)
        }
    }

    /// The frame's protocol (`skb->protocol`, an `ETH_P_*` value such as
    /// `0x0800` for IPv4), in host byte order.  Any context.
    pub fn protocol(&self) -> u16 {
        // SAFETY: `ptr` is valid by the type invariant.
        unsafe { bindings::rnm_skb_protocol(self.ptr.as_ptr()) }
    }

    /// The transmit queue the stack chose for the frame
    /// (`skb_get_queue_mapping`), below the device's transmit queue count
    /// in `ndo_start_xmit`.  Any context.
    #[inline]
    pub fn queue_mapping(&self) -> u16 {
        // SAFETY: `ptr` is valid by the type invariant.
        unsafe { (*self.ptr.as_ptr()).queue_mapping }
    }

    /// Whether the frame is a GSO aggregate (`skb_is_gso`): several
    /// segments' worth of payload that the stack or a device is to cut into
    /// frames of at most the MTU.  Any context.
    pub fn is_gso(&self) -> bool {
        // SAFETY: `ptr` is valid by the type invariant.
        unsafe { bindings::rnm_skb_is_gso(self.ptr.as_ptr()) }
    }

    /// Cuts a GSO aggregate into the frames the wire would carry
    /// (`skb_gso_segment` with every offload off: checksums are computed),
    /// consuming it; a frame that needs no cutting comes back alone.  The
    /// frames are `dev`'s (`skb->dev`), the device that transmits them.
    /// Bottom halves disabled (`_bh`), as on the transmit path.
    ///
    /// Returns `None` if segmenting failed (the frame is freed then).
    ///
    /// C: `skb_gso_segment` in
    /// [`include/net/gso.h`](srctree/include/net/gso.h).
    pub fn gso_segment(self, dev: &Device, _bh: &BhContext) -> Option<SkBuffList> {
        // SAFETY: the buffer is ours and `dev` valid while borrowed; the
        // callee sets `skb->dev` to `dev` (the old one may be stale) and
        // consumes the buffer, with bottom halves disabled (the proof).
        let segs = unsafe { bindings::rnm_skb_gso_segment(self.into_raw(), dev.as_raw()) };
        // INVARIANT: the segments are new buffers linked from `segs`, ours.
        NonNull::new(segs).map(|_| SkBuffList { head: segs })
    }

    /// Builds the buffer of a frame in XDP's format (`xdp_build_skb_from_frame`)
    /// for reception on `dev`: the frame's memory becomes the buffer's, the
    /// protocol and `skb->dev` are set (`eth_type_trans`).  Any context.
    ///
    /// Errors: the frame back if there is no memory for the buffer.
    pub fn from_xdp_frame(frame: XdpFrame, dev: &Device) -> Result<Self, XdpFrame> {
        // SAFETY: the frame is valid and ours; `dev` is valid while
        // borrowed.  On success the frame's memory passes to the new
        // buffer; on failure nothing was taken from the frame.
        let skb = unsafe { bindings::rnm_xdp_build_skb_from_frame(frame.as_raw(), dev.as_raw()) };
        // SAFETY: a new buffer, ours.
        match unsafe { Self::from_raw(skb) } {
            Some(skb) => {
                // Its memory is the buffer's now.
                let _ = frame.into_raw();
                Ok(skb)
            }
            None => Err(frame),
        }
    }

    /// Records the receive queue the frame arrived on
    /// (`skb_record_rx_queue`, read back by RPS and `skb_get_rx_queue`).
    /// Any context.
    #[inline]
    pub fn record_rx_queue(&mut self, queue: u16) {
        // SAFETY: `ptr` is valid and exclusively owned by the type
        // invariant and `&mut self`.  As `skb_record_rx_queue()`, which
        // stores the queue plus one (0: not recorded), in 16 bits.
        unsafe { (*self.ptr.as_ptr()).queue_mapping = queue.wrapping_add(1) };
    }
}

/// A list of owned socket buffers (linked through `skb->next`), as
/// [`SkBuff::gso_segment`] returns it; iterating takes them off in order,
/// dropping the list frees the ones left (one by one, as dropping an
/// [`SkBuff`] does: in any context).
///
/// # Invariants
///
/// `head` is null or the first of a list of valid buffers, each owned by
/// the list.
pub struct SkBuffList {
    head: *mut bindings::sk_buff,
}

// SAFETY: the list owns its buffers, which may be handed on or freed on
// any CPU (see `SkBuff`).
unsafe impl Send for SkBuffList {}

impl Iterator for SkBuffList {
    type Item = SkBuff;

    // Inline, as `SkBuff::drop`: emitted only in modules that use it.
    #[inline]
    fn next(&mut self) -> Option<SkBuff> {
        // SAFETY: `head` is null or a list of buffers we own (type
        // invariant); the first is unlinked and its ownership handed out.
        unsafe { SkBuff::from_raw(bindings::rnm_skb_list_pop(&mut self.head)) }
    }
}

impl Drop for SkBuffList {
    #[inline]
    fn drop(&mut self) {
        for skb in self.by_ref() {
            drop(skb);
        }
    }
}

impl Drop for SkBuff {
    // Inline: emitted only in modules that use the type, so that others
    // need not link the helper.
    #[inline]
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own a reference to a valid
        // buffer; `dev_kfree_skb_any` may be called in any context.
        unsafe { bindings::rnm_dev_kfree_skb_any(self.ptr.as_ptr()) };
    }
}
