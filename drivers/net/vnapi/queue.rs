// SPDX-License-Identifier: GPL-2.0

//! One receive queue: the rx ring, its coalesced interrupt, and the NAPI
//! poll that empties it.
//!
//! Locking: the ring and its coalescing state (`pending`) sit under one
//! [`SpinLockBh`].  The data path (peer transmit, poll) runs with bottom
//! halves disabled and locks it with that proof; process context (resizing
//! the ring) locks it disabling them.  The interrupt handler, which may run in hard
//! interrupt context (the coalescing timer, an IPI), never takes it.
//! Unmasking the interrupt and checking the ring happen under that lock, so
//! a frame that arrives while the poll completes is never left without an
//! interrupt: after `napi_complete_done` (`Poller::completed`), or, for a
//! poll that takes a lone frame and leaves the ring empty, in that same
//! lock hold (`PollContext::complete_reopened`).

#![forbid(unsafe_code)]

use crate::config::{Config, LiveFrames};
use crate::logic::{coalesce, slot, Irq};
use crate::port::{self, Port};
use crate::rnm::{
    bh::{BhContext, IrqContext, SpinLockBh},
    net::{
        device::TxQueue,
        napi::{GroResult, Napi, Poll, PollContext, Poller},
        skb::SkBuff,
        xdp::{XdpAction, XdpFrame},
    },
    rcu::RcuArc,
};
// Counters and settings are updated or read for every frame: `core`'s
// atomics compile to single instructions, where each operation of the
// kernel crate's `Atomic` is a call to a C helper in a module built outside
// the kernel tree.  Only relaxed operations (and, for the channel count,
// acquire/release), on which the Rust and kernel memory models agree.
use core::{
    mem::ManuallyDrop,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
};
use kernel::{prelude::*, sync::Arc};

/// Length of the Ethernet header, which `eth_type_trans` pulls.
const ETH_HLEN: u64 = 14;

/// Frames taken from the ring per lock hold in a poll.
const POLL_BATCH: usize = 16;

/// The frames a poll takes from the ring in one lock hold, at most
/// [`POLL_BATCH`], in order.
///
/// Only the first `len` slots are ever filled, and only they are looked at
/// when it is dropped: the drop glue of the whole array would test every
/// slot on every pass of the poll loop, which costs more than the rest of
/// the loop when the poll takes one frame (one datagram per interrupt).
/// The slots from `len` on are always `None`, so not dropping them leaks
/// nothing.
struct Batch {
    slots: ManuallyDrop<[Option<SkBuff>; POLL_BATCH]>,
    len: usize,
}

impl Batch {
    fn new() -> Self {
        Self {
            slots: ManuallyDrop::new([const { None }; POLL_BATCH]),
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Appends frames from `pop` until it has none or the batch holds
    /// `want` (at most [`POLL_BATCH`]).
    fn fill(&mut self, want: usize, mut pop: impl FnMut() -> Option<SkBuff>) {
        for slot in self.slots.iter_mut().take(want).skip(self.len) {
            let Some(skb) = pop() else {
                break;
            };
            *slot = Some(skb);
            self.len += 1;
        }
    }

    /// The slots filled so far; a frame taken out leaves `None`.
    fn frames(&mut self) -> &mut [Option<SkBuff>] {
        &mut self.slots[..self.len]
    }

    /// Takes the frames out, in order.
    fn drain(&mut self) -> impl Iterator<Item = SkBuff> + '_ {
        self.frames().iter_mut().filter_map(Option::take)
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        // Frees the frames nobody took; the slots past `len` are empty.
        for skb in self.frames() {
            drop(skb.take());
        }
    }
}

/// A counter that any context may increment at any time (an atomic add).
pub(crate) struct Counter(AtomicU64);

impl Default for Counter {
    fn default() -> Self {
        Self(AtomicU64::new(0))
    }
}

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// A counter with one writer at a time, which the core serialises: the
/// poll function of one NAPI context, the transmit path of one queue under
/// its transmit lock, or the handler of one interrupt line.  The writer
/// updates it with a plain load and store, cheaper than an atomic add;
/// anyone may read it.  (Were two writers to race after all, a count could
/// be lost, nothing worse.)
pub(crate) struct LocalCounter(AtomicU64);

impl Default for LocalCounter {
    fn default() -> Self {
        Self(AtomicU64::new(0))
    }
}

impl LocalCounter {
    pub(crate) fn add(&self, n: u64) {
        let v = self.0.load(Relaxed);
        self.0.store(v.wrapping_add(n), Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// The counters of one receive queue.
#[derive(Default)]
pub(crate) struct RxStats {
    /// Frames handed to the stack.
    pub(crate) frames: LocalCounter,
    /// Bytes handed to the stack, Ethernet header included.
    pub(crate) bytes: LocalCounter,
    /// Frames dropped: ring full, device down, or not receivable.
    pub(crate) drops: Counter,
    /// Interrupts delivered.  (One handler at a time: the line stays
    /// masked from one delivery until the poll it leads to unmasks it.)
    pub(crate) interrupts: LocalCounter,
    /// Interrupts raised on another CPU and delivered by an IPI to the CPU
    /// the queue's interrupt is steered to.
    pub(crate) remote_interrupts: LocalCounter,
    /// Poll calls.
    pub(crate) polls: LocalCounter,
    /// Polls that used their whole budget (NAPI stayed scheduled).
    pub(crate) exhausted: LocalCounter,
    /// Frames GRO merged into another.
    pub(crate) gro_merged: LocalCounter,
    /// Frames the XDP program passed to the stack (also counted in
    /// `frames`).
    pub(crate) xdp_pass: LocalCounter,
    /// Frames the XDP program dropped.
    pub(crate) xdp_drop: LocalCounter,
    /// Frames the XDP program sent back out (`XDP_TX`), to the peer: also
    /// transmitted by the device (see [`RxStats::xdp_sent`]).
    pub(crate) xdp_tx: LocalCounter,
    /// Bytes of the frames in `xdp_tx`, as sent (the program may have
    /// changed their length), Ethernet header included.
    pub(crate) xdp_tx_bytes: LocalCounter,
    /// Frames the XDP program redirected.
    pub(crate) xdp_redirect: LocalCounter,
    /// Frames the XDP program aborted on (`XDP_ABORTED`, or an unknown
    /// verdict).
    pub(crate) xdp_aborted: LocalCounter,
    /// Frames whose verdict could not be carried out (too long for XDP, no
    /// memory, `XDP_TX` without a peer that is up, redirect failed).
    pub(crate) xdp_errors: LocalCounter,
    /// Bytes of the frames the XDP program consumed (all but those it
    /// passed): not an `ethtool -S` counter of its own, a part of the
    /// bytes received (see [`RxStats::received`]).
    pub(crate) xdp_bytes: LocalCounter,
}

impl RxStats {
    /// The counters' names, in [`RxStats::values`] order.
    pub(crate) const NAMES: [&'static str; 14] = [
        "frames",
        "bytes",
        "drops",
        "interrupts",
        "polls",
        "budget_exhausted",
        "gro_merged",
        "remote_interrupts",
        "xdp_pass",
        "xdp_drop",
        "xdp_tx",
        "xdp_redirect",
        "xdp_aborted",
        "xdp_errors",
    ];

    /// The counters' values.
    pub(crate) fn values(&self) -> [u64; 14] {
        [
            self.frames.get(),
            self.bytes.get(),
            self.drops.get(),
            self.interrupts.get(),
            self.polls.get(),
            self.exhausted.get(),
            self.gro_merged.get(),
            self.remote_interrupts.get(),
            self.xdp_pass.get(),
            self.xdp_drop.get(),
            self.xdp_tx.get(),
            self.xdp_redirect.get(),
            self.xdp_aborted.get(),
            self.xdp_errors.get(),
        ]
    }

    /// The frames received and their bytes, as the interface counters and
    /// the netdev family's `rx-packets` count them: those handed to the
    /// stack, and those the XDP program consumed (it is the first layer of
    /// the stack).
    pub(crate) fn received(&self) -> (u64, u64) {
        let consumed = [
            &self.xdp_drop,
            &self.xdp_tx,
            &self.xdp_redirect,
            &self.xdp_aborted,
            &self.xdp_errors,
        ]
        .iter()
        .map(|c| c.get())
        .fold(0u64, u64::wrapping_add);
        (
            self.frames.get().wrapping_add(consumed),
            self.bytes.get().wrapping_add(self.xdp_bytes.get()),
        )
    }

    /// The frames the XDP program sent back out (`XDP_TX`) and their
    /// bytes: transmitted by the device, as the frames of its transmit
    /// queue of the same index.
    pub(crate) fn xdp_sent(&self) -> (u64, u64) {
        (self.xdp_tx.get(), self.xdp_tx_bytes.get())
    }

    /// Counts `frames` frames of `bytes` bytes in all handed to the stack,
    /// of which GRO merged `merged` into others.
    fn count_received(&self, frames: u64, bytes: u64, merged: u64) {
        self.frames.add(frames);
        self.bytes.add(bytes);
        if merged != 0 {
            self.gro_merged.add(merged);
        }
    }

    /// Counts what became of a frame the XDP program was run on, of
    /// `bytes` bytes as received, with the verdict `action`.  An
    /// `XDP_TX` frame is handed to `send`, which returns its length as
    /// sent (the program may have changed it), or `None` if it could not
    /// be sent: the frame counts once sent (see [`RxStats::xdp_sent`]).
    fn count_xdp(&self, action: XdpAction, bytes: u64, send: impl FnOnce(XdpFrame) -> Option<u64>) {
        let c = match action {
            XdpAction::Pass(r) | XdpAction::NotRun(r) => {
                // Counted with the frames handed to the stack, bytes too.
                self.count_received(1, bytes, u64::from(r == GroResult::Merged));
                if matches!(action, XdpAction::Pass(_)) {
                    self.xdp_pass.add(1);
                }
                return;
            }
            XdpAction::Tx(frame) => match send(frame) {
                Some(len) => {
                    self.xdp_tx_bytes.add(len);
                    &self.xdp_tx
                }
                None => &self.xdp_errors,
            },
            XdpAction::Drop => &self.xdp_drop,
            XdpAction::Redirect => &self.xdp_redirect,
            XdpAction::Aborted => &self.xdp_aborted,
            XdpAction::Error => &self.xdp_errors,
        };
        c.add(1);
        self.xdp_bytes.add(bytes);
    }
}

/// A bounded FIFO of frames.
///
/// `slots` may be longer than `cap` (after the ring shrank below its fill
/// level): frames already in the ring are kept, new ones are refused until
/// the ring is below `cap` again.
pub(crate) struct Ring {
    slots: KVVec<Option<SkBuff>>,
    head: usize,
    len: usize,
    cap: usize,
    /// Frames received since the interrupt was last unmasked.
    pending: u32,
    /// Frames ever appended at the tail, and taken from the head: frame
    /// `popped` is at `head`, frame `pushed - 1` the newest (modulo 2^64).
    pushed: u64,
    popped: u64,
    /// Every frame before this one must go through GRO (see
    /// [`Ring::gro_wanted`]).
    gro_mark: u64,
    /// A transmit queue of the peer was stopped because this ring was
    /// full: the poll that leaves it at most half full wakes the peer's
    /// queues (see [`Ring::take_wake`]).
    tx_stopped: bool,
    /// The module's count of the frames in all rings, which this ring's
    /// frames are part of.
    live: Arc<LiveFrames>,
}

fn empty_slots(n: usize) -> Result<KVVec<Option<SkBuff>>> {
    let mut v = KVVec::with_capacity(n, GFP_KERNEL)?;
    for _ in 0..n {
        v.push(None, GFP_KERNEL)?;
    }
    Ok(v)
}

impl Ring {
    fn new(cap: usize, live: Arc<LiveFrames>) -> Result<Self> {
        Ok(Self {
            slots: empty_slots(cap)?,
            head: 0,
            len: 0,
            cap,
            pending: 0,
            pushed: 0,
            popped: 0,
            gro_mark: 0,
            tx_stopped: false,
            live,
        })
    }

    /// Whether one of the frames taken since frame `first` (the value of
    /// `popped` before they were taken) must go through GRO: a frame not
    /// from the peer's stack, which did not aggregate it (an XDP frame), or
    /// one moved in from another ring.  A frame after them may say yes too.
    fn gro_wanted(&self, first: u64) -> bool {
        self.gro_mark > first
    }

    /// The number of frames taken from the head so far (see
    /// [`Ring::gro_wanted`]).
    fn popped(&self) -> u64 {
        self.popped
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the peer's transmit queues are to be woken now: one was
    /// stopped for want of room here, and the ring is at most half full
    /// (room for a burst, so that a queue is not stopped again with the
    /// next frame).  Clears the mark.
    fn take_wake(&mut self) -> bool {
        let wake = self.tx_stopped && self.len <= self.cap / 2;
        if wake {
            self.tx_stopped = false;
        }
        wake
    }

    /// The index of the slot `i` places after `head` (`i <= slots.len()`).
    fn slot(&self, i: usize) -> usize {
        slot(self.head, i, self.slots.len())
    }

    /// Appends `skb` if the ring is below `cap`; `gro`: it must go through
    /// GRO (see [`Ring::gro_wanted`]).
    fn push(&mut self, skb: SkBuff, gro: bool) -> Result<(), SkBuff> {
        if self.len >= self.cap {
            return Err(skb);
        }
        self.push_over(skb)?;
        if gro {
            self.gro_mark = self.pushed;
        }
        Ok(())
    }

    /// Appends `skb` past `cap` if need be, as long as a slot is free.
    fn push_over(&mut self, skb: SkBuff) -> Result<(), SkBuff> {
        if self.len >= self.slots.len() {
            return Err(skb);
        }
        let i = self.slot(self.len);
        self.slots[i] = Some(skb);
        self.len += 1;
        self.pushed = self.pushed.wrapping_add(1);
        self.live.add(1);
        Ok(())
    }

    /// Takes the oldest frame.
    fn pop(&mut self) -> Option<SkBuff> {
        let skb = self.take_head();
        if skb.is_some() {
            self.live.add(-1);
        }
        skb
    }

    /// Moves frames into `batch` until the ring is empty or the batch
    /// holds `want`, and counts them out of the live frames once.
    fn pop_into(&mut self, batch: &mut Batch, want: usize) {
        let before = batch.len();
        batch.fill(want, || self.take_head());
        self.live.add(-((batch.len() - before) as i64));
    }

    /// Takes the oldest frame, still counted in the live frames.
    fn take_head(&mut self) -> Option<SkBuff> {
        if self.len == 0 {
            return None;
        }
        let skb = self.slots[self.head].take();
        self.head = self.slot(1);
        self.len -= 1;
        self.popped = self.popped.wrapping_add(1);
        skb
    }

    /// Moves the frames into `slots` (at least `front.len() + self.len`
    /// long), in order after those of `front`, which it empties, and makes
    /// `cap` the new limit.
    fn rebuild(&mut self, mut slots: KVVec<Option<SkBuff>>, cap: usize, front: &mut KVVec<SkBuff>) {
        let k = front.len();
        for (slot, skb) in slots.iter_mut().zip(front.drain_all()) {
            *slot = Some(skb);
        }
        self.live.add(k as i64);
        for (i, slot) in slots.iter_mut().skip(k).enumerate().take(self.len) {
            let j = self.slot(i);
            *slot = self.slots[j].take();
        }
        self.slots = slots;
        self.head = 0;
        self.len += k;
        self.cap = cap;
        // The frames moved in come first: number them anew, and let every
        // frame in the ring now go through GRO.
        self.pushed = self.popped.wrapping_add(self.len as u64);
        self.gro_mark = self.pushed;
    }

    /// The most frames the ring can hold until it is rebuilt, under the
    /// resize guard: past its size only if it already is (frames moved in
    /// under the guard); otherwise new frames stop at its size.
    fn bound(&self) -> usize {
        self.cap.max(self.len)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // The frames themselves are freed with `slots`.
        self.live.add(-(self.len as i64));
    }
}

/// The slots of a resized ring, allocated before any ring changes.
pub(crate) struct ResizeSlots {
    slots: KVVec<Option<SkBuff>>,
    cap: usize,
}

/// Room to move the frames of other rings into one ring (see
/// [`RxShared::take_from`]), allocated once those rings are frozen and
/// before any frame moves.
pub(crate) struct MoveRoom {
    /// The receiving ring's new slots: room for its bound and the frames
    /// that move.
    slots: KVVec<Option<SkBuff>>,
    /// The frames on their way: as many as the frozen rings hold.
    frames: KVVec<SkBuff>,
}

/// The ring and counters of one receive queue, shared by its NAPI context
/// (which the net_device owns) and the device's private data (for
/// ethtool and ring resizing).
#[pin_data]
pub(crate) struct RxShared {
    #[pin]
    ring: SpinLockBh<Ring>,
    pub(crate) stats: RxStats,
}

/// One receive queue of a device: the per-queue data of its NAPI context.
pub(crate) struct RxQueue {
    index: u16,
    cfg: Arc<Config>,
    shared: Arc<RxShared>,
    /// The device's peer, where `XDP_TX` sends frames.
    peer: Arc<RcuArc<Port>>,
}

impl core::ops::Deref for RxQueue {
    type Target = RxShared;

    fn deref(&self) -> &RxShared {
        &self.shared
    }
}

impl RxQueue {
    /// Queue `index` of a device with settings `cfg` and peer `peer`, and
    /// its shared part; its ring's frames count in `live`.
    pub(crate) fn new(
        index: u16,
        cfg: Arc<Config>,
        peer: Arc<RcuArc<Port>>,
        live: Arc<LiveFrames>,
    ) -> Result<(Self, Arc<RxShared>)> {
        let ring = Ring::new(cfg.ring_size() as usize, live)?;
        let shared = Arc::pin_init(
            try_pin_init!(RxShared {
                ring <- SpinLockBh::new(
                    ring,
                    kernel::c_str!("vnapi_rx_ring"),
                    kernel::static_lock_class!(),
                ),
                stats: RxStats::default(),
            }),
            GFP_KERNEL,
        )?;
        Ok((
            Self {
                index,
                cfg,
                shared: shared.clone(),
                peer,
            },
            shared,
        ))
    }
}

impl RxShared {
    /// Frames in the ring now.
    pub(crate) fn ring_len(&self) -> usize {
        // Process context: the lock is always taken.
        self.ring.lock().map_or(0, |ring| ring.len())
    }

    /// Allocates the slots of the ring resized to `cap` frames, for
    /// [`RxShared::resize`].  Process context, under the device's resize
    /// guard (`Config::start_resize`), under which the ring holds no more
    /// than its bound: its size, or what it holds now if that is more.
    pub(crate) fn resize_slots(&self, cap: usize) -> Result<ResizeSlots> {
        let bound = self.ring.lock().ok_or(EBUSY)?.bound();
        // Until the resize, the ring holds no more than its bound.
        Ok(ResizeSlots {
            slots: empty_slots(cap.max(bound))?,
            cap,
        })
    }

    /// Allocates the room to move `moved` frames (the exact number the
    /// rings they come from hold: those receive and poll nothing any more)
    /// into this ring, for [`RxShared::take_from`].  Process context, under
    /// the resize guard (`Config::hold_rings`).
    pub(crate) fn move_room(&self, moved: usize) -> Result<MoveRoom> {
        // Process context: the lock is always taken.
        let bound = self.ring.lock().map_or(0, |ring| ring.bound());
        let total = bound.checked_add(moved).ok_or(ENOMEM)?;
        Ok(MoveRoom {
            slots: empty_slots(total)?,
            frames: KVVec::with_capacity(moved, GFP_KERNEL)?,
        })
    }

    /// Moves every frame of the rings `from` into this one, in their order
    /// and before its own (they are older than any frame of their flows
    /// here), past its size if need be: none is dropped (the ring takes no
    /// new frame until it is below its size again).  `from` must receive
    /// and poll nothing any more and hold the frames `room` was allocated
    /// for.  Process context, under the resize guard that `room` was
    /// allocated under.
    pub(crate) fn take_from<'a>(
        &self,
        from: impl Iterator<Item = &'a RxShared>,
        mut room: MoveRoom,
    ) {
        let mut stopped = false;
        for other in from {
            // Process context: the lock is always taken.
            let Some(mut ring) = other.ring.lock() else {
                continue;
            };
            // A transmit queue stopped for that ring is woken by this one's
            // poll, which its frames now wait for.
            stopped |= core::mem::take(&mut ring.tx_stopped);
            while room.frames.len() < room.frames.capacity() {
                let Some(skb) = ring.pop() else {
                    break;
                };
                // Always has room: its capacity is what `from` holds.
                if let Err(e) = room.frames.push_within_capacity(skb) {
                    other.stats.drops.add(1);
                    drop(e);
                }
            }
        }
        if let Some(mut ring) = self.ring.lock() {
            // Always true: `slots` has room for the ring's bound and these.
            if ring.len() + room.frames.len() <= room.slots.len() {
                let cap = ring.cap;
                ring.rebuild(room.slots, cap, &mut room.frames);
            }
            ring.tx_stopped |= stopped;
        }
        // Frames not moved (never): dropped, and counted.
        self.stats.drops.add(room.frames.len() as u64);
    }

    /// Moves the frames into `slots` and makes their `cap` the limit.
    /// Process context, under the resize guard `slots` was allocated under.
    pub(crate) fn resize(&self, slots: ResizeSlots) {
        // Process context: the lock is always taken.
        let Some(mut ring) = self.ring.lock() else {
            return;
        };
        // Always true: the ring holds no more than its bound then.
        if ring.len() <= slots.slots.len() {
            ring.rebuild(slots.slots, slots.cap, &mut KVVec::new());
        }
    }
}

impl RxQueue {
    /// Whether an interrupt is due for the frames pending in `ring`; arms
    /// the delayed interrupt if it is not due yet.  Under the ring lock.
    fn interrupt_due(&self, napi: &Napi<Self>, ring: &Ring, bh: &BhContext) -> bool {
        match coalesce(
            ring.pending,
            napi.irq_masked(),
            self.cfg.rx_frames(),
            self.cfg.rx_usecs(),
        ) {
            Irq::Wait => false,
            Irq::Now => true,
            Irq::After(usecs) => {
                napi.arm_irq(usecs, bh);
                false
            }
        }
    }

    /// Receives `skb` (already prepared for this device) into the ring,
    /// raising the interrupt when coalescing says so; `gro`: the poll must
    /// take it through GRO even from a peer with TSO (a frame the peer's
    /// stack did not aggregate).  `txq`: the peer's transmit queue that
    /// sends it, stopped if it can be once the ring is full, as a NIC's
    /// transmit queue stops when its ring has no room for another frame
    /// (see [`Ring::take_wake`]).  Returns whether it stopped `txq`.
    /// Bottom halves disabled (the peer's transmit path).
    pub(crate) fn receive(
        napi: &Napi<Self>,
        skb: SkBuff,
        gro: bool,
        txq: Option<&TxQueue<'_>>,
        bh: &BhContext,
    ) -> bool {
        let q = napi.data();
        let (raise, dropped, stopped) = {
            let mut ring = q.ring.lock_with(bh);
            let (raise, dropped) = match ring.push(skb, gro) {
                Ok(()) => {
                    ring.pending = ring.pending.saturating_add(1);
                    (q.interrupt_due(napi, &ring, bh), None)
                }
                Err(skb) => (false, Some(skb)),
            };
            // Stopped under the lock, so that the poll that makes room,
            // which takes it, finds the mark and wakes the queue after
            // it was stopped.  (A frame that found the ring full, filled
            // by another source, stops it too.)
            let stopped = ring.len() >= ring.cap && txq.is_some_and(|t| t.try_stop());
            ring.tx_stopped |= stopped;
            (raise, dropped, stopped)
        };
        if let Some(skb) = dropped {
            q.stats.drops.add(1);
            drop(skb);
        }
        if raise {
            napi.raise_irq(bh);
        }
        stopped
    }

    /// Raises the interrupt if the frames in the ring call for it (after
    /// frames were moved in), unless it is masked.  Bottom halves disabled.
    pub(crate) fn kick(napi: &Napi<Self>, bh: &BhContext) {
        Self::recheck(napi, false, bh);
    }

    /// Reopens the interrupt and raises it if frames are waiting.  Bottom
    /// halves disabled.
    pub(crate) fn unmask(napi: &Napi<Self>, bh: &BhContext) {
        Self::recheck(napi, true, bh);
    }

    /// Counts the frames in the ring as pending (unmasking the interrupt
    /// first if `unmask`) and raises the interrupt if they call for it.
    fn recheck(napi: &Napi<Self>, unmask: bool, bh: &BhContext) {
        let q = napi.data();
        let raise = {
            let mut ring = q.ring.lock_with(bh);
            if unmask {
                napi.unmask_irq();
            }
            ring.pending = ring.len() as u32;
            q.interrupt_due(napi, &ring, bh)
        };
        if raise {
            napi.raise_irq(bh);
        }
    }
}

impl Poller for RxQueue {
    fn interrupt(napi: &Napi<Self>, irq: &IrqContext, remote: bool) {
        let stats = &napi.data().stats;
        stats.interrupts.add(1);
        if remote {
            stats.remote_interrupts.add(1);
        }
        napi.schedule(irq);
    }

    fn completed(napi: &Napi<Self>, bh: &BhContext) {
        Self::unmask(napi, bh);
    }

    // Its one caller is the adapter's poll callback: inlined there, the
    // poll context need not be built in memory.
    #[inline]
    fn poll<'a>(napi: &'a Napi<Self>, mut ctx: PollContext<'a>) -> Poll<'a> {
        let q = napi.data();
        if ctx.remaining() == 0 {
            return Poll::Continue;
        }
        q.stats.polls.add(1);
        let bh = ctx.bh();
        loop {
            let want = POLL_BATCH.min(ctx.remaining() as usize);
            // A frame alone in a poll that completes has nothing to be
            // merged with: it skips GRO.
            let may_be_alone = ctx.done() == 0 && want > 1 && !ctx.has_xdp() && ctx.gro_idle();
            let mut ring = q.ring.lock_with(bh);
            let first = ring.popped();
            let skb = ring.pop();
            if may_be_alone && ring.len() == 0 {
                // The frame, if any, is alone and the ring empty: reopen
                // the interrupt now, under the lock, rather than after
                // completing (see `PollContext::complete_reopened`): the
                // frames that come after it raise it.
                let reopened = ctx.reopen_irq();
                ring.pending = 0;
                let wake = ring.take_wake();
                drop(ring);
                if wake {
                    q.wake_peer(bh);
                }
                if let Some(skb) = skb {
                    Self::receive_frames(q, &mut ctx, Some(skb).into_iter(), true);
                }
                return ctx.complete_reopened(reopened);
            }
            let mut batch = Batch::new();
            let mut skb = skb;
            batch.fill(want, || skb.take());
            // One update of the live frames for the batch, not one a frame.
            ring.pop_into(&mut batch, want);
            let gro_wanted = ring.gro_wanted(first);
            let wake = ring.take_wake();
            drop(ring);
            if wake {
                q.wake_peer(bh);
            }
            let n = batch.len();
            if ctx.has_xdp() {
                let frames = batch.drain();
                // Where `XDP_TX` frames go, for the whole batch.
                let peer = q.peer.get_in(bh);
                for mut skb in frames {
                    skb.record_rx_queue(q.index);
                    let bytes = u64::from(skb.len()) + ETH_HLEN;
                    // At most `remaining` frames were taken: never refused.
                    let Ok(action) = ctx.run_xdp(skb) else {
                        continue;
                    };
                    q.stats.count_xdp(action, bytes, |frame| {
                        // Out of the device: to the peer's queue of the
                        // same index.
                        let len = u64::from(frame.len());
                        let peer = peer?;
                        port::xmit_frame(peer, usize::from(q.index), frame, bh).then_some(len)
                    });
                }
            } else {
                // What GRO may merge, close to how veth decides
                // (`veth_skb_is_eligible_for_gro()`): the stack hands a peer
                // that does TSO aggregates already, which GRO has nothing to
                // add to, unless this device merges forwarded UDP (veth then
                // takes sockets' datagrams through GRO, vnapi every frame).
                // Frames the peer's stack did not send (XDP frames) go
                // through GRO, as veth's do.
                let unmergeable = !gro_wanted
                    && !ctx.device().has_udp_gro_fwd()
                    && q.peer
                        .get_in(bh)
                        .is_some_and(|p| p.netdev.device().has_tso());
                if unmergeable {
                    Self::receive_list(q, &mut ctx, batch.frames());
                } else {
                    Self::receive_frames(q, &mut ctx, batch.drain(), false);
                }
            }
            if n < want {
                // Ring empty: complete; `completed` then unmasks.
                return ctx.complete();
            }
            if ctx.remaining() == 0 {
                // Stay in polling mode: the interrupt stays masked.
                q.stats.exhausted.add(1);
                return Poll::Continue;
            }
        }
    }
}

impl RxQueue {
    /// Wakes the transmit queues of the peer, which sends into this ring
    /// (see [`Ring::take_wake`]).
    fn wake_peer(&self, bh: &BhContext) {
        if let Some(peer) = self.peer.get_in(bh) {
            peer.wake_tx_queues();
        }
    }

    /// Hands the frames of `batch`, which GRO would not merge, to the stack
    /// as lists ([`PollContext::receive_list`]), and counts them once for
    /// the batch.
    fn receive_list(q: &Self, ctx: &mut PollContext<'_>, batch: &mut [Option<SkBuff>]) {
        let mut bytes = 0u64;
        for skb in batch.iter_mut().flatten() {
            skb.record_rx_queue(q.index);
            bytes += u64::from(skb.len()) + ETH_HLEN;
        }
        // At most `remaining` frames were taken: it takes them all.
        let (n, merged) = ctx.receive_list(batch);
        if n != 0 {
            q.stats
                .count_received(u64::from(n), bytes, u64::from(merged));
        }
    }

    /// Hands `frames` to the stack, through GRO unless `alone`, and counts
    /// them once for the batch.
    fn receive_frames(
        q: &Self,
        ctx: &mut PollContext<'_>,
        frames: impl Iterator<Item = SkBuff>,
        alone: bool,
    ) {
        let (mut n, mut bytes, mut merged) = (0u64, 0u64, 0u64);
        for mut skb in frames {
            skb.record_rx_queue(q.index);
            let len = u64::from(skb.len()) + ETH_HLEN;
            let r = if alone {
                ctx.receive(skb).map(|()| GroResult::Normal)
            } else {
                ctx.gro_receive(skb)
            };
            // At most `remaining` frames were taken: never refused.
            if let Ok(r) = r {
                n += 1;
                bytes += len;
                merged += u64::from(r == GroResult::Merged);
            }
        }
        if n != 0 {
            q.stats.count_received(n, bytes, merged);
        }
    }
}
