// SPDX-License-Identifier: GPL-2.0

//! A vnapi device: its net_device with one NAPI context per queue, its
//! device on the bus, and the link to its peer.

#![forbid(unsafe_code)]

use crate::bus::VnapiBus;
use crate::config::{self, Config, LIVE_DEVICES};
use crate::logic::wrap;
use crate::queue::{Counter, LocalCounter, RxQueue, RxShared, RxStats};
use crate::rnm::{
    bh::{self, BhContext},
    bus::Device as BusDevice,
    net::{
        device::{
            Device, DeviceOps, Napis, QueueStatsRx, QueueStatsTx, Registration, Rtnl, Stats64,
            TxQueue,
        },
        ethtool::{self, Channels, Coalesce, EthtoolOps, Ring, Stats},
        napi::Napi,
        skb::SkBuff,
        synchronize_net,
        xdp::{XdpFrame, XdpFrames},
    },
    rcu::RcuArc,
};
// `channels` is read for every frame: `core`'s atomics, as for the
// counters (see `queue.rs`); acquire/release, as `smp_load_acquire()` and
// `smp_store_release()`.
use core::sync::atomic::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};
use kernel::{
    cpu::CpuId,
    prelude::*,
    str::CString,
    sync::{rcu, Arc},
};

/// The counters of one transmit queue, written under its transmit lock.
#[derive(Default)]
pub(crate) struct TxStats {
    /// Frames transmitted.
    pub(crate) frames: LocalCounter,
    /// Bytes transmitted.
    pub(crate) bytes: LocalCounter,
    /// Frames dropped for want of a peer.
    pub(crate) drops: LocalCounter,
    /// Frames redirected to the device by XDP and sent to the peer
    /// (`ndo_xdp_xmit`, on the queue of the sending CPU, which holds no
    /// transmit lock: an atomic counter).
    pub(crate) xdp_xmit: Counter,
    /// Bytes of the frames in `xdp_xmit`, Ethernet header included.
    pub(crate) xdp_xmit_bytes: Counter,
    /// Frames redirected to the device that could not be sent: device
    /// down, no peer, no memory.
    pub(crate) xdp_xmit_errors: Counter,
    /// Times the queue was stopped because the peer's receive ring was
    /// full (only with a qdisc on the queue: see `TxQueue::try_stop`).
    pub(crate) stop: LocalCounter,
    /// Times the queue was woken after a stop: by the peer's poll that
    /// made room, or by a link change (any CPU: an atomic counter).
    pub(crate) wake: Counter,
}

impl TxStats {
    /// The frames transmitted through this queue, their bytes and the
    /// frames dropped, as the interface counters and the netdev family
    /// count them: those of the stack, those XDP redirected to the device
    /// (`ndo_xdp_xmit`) and those the XDP program of receive queue `rx`,
    /// of the same index, sent back out (`XDP_TX`).
    fn sent(&self, rx: &RxStats) -> (u64, u64, u64) {
        let (xdp_tx, xdp_tx_bytes) = rx.xdp_sent();
        (
            self.frames
                .get()
                .wrapping_add(self.xdp_xmit.get())
                .wrapping_add(xdp_tx),
            self.bytes
                .get()
                .wrapping_add(self.xdp_xmit_bytes.get())
                .wrapping_add(xdp_tx_bytes),
            self.drops.get().wrapping_add(self.xdp_xmit_errors.get()),
        )
    }

    /// How many of the counters (the first) are in `queue_stats`.
    pub(crate) const QUEUE_STATS: usize = 5;

    /// The counters' names, in [`TxStats::values`] order.
    pub(crate) const NAMES: [&'static str; 7] = [
        "frames",
        "bytes",
        "drops",
        "xdp_xmit",
        "xdp_xmit_errors",
        "stop",
        "wake",
    ];

    /// The counters' values.
    pub(crate) fn values(&self) -> [u64; 7] {
        [
            self.frames.get(),
            self.bytes.get(),
            self.drops.get(),
            self.xdp_xmit.get(),
            self.xdp_xmit_errors.get(),
            self.stop.get(),
            self.wake.get(),
        ]
    }
}

/// The private data of a vnapi net_device (its NAPI contexts, one per
/// receive queue, belong to the net_device).
pub(crate) struct PortDev {
    cfg: Arc<Config>,
    /// The ring and counters of each receive queue, shared with the
    /// queue's NAPI context.
    rx: KVec<Arc<RxShared>>,
    tx: KVec<TxStats>,
    /// Combined channels in use (`ethtool -L`): queues and NAPI contexts
    /// `0..channels` of `rx.len()` (1..=that).  Written under RTNL; read
    /// by the peer's transmit path.
    channels: AtomicU32,
    /// The linked device, reached by the transmit path and (for
    /// `XDP_TX`) the receive queues under RCU.
    peer: Arc<RcuArc<Port>>,
}

/// A vnapi device's net_device.  Its bus device (the parent it sits
/// under in sysfs) owns it and outlives it (see `crate::bus`).
pub(crate) struct Port {
    pub(crate) id: u32,
    pub(crate) netdev: Registration<PortDev>,
}

impl Port {
    /// Creates the net device `vnapi<id>` with `queues` queues (1..=16)
    /// under the bus device `parent`.
    pub(crate) fn new(id: u32, queues: u32, parent: &BusDevice<VnapiBus>) -> Result<Arc<Self>> {
        if queues == 0 || queues > config::QUEUES_MAX {
            return Err(EINVAL);
        }
        let cfg = Arc::pin_init(Config::from_defaults(), GFP_KERNEL)?;
        let name = CString::try_from_fmt(fmt!("vnapi{id}"))?;
        let weight = u32::try_from(config::DEFAULT_NAPI_WEIGHT.get()).map_err(|_| EINVAL)?;
        let peer = Arc::new(RcuArc::new(), GFP_KERNEL)?;
        let mut netdev = Registration::new(&name, queues, |dev| {
            let mut rx = KVec::with_capacity(queues as usize, GFP_KERNEL)?;
            let mut tx = KVec::with_capacity(queues as usize, GFP_KERNEL)?;
            for i in 0..queues {
                let (q, shared) = RxQueue::new(
                    i as u16,
                    cfg.clone(),
                    peer.clone(),
                    parent.data().live_frames.clone(),
                )?;
                rx.push(shared, GFP_KERNEL)?;
                dev.add_napi(weight, q)?;
                tx.push(TxStats::default(), GFP_KERNEL)?;
            }
            LIVE_DEVICES.fetch_add(1, Relaxed);
            Ok(PortDev {
                cfg: cfg.clone(),
                rx,
                tx,
                channels: AtomicU32::new(queues),
                peer: peer.clone(),
            })
        })?;
        netdev.register(Some(parent))?;
        netdev.device().carrier_off();
        Ok(Arc::new(Self { id, netdev }, GFP_KERNEL)?)
    }

    /// The device's data and receive queues.
    pub(crate) fn data(&self) -> PortData<'_> {
        PortData {
            dev: self.netdev.data(),
            queues: self.netdev.napis(),
        }
    }

    /// Sets or clears the peer, and the carrier with it.  Process context;
    /// waits until no transmit uses the previous peer, and returns it.
    pub(crate) fn set_peer(&self, peer: Option<Arc<Port>>) -> Option<Arc<Port>> {
        let linked = peer.is_some();
        let old = self.netdev.data().peer.replace(peer);
        if linked {
            self.netdev.device().carrier_on();
        } else {
            self.netdev.device().carrier_off();
        }
        // A queue stopped for the old peer's ring would wait for a poll
        // that no longer wakes it: its frames go to the new peer, or are
        // dropped without one.
        self.wake_tx_queues();
        old
    }

    /// Wakes the device's stopped transmit queues (see
    /// `RxQueue::receive`), counting each one woken.  Any context.
    pub(crate) fn wake_tx_queues(&self) {
        let dev = self.netdev.device();
        for (i, t) in (0u32..).zip(self.netdev.data().tx.iter()) {
            if dev.wake_tx_queue(i) {
                t.wake.add(1);
            }
        }
    }

    /// The peer's id, if linked.
    pub(crate) fn peer_id(&self) -> Option<u32> {
        self.netdev.data().peer.get(&rcu::read_lock()).map(|p| p.id)
    }
}

/// The receive queue of `peer` that takes the frames of queue `qi` of the
/// device linked to it: `qi` modulo the channels it uses.
fn peer_queue(peer: &Port, qi: usize) -> Option<&Pin<KBox<Napi<RxQueue>>>> {
    let channels = peer.netdev.data().channels.load(Acquire) as usize;
    wrap(qi, channels).and_then(|i| peer.netdev.napis().get(i))
}

/// Hands `skb`, transmitted by `dev` to `peer`, to its receive queue `rq`,
/// or drops it if `peer` cannot take it (counted by the core, in `peer`'s
/// `rx_dropped`).  Bottom halves disabled.
fn deliver(
    dev: &Device,
    peer: &Port,
    rq: &Napi<RxQueue>,
    skb: SkBuff,
    (txq, tx): (&TxQueue<'_>, &TxStats),
    bh: &BhContext,
) {
    if let Some(skb) = peer.netdev.device().forward(skb, dev, bh) {
        if RxQueue::receive(rq, skb, false, Some(txq), bh) {
            tx.stop.add(1);
        }
    }
}

/// Sends `frame` (in XDP's format) out of the device linked to `peer`,
/// through its queue `qi`: into `peer`'s receive queue for it, or dropped
/// there (and counted) if `peer` is down or its ring full.  Returns `false`
/// if it could not be sent (`peer` has no such queue, no memory); it is
/// freed then.  Bottom halves disabled.
pub(crate) fn xmit_frame(peer: &Port, qi: usize, frame: XdpFrame, bh: &BhContext) -> bool {
    let Some(rq) = peer_queue(peer, qi) else {
        return false;
    };
    let pdev = peer.netdev.device();
    // As `Device::forward` checks frames: up, and within the MTU (with
    // the Ethernet header and a VLAN tag).
    if !pdev.is_running() || frame.len() > pdev.mtu().saturating_add(18) {
        rq.data().stats.drops.add(1);
        return true;
    }
    match SkBuff::from_xdp_frame(frame, pdev) {
        Ok(skb) => {
            // Not aggregated by a stack: GRO may merge it.
            RxQueue::receive(rq, skb, true, None, bh);
            true
        }
        Err(_) => false,
    }
}

/// A device's private data with its receive queues (the NAPI contexts the
/// net_device owns).
pub(crate) struct PortData<'a> {
    dev: &'a PortDev,
    queues: &'a Napis<RxQueue>,
}

impl<'a> PortData<'a> {
    pub(crate) fn cfg(&self) -> &'a Config {
        &self.dev.cfg
    }

    pub(crate) fn queues(&self) -> &'a Napis<RxQueue> {
        self.queues
    }

    pub(crate) fn tx(&self) -> &'a [TxStats] {
        &self.dev.tx
    }

    /// Resizes every rx ring, keeping their frames: all of them, or (on a
    /// bad size or a failed allocation) none.  Process context.
    pub(crate) fn set_ring_size(&self, v: u32) -> Result {
        self.dev.set_ring_size(v)
    }

    /// Sets the NAPI weight of every queue.
    pub(crate) fn set_napi_weight(&self, v: u32) -> Result {
        if v == 0 || v > crate::rnm::net::napi::MAX_WEIGHT {
            return Err(EINVAL);
        }
        for q in self.queues.iter() {
            q.set_weight(v)?;
        }
        Ok(())
    }

    /// The NAPI weight.
    pub(crate) fn napi_weight(&self) -> u32 {
        self.queues.first().map_or(0, |q| q.weight())
    }
}

impl PortDev {
    /// Resizes every rx ring, keeping their frames: all of them, or (on a
    /// bad size or a failed allocation) none.  Process context.
    pub(crate) fn set_ring_size(&self, v: u32) -> Result {
        let (v, resizing) = self.cfg.start_resize(v)?;
        // Allocate everything first, then switch.
        let mut slots = KVec::with_capacity(self.rx.len(), GFP_KERNEL)?;
        for q in self.rx.iter() {
            slots.push(q.resize_slots(v as usize)?, GFP_KERNEL)?;
        }
        for (q, s) in self.rx.iter().zip(slots) {
            q.resize(s);
        }
        self.cfg.store_ring_size(v, &resizing);
        Ok(())
    }
}

/// Sums per-queue `(packets, bytes, drops)` counts.
fn sum_counts(counts: impl Iterator<Item = (u64, u64, u64)>) -> (u64, u64, u64) {
    counts.fold((0, 0, 0), |(p, b, d), (p1, b1, d1)| {
        (p.wrapping_add(p1), b.wrapping_add(b1), d.wrapping_add(d1))
    })
}

impl PortDev {
    /// The frames received, their bytes and the frames dropped by the
    /// receive queues from `first` on ([`RxStats::received`]).
    fn rx_totals(&self, first: usize) -> (u64, u64, u64) {
        sum_counts(self.rx.iter().skip(first).map(|q| rx_counts(&q.stats)))
    }

    /// The frames transmitted, their bytes and the frames dropped by the
    /// transmit queues from `first` on ([`TxStats::sent`]).
    fn tx_totals(&self, first: usize) -> (u64, u64, u64) {
        sum_counts(
            self.tx
                .iter()
                .zip(self.rx.iter())
                .skip(first)
                .map(|(t, r)| t.sent(&r.stats)),
        )
    }

    /// Combined channels in use.
    pub(crate) fn channels(&self) -> u32 {
        self.channels.load(Relaxed)
    }

    /// Enables the NAPI contexts `queues` and delivers what their rings
    /// hold (what arrived before the device was last stopped).  Process
    /// context, under RTNL.
    fn enable<'a>(queues: impl IntoIterator<Item = &'a Pin<KBox<Napi<RxQueue>>>>, rtnl: &Rtnl) {
        for q in queues {
            q.enable(rtnl);
            // A NAPI the interrupt schedules here is polled when bottom
            // halves are enabled again.
            // Process context: bottom halves can always be disabled.
            if let Some(bh) = bh::disable() {
                RxQueue::unmask(q, &bh);
            }
        }
    }
}

impl Drop for PortDev {
    fn drop(&mut self) {
        LIVE_DEVICES.fetch_sub(1, Relaxed);
    }
}

#[vtable]
impl DeviceOps for PortDev {
    type Queue = RxQueue;

    fn open(_dev: &Device, data: &Self, queues: &Napis<RxQueue>, rtnl: &Rtnl) -> Result {
        Self::enable(queues.iter().take(data.channels() as usize), rtnl);
        Ok(())
    }

    fn stop(_dev: &Device, data: &Self, queues: &Napis<RxQueue>, rtnl: &Rtnl) -> Result {
        for q in queues.iter() {
            q.disable(rtnl);
        }
        // A peer's queue stopped for a full ring here waits for no poll
        // now: woken, it sends, and the frames are dropped here (counted),
        // as any sent to a device that is down.  No transmit that saw this
        // device running is left (`disable` waited for them): none stops
        // a queue again.
        if let Some(peer) = data.peer.get(&rcu::read_lock()) {
            peer.wake_tx_queues();
        }
        Ok(())
    }

    fn start_xmit(dev: &Device, data: &Self, skb: SkBuff, txq: &TxQueue<'_>, bh: &BhContext) {
        // Transmit queue `i` feeds the peer's receive queue `i` (modulo
        // the peer's queue count).
        let qi = usize::from(skb.queue_mapping());
        let Some(tx) = wrap(qi, data.tx.len()).and_then(|i| data.tx.get(i)) else {
            return;
        };
        // Without a peer (just unlinked: the core stops transmitting once
        // it sees the carrier off) nothing is sent, only dropped.
        let Some((peer, rq)) = data
            .peer
            .get_in(bh)
            .and_then(|peer| Some((peer, peer_queue(peer, qi)?)))
        else {
            tx.drops.add(1);
            return;
        };
        // On the wire: what the peer does with it is counted there.
        tx.frames.add(1);
        tx.bytes.add(u64::from(skb.len()));
        if !peer.netdev.device().is_running() {
            rq.data().stats.drops.add(1);
            return;
        }
        // A peer with an XDP program gets the frames the wire would carry:
        // its program sees one frame at a time, of at most its MTU.
        if peer.netdev.has_xdp_prog() && skb.is_gso() {
            match skb.gso_segment(dev, bh) {
                Some(segs) => segs.for_each(|seg| deliver(dev, peer, rq, seg, (txq, tx), bh)),
                None => rq.data().stats.drops.add(1),
            }
            return;
        }
        deliver(dev, peer, rq, skb, (txq, tx), bh);
    }

    const XDP: bool = true;

    // Frames go to the peer through `Device::forward`, which delivers an
    // out-of-band tag as the peer's receive offloads say.
    const VLAN_OFFLOADS: bool = true;

    fn xdp_xmit(dev: &Device, data: &Self, frames: &mut XdpFrames<'_>, bh: &BhContext) {
        // The queue of the sending CPU, as a NIC driver picks its XDP
        // transmit ring.
        let qi = CpuId::current().as_u32() as usize;
        let Some(tx) = wrap(qi, data.tx.len()).and_then(|i| data.tx.get(i)) else {
            return;
        };
        let peer = if dev.is_running() {
            data.peer.get_in(bh)
        } else {
            None
        };
        let Some(peer) = peer else {
            // Not taken: the core frees them.
            tx.xdp_xmit_errors.add(frames.len() as u64);
            return;
        };
        for frame in frames {
            let len = u64::from(frame.len());
            if xmit_frame(peer, qi, frame, bh) {
                tx.xdp_xmit.add(1);
                tx.xdp_xmit_bytes.add(len);
            } else {
                tx.xdp_xmit_errors.add(1);
            }
        }
    }

    fn set_channels(
        dev: &Device,
        data: &Self,
        queues: &Napis<RxQueue>,
        n: u32,
        rtnl: &Rtnl,
    ) -> Result {
        let cur = data.channels();
        let (new, old) = (n as usize, cur as usize);
        if new == 0 || new > queues.len() || new > data.rx.len() {
            return Err(EINVAL);
        }
        if new > old {
            dev.set_real_num_queues(n, rtnl)?;
            if dev.is_running() {
                Self::enable(&queues[old..new], rtnl);
            }
            data.channels.store(n, Release);
            return Ok(());
        }
        if new == old {
            return Ok(());
        }
        // Fewer channels: the frames in the rings of those that go move to
        // ring `i % new`, where flow `i` goes from now on.
        let _rings = data.cfg.hold_rings();
        data.channels.store(n, Release);
        // No transmit picks a ring that goes any more, then no poll takes
        // from one: their frames stay put.
        synchronize_net();
        for q in &queues[new..old] {
            q.disable(rtnl);
        }
        let from = |t: usize| (new..old).filter(move |i| i % new == t);
        let undo = |e: Error| {
            data.channels.store(cur, Release);
            if dev.is_running() {
                Self::enable(&queues[new..old], rtnl);
            }
            e
        };
        // Room for them, now that their number is known; on failure
        // nothing has changed but the contexts, enabled again.
        let mut rooms = KVec::with_capacity(new, GFP_KERNEL).map_err(|e| undo(e.into()))?;
        for (t, q) in data.rx.iter().enumerate().take(new) {
            let moved = from(t).map(|i| data.rx[i].ring_len()).sum();
            let room = if moved == 0 {
                None
            } else {
                Some(q.move_room(moved).map_err(undo)?)
            };
            rooms.push(room, GFP_KERNEL).map_err(|e| undo(e.into()))?;
        }
        // A decrease does not fail (the core warns if it does).
        dev.set_real_num_queues(n, rtnl).map_err(undo)?;
        for (t, room) in rooms.into_iter().enumerate() {
            let Some(room) = room else {
                continue;
            };
            data.rx[t].take_from(from(t).map(|i| &*data.rx[i]), room);
            if dev.is_running() {
                // Process context: bottom halves can always be disabled.
                if let Some(bh) = bh::disable() {
                    RxQueue::kick(&queues[t], &bh);
                }
            }
        }
        Ok(())
    }

    fn get_stats64(_dev: &Device, data: &Self) -> Stats64 {
        let (rx_packets, rx_bytes, rx_dropped) = data.rx_totals(0);
        let (tx_packets, tx_bytes, tx_dropped) = data.tx_totals(0);
        Stats64 {
            rx_packets,
            rx_bytes,
            rx_dropped,
            tx_packets,
            tx_bytes,
            tx_dropped,
        }
    }

    // The netdev family's per-queue counters: the same as the interface's
    // (`get_stats64`), split by queue.  The queues beyond the channels in
    // use keep their counts, which the base reports.

    fn queue_stats_rx(_dev: &Device, data: &Self, idx: u32, stats: &mut QueueStatsRx<'_>) {
        if let Some(q) = data.rx.get(idx as usize) {
            rx_qstats(rx_counts(&q.stats), stats);
        }
    }

    fn queue_stats_tx(_dev: &Device, data: &Self, idx: u32, stats: &mut QueueStatsTx<'_>) {
        let i = idx as usize;
        if let (Some(t), Some(r)) = (data.tx.get(i), data.rx.get(i)) {
            tx_qstats(t.sent(&r.stats), stats);
            stats.set_stop(t.stop.get());
            stats.set_wake(t.wake.get());
        }
    }

    fn base_stats(
        _dev: &Device,
        data: &Self,
        rx: &mut QueueStatsRx<'_>,
        tx: &mut QueueStatsTx<'_>,
    ) {
        // Under RTNL, as `set_channels`: the queues the core asks for next
        // are `0..channels`.
        let n = data.channels() as usize;
        rx_qstats(data.rx_totals(n), rx);
        tx_qstats(data.tx_totals(n), tx);
        let rest = data.tx.iter().skip(n);
        tx.set_stop(
            rest.clone()
                .map(|t| t.stop.get())
                .fold(0, u64::wrapping_add),
        );
        tx.set_wake(rest.map(|t| t.wake.get()).fold(0, u64::wrapping_add));
    }
}

/// The frames received by a receive queue with counters `s`, their bytes
/// ([`RxStats::received`]) and the frames it dropped.
fn rx_counts(s: &RxStats) -> (u64, u64, u64) {
    let (packets, bytes) = s.received();
    (packets, bytes, s.drops.get())
}

/// Sets the netdev family's counters of a receive queue from its frames,
/// bytes and drops ([`rx_counts`]).
fn rx_qstats((packets, bytes, drops): (u64, u64, u64), stats: &mut QueueStatsRx<'_>) {
    stats.set_packets(packets);
    stats.set_bytes(bytes);
    stats.set_hw_drops(drops);
}

/// Sets the netdev family's counters of a transmit queue from its frames,
/// bytes and drops ([`TxStats::sent`]).
fn tx_qstats((packets, bytes, drops): (u64, u64, u64), stats: &mut QueueStatsTx<'_>) {
    stats.set_packets(packets);
    stats.set_bytes(bytes);
    stats.set_hw_drops(drops);
}

#[vtable]
impl EthtoolOps for PortDev {
    const DRIVER_NAME: &'static CStr = c"vnapi";
    const COALESCE_PARAMS: u32 = ethtool::COALESCE_RX_USECS | ethtool::COALESCE_RX_MAX_FRAMES;

    fn stats(_dev: &Device, data: &Self, out: &mut Stats<'_>) {
        for (i, q) in data.rx.iter().enumerate() {
            out.group(format_args!("rx{i}_"), &RxStats::NAMES, q.stats.values());
        }
        for (i, t) in data.tx.iter().enumerate() {
            out.group(format_args!("tx{i}_"), &TxStats::NAMES, t.values());
        }
    }

    fn ring(_dev: &Device, data: &Self) -> Ring {
        Ring {
            rx_max: config::RING_MAX,
            rx: data.cfg.ring_size(),
            tx_max: 0,
            tx: 0,
        }
    }

    fn set_ring(_dev: &Device, data: &Self, ring: Ring) -> Result {
        data.set_ring_size(ring.rx)
    }

    fn coalesce(_dev: &Device, data: &Self) -> Result<Coalesce> {
        Ok(Coalesce {
            rx_usecs: data.cfg.rx_usecs(),
            rx_max_frames: data.cfg.rx_frames(),
        })
    }

    fn set_coalesce(_dev: &Device, data: &Self, c: Coalesce) -> Result {
        // Check both before changing either.
        if c.rx_max_frames == 0
            || c.rx_max_frames > config::RX_FRAMES_MAX
            || c.rx_usecs > config::RX_USECS_MAX
        {
            return Err(EINVAL);
        }
        data.cfg.set_rx_frames(c.rx_max_frames)?;
        data.cfg.set_rx_usecs(c.rx_usecs)
    }

    fn channels(_dev: &Device, data: &Self) -> Channels {
        Channels {
            max_combined: data.rx.len() as u32,
            combined: data.channels(),
        }
    }
}
