// SPDX-License-Identifier: GPL-2.0

//! One receive queue: the rx ring, its coalesced interrupt, and the NAPI
//! poll that empties it.
//!
//! Locking: the ring and its coalescing state (`pending`) sit under one
//! spinlock.  The data path (peer transmit, poll) runs with bottom halves
//! disabled; process context (resizing the ring) takes the lock with bottom
//! halves disabled too.  The interrupt handler, which may run in hard
//! interrupt context (the coalescing timer, an IPI), never takes it.
//! Unmasking the interrupt and checking the ring happen under that lock, so
//! a frame that arrives while the poll completes is never left without an
//! interrupt.

#![forbid(unsafe_code)]

use crate::config::{Config, LIVE_FRAMES};
use crate::logic::{coalesce, slot, Irq};
use crate::rnm::{
    bh,
    net::{
        napi::{GroResult, Napi, PollContext, Poller},
        skb::SkBuff,
    },
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{
    new_spinlock,
    prelude::*,
    sync::{Arc, SpinLock},
};

/// Length of the Ethernet header, which `eth_type_trans` pulls.
const ETH_HLEN: u64 = 14;

/// Frames taken from the ring per lock hold in a poll.
const POLL_BATCH: usize = 16;

/// A counter that any context may increment at any time (an atomic add).
#[derive(Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A counter with one writer at a time, which the core serialises: the
/// poll function of one NAPI context, the transmit path of one queue under
/// its transmit lock, or the handler of one interrupt line.  The writer
/// updates it with a plain load and store, cheaper than an atomic add;
/// anyone may read it.  (Were two writers to race after all, a count could
/// be lost, nothing worse.)
#[derive(Default)]
pub(crate) struct LocalCounter(AtomicU64);

impl LocalCounter {
    pub(crate) fn add(&self, n: u64) {
        let v = self.0.load(Ordering::Relaxed);
        self.0.store(v.wrapping_add(n), Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
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
}

impl RxStats {
    /// The counters' names, in [`RxStats::values`] order.
    pub(crate) const NAMES: [&'static str; 8] = [
        "frames",
        "bytes",
        "drops",
        "interrupts",
        "polls",
        "budget_exhausted",
        "gro_merged",
        "remote_interrupts",
    ];

    /// The counters' values.
    pub(crate) fn values(&self) -> [u64; 8] {
        [
            self.frames.get(),
            self.bytes.get(),
            self.drops.get(),
            self.interrupts.get(),
            self.polls.get(),
            self.exhausted.get(),
            self.gro_merged.get(),
            self.remote_interrupts.get(),
        ]
    }
}

/// A bounded FIFO of frames.
///
/// `slots` may be longer than `cap` (after the ring shrank below its fill
/// level): frames already in the ring are kept, new ones are refused until
/// the ring is below `cap` again.
pub(crate) struct Ring {
    slots: KVec<Option<SkBuff>>,
    head: usize,
    len: usize,
    cap: usize,
    /// Frames received since the interrupt was last unmasked.
    pending: u32,
}

fn empty_slots(n: usize) -> Result<KVec<Option<SkBuff>>> {
    let mut v = KVec::with_capacity(n, GFP_KERNEL)?;
    for _ in 0..n {
        v.push(None, GFP_KERNEL)?;
    }
    Ok(v)
}

impl Ring {
    fn new(cap: usize) -> Result<Self> {
        Ok(Self {
            slots: empty_slots(cap)?,
            head: 0,
            len: 0,
            cap,
            pending: 0,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The index of the slot `i` places after `head` (`i <= slots.len()`).
    fn slot(&self, i: usize) -> usize {
        slot(self.head, i, self.slots.len())
    }

    fn push(&mut self, skb: SkBuff) -> Result<(), SkBuff> {
        if self.len >= self.cap {
            return Err(skb);
        }
        let i = self.slot(self.len);
        self.slots[i] = Some(skb);
        self.len += 1;
        LIVE_FRAMES.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Takes the oldest frame; the caller accounts for it in
    /// [`LIVE_FRAMES`].
    fn pop(&mut self) -> Option<SkBuff> {
        if self.len == 0 {
            return None;
        }
        let skb = self.slots[self.head].take();
        self.head = self.slot(1);
        self.len -= 1;
        skb
    }

    /// Moves the frames into `slots` (at least `self.len` long), in order,
    /// and makes `cap` the new limit.
    fn rebuild(&mut self, mut slots: KVec<Option<SkBuff>>, cap: usize) {
        for (i, slot) in slots.iter_mut().enumerate().take(self.len) {
            let j = self.slot(i);
            *slot = self.slots[j].take();
        }
        self.slots = slots;
        self.head = 0;
        self.cap = cap;
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // The frames themselves are freed with `slots`.
        LIVE_FRAMES.fetch_sub(self.len as i64, Ordering::Relaxed);
    }
}

/// The slots of a resized ring, allocated before any ring changes.
pub(crate) struct ResizeSlots {
    slots: KVec<Option<SkBuff>>,
    cap: usize,
}

/// One receive queue of a device.
pub(crate) struct RxQueue {
    index: u16,
    cfg: Arc<Config>,
    ring: Pin<KBox<SpinLock<Ring>>>,
    pub(crate) stats: RxStats,
}

impl RxQueue {
    pub(crate) fn new(index: u16, cfg: Arc<Config>) -> Result<Self> {
        let ring = KBox::pin_init(
            new_spinlock!(Ring::new(cfg.ring_size() as usize)?, "vnapi_rx_ring"),
            GFP_KERNEL,
        )?;
        Ok(Self {
            index,
            cfg,
            ring,
            stats: RxStats::default(),
        })
    }

    /// Frames in the ring now.
    pub(crate) fn ring_len(&self) -> usize {
        let _bh = bh::disable();
        self.ring.lock().len()
    }

    /// Allocates the slots of the ring resized to `cap` frames, for
    /// [`RxQueue::resize`].  Process context, under the device's resize
    /// guard (`Config::start_resize`), which keeps the slot count as it is.
    pub(crate) fn resize_slots(&self, cap: usize) -> Result<ResizeSlots> {
        let now = {
            let _bh = bh::disable();
            self.ring.lock().slots.len()
        };
        // The ring never holds more frames than it has slots.
        Ok(ResizeSlots {
            slots: empty_slots(cap.max(now))?,
            cap,
        })
    }

    /// Moves the frames into `slots` and makes their `cap` the limit.
    /// Process context, under the resize guard `slots` was allocated under.
    pub(crate) fn resize(&self, slots: ResizeSlots) {
        let _bh = bh::disable();
        let mut ring = self.ring.lock();
        // Always true: the slot count has not changed since `resize_slots`.
        if ring.len() <= slots.slots.len() {
            ring.rebuild(slots.slots, slots.cap);
        }
    }

    /// Whether an interrupt is due for the frames pending in `ring`; arms
    /// the delayed interrupt if it is not due yet.  Under the ring lock.
    fn interrupt_due(&self, napi: &Napi<Self>, ring: &Ring) -> bool {
        match coalesce(
            ring.pending,
            napi.irq_masked(),
            self.cfg.rx_frames(),
            self.cfg.rx_usecs(),
        ) {
            Irq::Wait => false,
            Irq::Now => true,
            Irq::After(usecs) => {
                napi.arm_irq(usecs);
                false
            }
        }
    }

    /// Receives `skb` (already prepared for this device) into the ring,
    /// raising the interrupt when coalescing says so.  Softirq context.
    pub(crate) fn receive(napi: &Napi<Self>, skb: SkBuff) {
        let q = napi.data();
        let (raise, dropped) = {
            let mut ring = q.ring.lock();
            match ring.push(skb) {
                Ok(()) => {
                    ring.pending = ring.pending.saturating_add(1);
                    (q.interrupt_due(napi, &ring), None)
                }
                Err(skb) => (false, Some(skb)),
            }
        };
        if let Some(skb) = dropped {
            q.stats.drops.add(1);
            drop(skb);
        }
        if raise {
            napi.raise_irq();
        }
    }

    /// Reopens the interrupt and raises it if frames are waiting.
    pub(crate) fn unmask(napi: &Napi<Self>) {
        let q = napi.data();
        let raise = {
            let mut ring = q.ring.lock();
            napi.unmask_irq();
            ring.pending = ring.len() as u32;
            q.interrupt_due(napi, &ring)
        };
        if raise {
            napi.raise_irq();
        }
    }
}

impl Poller for RxQueue {
    fn interrupt(napi: &Napi<Self>, remote: bool) {
        let stats = &napi.data().stats;
        stats.interrupts.add(1);
        if remote {
            stats.remote_interrupts.add(1);
        }
        napi.schedule();
    }

    fn poll(napi: &Napi<Self>, ctx: &mut PollContext<'_>, budget: u32) -> u32 {
        let q = napi.data();
        if budget == 0 {
            return 0;
        }
        q.stats.polls.add(1);
        let budget = budget as usize;
        let mut done = 0;
        while done < budget {
            let mut batch: [Option<SkBuff>; POLL_BATCH] = [const { None }; POLL_BATCH];
            let want = POLL_BATCH.min(budget - done);
            let mut n = 0;
            {
                let mut ring = q.ring.lock();
                while n < want {
                    match ring.pop() {
                        Some(skb) => batch[n] = Some(skb),
                        None => break,
                    }
                    n += 1;
                }
            }
            LIVE_FRAMES.fetch_sub(n as i64, Ordering::Relaxed);
            // A frame alone in a poll that completes has nothing to be
            // merged with: it skips GRO.
            let alone = done == 0 && n == 1 && n < want && ctx.gro_idle();
            for mut skb in batch.iter_mut().take(n).filter_map(Option::take) {
                skb.record_rx_queue(q.index);
                q.stats.frames.add(1);
                q.stats.bytes.add(u64::from(skb.len()) + ETH_HLEN);
                if alone {
                    ctx.receive(skb);
                } else if ctx.gro_receive(skb) == GroResult::Merged {
                    q.stats.gro_merged.add(1);
                }
            }
            done += n;
            if n < want {
                break;
            }
        }
        if done == budget {
            // Stay in polling mode: the interrupt stays masked.
            q.stats.exhausted.add(1);
            return done as u32;
        }
        if ctx.complete_done(done as u32) {
            Self::unmask(napi);
        }
        done as u32
    }
}
