// SPDX-License-Identifier: GPL-2.0

//! A vnapi device: its net_device with one NAPI context per queue, its
//! device on the bus, and the link to its peer.

#![forbid(unsafe_code)]

use crate::bus::VnapiBus;
use crate::config::{self, Config, LIVE_DEVICES};
use crate::queue::{LocalCounter, RxQueue, RxStats};
use crate::rnm::{
    bh,
    bus::DeviceRegistration,
    net::{
        device::{Device, DeviceOps, Registration, Stats64},
        ethtool::{self, Channels, Coalesce, EthtoolOps, Ring, Stats},
        napi::Napi,
        skb::SkBuff,
    },
    rcu::RcuArc,
};
use core::sync::atomic::Ordering;
use kernel::{
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
}

impl TxStats {
    /// The counters' names, in [`TxStats::values`] order.
    pub(crate) const NAMES: [&'static str; 3] = ["frames", "bytes", "drops"];

    /// The counters' values.
    pub(crate) fn values(&self) -> [u64; 3] {
        [self.frames.get(), self.bytes.get(), self.drops.get()]
    }
}

/// The private data of a vnapi net_device.
pub(crate) struct PortDev {
    cfg: Arc<Config>,
    queues: KVec<Pin<KBox<Napi<RxQueue>>>>,
    tx: KVec<TxStats>,
    /// The linked device, reached by the transmit path under RCU.
    peer: RcuArc<Port>,
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
    pub(crate) fn new(
        id: u32,
        queues: u32,
        parent: &DeviceRegistration<VnapiBus>,
    ) -> Result<Arc<Self>> {
        if queues == 0 || queues > config::QUEUES_MAX {
            return Err(EINVAL);
        }
        let cfg = Arc::pin_init(Config::from_defaults(), GFP_KERNEL)?;
        let name = CString::try_from_fmt(fmt!("vnapi{id}"))?;
        let weight = u32::try_from(config::DEFAULT_NAPI_WEIGHT.get()).map_err(|_| EINVAL)?;
        let mut netdev = Registration::new(&name, queues, |dev| {
            let mut napis = KVec::with_capacity(queues as usize, GFP_KERNEL)?;
            let mut tx = KVec::with_capacity(queues as usize, GFP_KERNEL)?;
            for i in 0..queues {
                let q = RxQueue::new(i as u16, cfg.clone())?;
                napis.push(Napi::new(dev, weight, q)?, GFP_KERNEL)?;
                tx.push(TxStats::default(), GFP_KERNEL)?;
            }
            LIVE_DEVICES.fetch_add(1, Ordering::Relaxed);
            Ok(PortDev {
                cfg: cfg.clone(),
                queues: napis,
                tx,
                peer: RcuArc::new(),
            })
        })?;
        netdev.register(Some(parent))?;
        netdev.device().carrier_off();
        Ok(Arc::new(Self { id, netdev }, GFP_KERNEL)?)
    }

    pub(crate) fn data(&self) -> &PortDev {
        self.netdev.data()
    }

    /// Sets or clears the peer, and the carrier with it.  Process context;
    /// waits until no transmit uses the previous peer, and returns it.
    pub(crate) fn set_peer(&self, peer: Option<Arc<Port>>) -> Option<Arc<Port>> {
        let linked = peer.is_some();
        let old = self.data().peer.replace(peer);
        if linked {
            self.netdev.device().carrier_on();
        } else {
            self.netdev.device().carrier_off();
        }
        old
    }

    /// The peer's id, if linked.
    pub(crate) fn peer_id(&self) -> Option<u32> {
        self.data().peer.get(&rcu::read_lock()).map(|p| p.id)
    }
}

impl PortDev {
    pub(crate) fn cfg(&self) -> &Config {
        &self.cfg
    }

    pub(crate) fn queues(&self) -> &[Pin<KBox<Napi<RxQueue>>>] {
        &self.queues
    }

    pub(crate) fn tx(&self) -> &[TxStats] {
        &self.tx
    }

    /// Resizes every rx ring, keeping their frames: all of them, or (on a
    /// bad size or a failed allocation) none.  Process context.
    pub(crate) fn set_ring_size(&self, v: u32) -> Result {
        let (v, resizing) = self.cfg.start_resize(v)?;
        // Allocate everything first, then switch.
        let mut slots = KVec::with_capacity(self.queues.len(), GFP_KERNEL)?;
        for q in self.queues.iter() {
            slots.push(q.data().resize_slots(v as usize)?, GFP_KERNEL)?;
        }
        for (q, s) in self.queues.iter().zip(slots) {
            q.data().resize(s);
        }
        self.cfg.store_ring_size(v, &resizing);
        Ok(())
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

impl Drop for PortDev {
    fn drop(&mut self) {
        LIVE_DEVICES.fetch_sub(1, Ordering::Relaxed);
    }
}

impl DeviceOps for PortDev {
    fn open(_dev: &Device, data: &Self) -> Result {
        for q in data.queues.iter() {
            q.enable();
            // Deliver what arrived before the device was last stopped; a
            // NAPI the interrupt schedules here is polled when bottom
            // halves are enabled again.
            let _bh = bh::disable();
            RxQueue::unmask(q);
        }
        Ok(())
    }

    fn stop(_dev: &Device, data: &Self) -> Result {
        for q in data.queues.iter() {
            q.disable();
        }
        Ok(())
    }

    fn start_xmit(_dev: &Device, data: &Self, skb: SkBuff) {
        // Transmit queue `i` feeds the peer's receive queue `i` (modulo
        // the peer's queue count).
        let qi = usize::from(skb.queue_mapping());
        let Some(tx) = qi.checked_rem(data.tx.len()).and_then(|i| data.tx.get(i)) else {
            return;
        };
        tx.frames.add(1);
        tx.bytes.add(u64::from(skb.len()));
        let guard = rcu::read_lock();
        let Some(peer) = data.peer.get(&guard) else {
            tx.drops.add(1);
            return;
        };
        let pd = peer.data();
        let Some(rq) = qi
            .checked_rem(pd.queues.len())
            .and_then(|i| pd.queues.get(i))
        else {
            tx.drops.add(1);
            return;
        };
        let pdev = peer.netdev.device();
        if !pdev.is_running() {
            rq.data().stats.drops.add(1);
            return;
        }
        match pdev.forward(skb) {
            Some(skb) => RxQueue::receive(rq, skb),
            None => rq.data().stats.drops.add(1),
        }
    }

    fn get_stats64(_dev: &Device, data: &Self) -> Stats64 {
        let mut s = Stats64::default();
        for q in data.queues.iter() {
            let r = &q.data().stats;
            s.rx_packets += r.frames.get();
            s.rx_bytes += r.bytes.get();
            s.rx_dropped += r.drops.get();
        }
        for t in data.tx.iter() {
            s.tx_packets += t.frames.get();
            s.tx_bytes += t.bytes.get();
            s.tx_dropped += t.drops.get();
        }
        s
    }
}

#[vtable]
impl EthtoolOps for PortDev {
    const DRIVER_NAME: &'static CStr = c"vnapi";
    const COALESCE_PARAMS: u32 = ethtool::COALESCE_RX_USECS | ethtool::COALESCE_RX_MAX_FRAMES;

    fn stats(_dev: &Device, data: &Self, out: &mut Stats<'_>) {
        for (i, q) in data.queues.iter().enumerate() {
            out.group(
                format_args!("rx{i}_"),
                &RxStats::NAMES,
                q.data().stats.values(),
            );
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
        let n = data.queues.len() as u32;
        Channels {
            max_combined: n,
            combined: n,
        }
    }
}
