// SPDX-License-Identifier: GPL-2.0

//! Network devices (`struct net_device`) with typed private data.
//!
//! C header: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h)
//!
//! A driver describes its device with a type `T` implementing
//! [`DeviceOps`] (the `net_device_ops` callbacks) and
//! [`EthtoolOps`](super::ethtool::EthtoolOps).  [`Registration::new`]
//! allocates the `net_device` with `T` as its private data, built by a
//! closure that is given the device under construction ([`NewDevice`]),
//! through which it adds the device's NAPI contexts;
//! [`Registration::register`] publishes it; dropping the registration
//! unregisters the device, drops `T` and the NAPI contexts, and frees the
//! device.  NAPI contexts are owned by the device and only borrowed from
//! it ([`Registration::napis`], the callbacks), so none outlives it.
//!
//! The callbacks get what their context allows: `ndo_open`/`ndo_stop` and
//! `set_channels` an [`Rtnl`] proof (process context, serialised), which
//! enabling and disabling NAPI and changing the queue count need; `ndo_start_xmit` a [`BhContext`] (bottom halves
//! disabled), which raising an interrupt needs, and the [`TxQueue`] the
//! core locked for the frame, the only way to stop a queue: a driver
//! stops it when its ring is full and wakes it ([`Device::wake_tx_queue`])
//! when there is room again.
//!
//! ```
//! use crate::rnm::{
//!     bh::{BhContext, IrqContext},
//!     net::{
//!         device::{Device, DeviceOps, Napis, Registration, Rtnl, TxQueue},
//!         ethtool::EthtoolOps,
//!         napi::{Napi, Poll, PollContext, Poller},
//!         skb::SkBuff,
//!     },
//! };
//! use kernel::prelude::*;
//!
//! /// A receive queue that never has frames.
//! struct Queue;
//!
//! impl Poller for Queue {
//!     fn poll<'a>(_napi: &'a Napi<Self>, ctx: PollContext<'a>) -> Poll<'a> {
//!         ctx.complete()
//!     }
//!
//!     fn completed(napi: &Napi<Self>, _bh: &BhContext) {
//!         napi.unmask_irq();
//!     }
//!
//!     fn interrupt(napi: &Napi<Self>, irq: &IrqContext, _remote: bool) {
//!         napi.schedule(irq);
//!     }
//! }
//!
//! /// A device that drops what it transmits.
//! struct Sink;
//!
//! #[vtable]
//! impl EthtoolOps for Sink {
//!     const DRIVER_NAME: &'static CStr = c"sink";
//! }
//!
//! #[vtable]
//! impl DeviceOps for Sink {
//!     type Queue = Queue;
//!
//!     fn open(_dev: &Device, _data: &Self, napis: &Napis<Queue>, rtnl: &Rtnl) -> Result {
//!         for napi in napis {
//!             napi.enable(rtnl);
//!         }
//!         Ok(())
//!     }
//!
//!     fn stop(_dev: &Device, _data: &Self, napis: &Napis<Queue>, rtnl: &Rtnl) -> Result {
//!         for napi in napis {
//!             napi.disable(rtnl);
//!         }
//!         Ok(())
//!     }
//!
//!     fn start_xmit(
//!         _dev: &Device,
//!         _data: &Self,
//!         skb: SkBuff,
//!         _txq: &TxQueue<'_>,
//!         _bh: &BhContext,
//!     ) {
//!         drop(skb);
//!     }
//! }
//!
//! // Two queues, a NAPI context each, owned by the device.
//! let reg = Registration::<Sink>::new(c"sink%d", 2, |dev| {
//!     for _ in 0..2 {
//!         dev.add_napi(64, Queue)?;
//!     }
//!     Ok(Sink)
//! })?;
//! assert_eq!(reg.napis().len(), 2);
//! ```
//!
//! Moving a device into another network namespace (`ip link set DEV netns
//! NS`) needs nothing from the driver: the device is not namespace-local,
//! and when its namespace goes away the core moves it back to the initial
//! namespace (the device has no `rtnl_link_ops`).

use crate::rnm::{
    bh::BhContext,
    bindings, bus,
    net::{
        ethtool,
        napi::{Napi, Poller},
        skb::SkBuff,
        xdp::{ProgSlot, XdpFrames},
    },
};
use core::{
    marker::PhantomData,
    ptr::{self, NonNull},
};
use kernel::{
    error::{to_result, VTABLE_DEFAULT_ERROR},
    prelude::*,
    sync::atomic::{atomic_load, Relaxed},
    types::Opaque,
};

/// A network device, borrowed.
///
/// # Invariants
///
/// The wrapped `net_device` is valid (allocated, not yet freed) for the
/// lifetime of the reference.
#[repr(transparent)]
pub struct Device(Opaque<bindings::net_device>);

impl Device {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `net_device` that outlives `'a`.
    pub(in crate::rnm) unsafe fn from_raw<'a>(ptr: *mut bindings::net_device) -> &'a Self {
        // SAFETY: `Device` is a transparent wrapper of `net_device`; the
        // caller guarantees validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// The raw `net_device`, valid for the lifetime of `self`.
    pub(in crate::rnm) fn as_raw(&self) -> *mut bindings::net_device {
        self.0.get()
    }

    /// Whether the interface is up (`netif_running`).  Any context.
    #[inline]
    pub fn is_running(&self) -> bool {
        // `test_bit(__LINK_STATE_START, &dev->state)` as the generic
        // `test_bit()` reads it, with a volatile load of the word (a
        // `READ_ONCE()`), inline: the transmit path asks for every frame,
        // and out of the kernel tree `netif_running()` is a call to a C
        // helper.  Not a `core` atomic load: the kernel sets and clears
        // the bit with atomic operations that may be narrower than the
        // word (a byte on x86), which the kernel memory model allows and
        // Rust's atomics do not.
        // SAFETY: the device is valid by the type invariant, so `state`
        // is an aligned, initialised `unsigned long`; a volatile read of it
        // races only with the kernel's atomic bit operations, as
        // `test_bit()` does.
        let state = unsafe { ptr::read_volatile(ptr::addr_of!((*self.as_raw()).state)) };
        state & (1 << bindings::netdev_state_t___LINK_STATE_START) != 0
    }

    /// The device's features (`dev->features`, `NETIF_F_*` bits), read
    /// once (they change under RTNL).
    #[inline]
    fn features(&self) -> u64 {
        // The core writes the features under RTNL with plain aligned
        // stores, which its datapath reads without a lock (`veth_xmit()`);
        // this reads them once, atomically (`READ_ONCE()`): the old value
        // or the new one.
        // SAFETY: the device is valid (type invariant); see above.
        unsafe { atomic_load(ptr::addr_of_mut!((*self.as_raw()).features), Relaxed) }
    }

    /// Whether the stack hands the device TCP aggregates to transmit
    /// (TSO: any of `NETIF_F_ALL_TSO` in its features, `ethtool -k`:
    /// `tcp-segmentation-offload`).  Any context.
    #[inline]
    pub fn has_tso(&self) -> bool {
        const ALL_TSO: u64 = 1 << bindings::NETIF_F_TSO_BIT
            | 1 << bindings::NETIF_F_TSO6_BIT
            | 1 << bindings::NETIF_F_TSO_ECN_BIT
            | 1 << bindings::NETIF_F_TSO_MANGLEID_BIT;
        self.features() & ALL_TSO != 0
    }

    /// Whether the device's GRO merges forwarded UDP
    /// (`NETIF_F_GRO_FRAGLIST` or `NETIF_F_GRO_UDP_FWD`, `ethtool -K DEV
    /// rx-gro-list on` or `rx-udp-gro-forwarding on`).  Any context.
    #[inline]
    pub fn has_udp_gro_fwd(&self) -> bool {
        const UDP_FWD: u64 =
            1 << bindings::NETIF_F_GRO_FRAGLIST_BIT | 1 << bindings::NETIF_F_GRO_UDP_FWD_BIT;
        self.features() & UDP_FWD != 0
    }

    /// The MTU in bytes (`dev->mtu`).  Any context.
    pub fn mtu(&self) -> u32 {
        // SAFETY: the device is valid by the type invariant.
        unsafe { bindings::rnm_netdev_mtu(self.as_raw()) }
    }

    /// Turns the carrier on (`netif_carrier_on`).  Does nothing on a
    /// device that is being unregistered or whose registration failed (see
    /// [`Registration::register`]).
    pub fn carrier_on(&self) {
        // SAFETY: the device is valid by the type invariant.
        unsafe { bindings::rnm_netif_carrier_on(self.as_raw()) };
    }

    /// Turns the carrier off (`netif_carrier_off`).  Does nothing on a
    /// device that is being unregistered or whose registration failed.
    pub fn carrier_off(&self) {
        // SAFETY: the device is valid by the type invariant.
        unsafe { bindings::rnm_netif_carrier_off(self.as_raw()) };
    }

    /// Sets the number of transmit and receive queues the stack uses
    /// (`netif_set_real_num_queues`, both to `queues`): the stack picks
    /// transmit queues below it, and the queues' sysfs directories and
    /// netlink `queue-get` entries above it go.  Queues below the count
    /// keep their settings; a transmit already under way may still use a
    /// queue above it (see [`super::synchronize_net`]).
    ///
    /// Errors: `EINVAL` if `queues` is 0 or more than the device was
    /// allocated with ([`Registration::new`]), `ENOMEM` (nothing changed).
    /// Process context, under RTNL.
    pub fn set_real_num_queues(&self, queues: u32, _rtnl: &Rtnl) -> Result {
        // SAFETY: the device is valid by the type invariant and RTNL is
        // held (the proof), which the core asserts for a registered device
        // without an instance lock; the counts are checked by the callee.
        to_result(unsafe { bindings::netif_set_real_num_queues(self.as_raw(), queues, queues) })
    }

    /// Prepares a frame that `from` transmitted to be received on this
    /// device, as `__dev_forward_skb` does: checks that the device can take
    /// it (up, frame within its MTU), scrubs it (its route, conntrack entry
    /// and extensions; crossing from `from`'s namespace into another also
    /// its mark and timestamp), sets `skb->dev` and the protocol
    /// (`eth_type_trans`).  The outer VLAN tag, as a NIC with this
    /// device's receive VLAN offloads (`ethtool -k`: `rx-vlan-offload`,
    /// `rx-vlan-stag-hw-parse`; off on a device without
    /// [`DeviceOps::VLAN_OFFLOADS`]) delivers it: with the offload of its
    /// protocol on, out of band (`skb->vlan_tci`), taken out of the frame
    /// if the sender's stack put it in; with it off, in the frame, put in
    /// if the sender's stack left it out (`from`'s transmit VLAN offload).
    /// `from` is the device the frame's namespace is taken from, whatever
    /// `skb->dev` was: that pointer holds no reference, and the device it
    /// named may be gone by now (a frame kept after its device was
    /// unregistered).  Another device than the one that sent it changes
    /// only what is scrubbed.  Bottom halves disabled (`_bh`): a dropped
    /// frame is freed, and a scrubbed one drops its conntrack entry,
    /// neither of which may happen in hard interrupt context.
    ///
    /// Returns the frame (a copy of it if it was shared and its tag had to
    /// be taken out), or `None` if it was dropped (not receivable: down,
    /// or longer than the MTU allows, which counts a tag put in; or no
    /// memory to move the tag): counted in the device's core
    /// `rx_dropped`.
    ///
    /// C: `__dev_forward_skb` in [`net/core/dev.c`](srctree/net/core/dev.c),
    /// `__vlan_hwaccel_push_inside` in
    /// [`include/linux/if_vlan.h`](srctree/include/linux/if_vlan.h),
    /// `skb_vlan_untag` in [`net/core/skbuff.c`](srctree/net/core/skbuff.c).
    pub fn forward(&self, skb: SkBuff, from: &Device, _bh: &BhContext) -> Option<SkBuff> {
        // The helper sets `skb->dev` to `from` before `__dev_forward_skb`
        // reads it; a dropped buffer is freed with bottom halves disabled.
        let raw = skb.into_raw();
        // SAFETY: both devices are valid while borrowed; `raw` is owned,
        // freed by the callee on failure (BHs off: `_bh`).
        let ret = unsafe { bindings::rnm_dev_forward_skb(self.as_raw(), from.as_raw(), raw) };
        if ret.is_null() {
            return None;
        }
        // SAFETY: a non-null return is the buffer, whose reference is
        // still ours.
        unsafe { SkBuff::from_raw(ret) }
    }

    /// Wakes transmit queue `i` (`netif_tx_wake_queue`) if it is stopped
    /// (see [`TxQueue::try_stop`]): the core sends its frames again, those
    /// its qdisc held first.  Returns whether it was stopped: of callers
    /// that race, one sees each stop.  `false` for a queue the device does
    /// not have.  Any context.
    ///
    /// C: `netif_tx_wake_queue` in [`net/core/dev.c`](srctree/net/core/dev.c).
    pub fn wake_tx_queue(&self, i: u32) -> bool {
        // SAFETY: the device is valid (type invariant); the helper checks
        // `i` against the queues it was allocated with.
        unsafe { bindings::rnm_netif_tx_wake_queue(self.as_raw(), i) }
    }
}

/// The transmit queue a frame is sent on (`struct netdev_queue`), lent to
/// [`DeviceOps::start_xmit`] for that call only, while the core holds the
/// queue's transmit lock, with bottom halves disabled under the RCU read
/// lock (`rcu_read_lock_bh()` in `__dev_queue_xmit()`).
///
/// # Invariants
///
/// `index` is the queue the core picked for the frame of the call (the
/// frame's queue mapping) of `dev`, which is valid for `'a`; `'a` does
/// not outlive the call of `ndo_start_xmit`, so the RCU-bh section the
/// core holds it in lasts as long.
pub struct TxQueue<'a> {
    dev: &'a Device,
    index: u16,
}

impl TxQueue<'_> {
    /// The queue's index (the frame's queue mapping).
    pub fn index(&self) -> u16 {
        self.index
    }

    /// Stops the queue (`netif_tx_stop_queue`), as a NIC driver does when
    /// its transmit ring has no room for another frame after this one:
    /// the core then sends nothing on it, its qdisc holding the frames,
    /// until [`Device::wake_tx_queue`] wakes it (the driver must, once
    /// there is room again).  The frame of this call is the driver's
    /// still, sent or dropped by it as usual (this is not `NETDEV_TX_BUSY`,
    /// which the kernel's drivers do not return).
    ///
    /// Returns whether it stopped the queue now: not if it is stopped
    /// already (so that each stop is seen once, and woken once), nor if no
    /// qdisc holds frames for it (`noqueue`, the default of a virtual
    /// device, for which the core would drop every frame while it is
    /// stopped), nor while the device is deactivated (`noop_qdisc`: going
    /// down, carrier lost, qdisc being replaced).  The driver then drops
    /// what it has no room for.
    ///
    /// C: `netif_tx_stop_queue` in
    /// [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h).
    pub fn try_stop(&self) -> bool {
        // SAFETY: the device is valid and `index` its queue of this call,
        // whose qdisc the helper reads under the core's RCU-bh section,
        // which lasts as long as `self` (type invariants).
        unsafe { bindings::rnm_netif_tx_try_stop(self.dev.as_raw(), self.index) }
    }
}

/// Interface counters reported by [`DeviceOps::get_stats64`].
#[derive(Default, Clone, Copy)]
pub struct Stats64 {
    /// Frames received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames dropped on receive.
    pub rx_dropped: u64,
    /// Frames transmitted.
    pub tx_packets: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Frames dropped on transmit.
    pub tx_dropped: u64,
}

/// Counters of one receive queue, or the base of a device's (what its live
/// receive queues do not hold), for the netdev netlink family's
/// `qstats-get` (`struct netdev_queue_stats_rx`, see
/// [`include/net/netdev_queues.h`](srctree/include/net/netdev_queues.h)
/// and the family's specification,
/// `Documentation/netlink/specs/netdev.yaml`, for what each counts).
///
/// The core marks every counter as not collected before it asks; those
/// the driver sets are reported, the others are left out.  Lent to
/// [`DeviceOps::queue_stats_rx`] and [`DeviceOps::base_stats`] for the
/// duration of the call only.
pub struct QueueStatsRx<'a>(&'a mut bindings::netdev_queue_stats_rx);

/// Counters of one transmit queue, or the base of a device's, for
/// `qstats-get` (`struct netdev_queue_stats_tx`); as [`QueueStatsRx`].
pub struct QueueStatsTx<'a>(&'a mut bindings::netdev_queue_stats_tx);

/// The setters of a statistics type: each sets one `u64` counter of the
/// C struct it borrows, reported as the netlink attribute its doc names.
macro_rules! counter_setters {
    ($ty:ident { $($(#[$doc:meta])* $set:ident => $field:ident,)* }) => {
        impl $ty<'_> {
            $(
                $(#[$doc])*
                pub fn $set(&mut self, v: u64) {
                    self.0.$field = v;
                }
            )*
        }
    };
}

counter_setters!(QueueStatsRx {
    /// `rx-packets`: frames received and passed to the stack, XDP being
    /// the first layer of the stack: frames an XDP program consumed count
    /// too.
    set_packets => packets,
    /// `rx-bytes`: bytes of the frames [`QueueStatsRx::set_packets`]
    /// counts, from the Ethernet header on (as the interface's `rx_bytes`).
    set_bytes => bytes,
    /// `rx-hw-drops`: frames that entered the device but never left it:
    /// no room, device down, errors.
    set_hw_drops => hw_drops,
    /// `rx-hw-drop-overruns`: of [`QueueStatsRx::set_hw_drops`], those for
    /// want of room (a full ring).
    set_hw_drop_overruns => hw_drop_overruns,
    /// `rx-alloc-fail`: buffers the driver could not allocate for the
    /// queue.
    set_alloc_fail => alloc_fail,
});

counter_setters!(QueueStatsTx {
    /// `tx-packets`: frames sent.
    set_packets => packets,
    /// `tx-bytes`: bytes of the frames [`QueueStatsTx::set_packets`]
    /// counts, from the Ethernet header on (as the interface's `tx_bytes`).
    set_bytes => bytes,
    /// `tx-hw-drops`: frames the device took from the stack but never
    /// sent.
    set_hw_drops => hw_drops,
    /// `tx-hw-drop-errors`: of [`QueueStatsTx::set_hw_drops`], those that
    /// were invalid or malformed.
    set_hw_drop_errors => hw_drop_errors,
    /// `tx-stop`: times the driver stopped the queue for want of room
    /// ([`TxQueue::try_stop`]).
    set_stop => stop,
    /// `tx-wake`: times the driver woke the queue
    /// ([`Device::wake_tx_queue`]).
    set_wake => wake,
});

/// Proof that the caller holds the RTNL lock: process context, serialised
/// with every other holder (`ndo_open`, `ndo_stop`, `set_channels`).
///
/// Only the abstractions create one, for the duration of a callback the
/// core calls under RTNL; leaf code gets it by reference.
///
/// # Invariants
///
/// While a `&Rtnl` is usable, RTNL is held by the current task.
pub struct Rtnl(PhantomData<*mut ()>);

// The abstractions are compiled into the crate of the module that uses
// them, where the orphan rule does not keep that module from implementing
// `Drop` or `Copy` for their types: this (empty) implementation rules out
// both (E0119, E0184).
impl Drop for Rtnl {
    #[inline(always)]
    fn drop(&mut self) {}
}

impl Rtnl {
    /// Creates the proof.
    ///
    /// # Safety
    ///
    /// RTNL must be held by the current task for as long as the value
    /// lives; the caller lends it only by reference.
    unsafe fn new() -> Self {
        // INVARIANT: by the safety requirements.
        Self(PhantomData)
    }
}

/// The NAPI contexts of a device, in the order they were added.
pub type Napis<Q> = [Pin<KBox<Napi<Q>>>];

/// The `net_device_ops` of a driver; `Self` is the device's private data.
///
/// Implementations carry `#[vtable]`: the `ethtool` operations the driver
/// does not implement ([`DeviceOps::set_channels`]) are left out for the
/// core to refuse.
#[vtable]
pub trait DeviceOps: ethtool::EthtoolOps + Send + Sync + Sized + 'static {
    /// The per-queue data of the device's NAPI contexts, and their poll
    /// and interrupt callbacks.
    type Queue: Poller;

    /// The interface is brought up (`ndo_open`): typically enables the
    /// NAPI contexts ([`Napi::enable`]).  Process context, under RTNL.
    ///
    /// Errors: any, passed to the core, which then leaves the interface
    /// down; every NAPI context is disabled then.
    fn open(_dev: &Device, _data: &Self, _napis: &Napis<Self::Queue>, _rtnl: &Rtnl) -> Result {
        Ok(())
    }

    /// The interface is brought down (`ndo_stop`).  Process context, under
    /// RTNL.  Every NAPI context is disabled after it returns (and
    /// [`Napi::enable`] does nothing while the interface is down), so
    /// disabling them here ([`Napi::disable`]) only chooses the moment.
    /// A poll that a pending disable cut short leaves the interrupt line
    /// masked: `open` unmasks it if need be.
    ///
    /// Errors: any; the core ignores them (the interface goes down).
    fn stop(_dev: &Device, _data: &Self, _napis: &Napis<Self::Queue>, _rtnl: &Rtnl) -> Result {
        Ok(())
    }

    /// Transmits `skb` (`ndo_start_xmit`).  The frame is consumed: handed
    /// on or dropped (and counted) by the driver.  Its software transmit
    /// timestamp (`skb_tx_timestamp()`, for the sockets that asked for
    /// one with `SOF_TIMESTAMPING_TX_SOFTWARE`) is taken before this is
    /// called, as the device's `ethtool -T` reports.  Called in softirq or
    /// process context with bottom halves disabled (`bh`), under the RCU
    /// read lock; calls for one transmit queue are serialised by the
    /// queue's transmit lock (the device is not `lltx`).  Never with
    /// interrupts disabled: the device has `IFF_DISABLE_NETPOLL`, so netpoll
    /// (netconsole), which transmits so from any context, refuses it.
    ///
    /// `txq` is the transmit queue the core picked (the frame's queue
    /// mapping), lent for the call: a driver whose ring has no room for
    /// the next frame stops it ([`TxQueue::try_stop`]) and wakes it when
    /// there is ([`Device::wake_tx_queue`]).
    fn start_xmit(dev: &Device, data: &Self, skb: SkBuff, txq: &TxQueue<'_>, bh: &BhContext);

    /// Reports the interface counters (`ndo_get_stats64`).  Any context
    /// but hard interrupt: the core calls it in process context, under
    /// the RCU read lock (`/proc/net/dev`) or a spinlock (a bond reading
    /// its members), so it must not sleep.
    fn get_stats64(_dev: &Device, _data: &Self) -> Stats64 {
        Stats64::default()
    }

    /// Sets the counters of receive queue `idx` that the driver keeps
    /// (`qstats-get` with queue scope, `get_queue_stats_rx` of
    /// `netdev_stat_ops`).  The core asks for the queues in use, below the
    /// count of [`Device::set_real_num_queues`]; an `idx` the driver has
    /// no queue for gets nothing set, and a queue whose counters are all
    /// left unset is left out of the dump.  Implementing it (or
    /// [`DeviceOps::queue_stats_tx`], [`DeviceOps::base_stats`]) installs
    /// the device's `stat_ops`; a device-scope `qstats-get` needs
    /// [`DeviceOps::base_stats`].  Process context, under RTNL (it may sleep).
    ///
    /// Counters are reported as the interface's (`ndo_get_stats64`) when
    /// the base and every queue in use are added up, which `qstats-get`
    /// of the whole device does: they must agree with
    /// [`DeviceOps::get_stats64`].
    fn queue_stats_rx(_dev: &Device, _data: &Self, _idx: u32, _stats: &mut QueueStatsRx<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// As [`DeviceOps::queue_stats_rx`], for transmit queue `idx`
    /// (`get_queue_stats_tx`).
    fn queue_stats_tx(_dev: &Device, _data: &Self, _idx: u32, _stats: &mut QueueStatsTx<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Sets the device's base counters (`get_base_stats`): what the queues
    /// in use do not hold, such as the counts of queues no longer in use,
    /// so that the base and those queues add up to the device's totals.
    /// A counter it sets (even to 0) is reported for the whole device; one
    /// it leaves is not, as no total is kept.  Process context, under RTNL;
    /// the core asks for the queues in the same hold of the lock.
    fn base_stats(
        _dev: &Device,
        _data: &Self,
        _rx: &mut QueueStatsRx<'_>,
        _tx: &mut QueueStatsTx<'_>,
    ) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Sets the number of combined channels to `combined` (`ethtool -L`,
    /// `set_channels`), already checked by the core to be 1 up to the
    /// `max_combined` that [`ethtool::EthtoolOps::channels`] (which must be
    /// implemented too: the build fails otherwise) reports, with no
    /// separate rx, tx or other channels.  Typically disables the NAPI
    /// contexts of the channels that go and enables those that come (if
    /// the interface is up), and sets the queue count
    /// ([`Device::set_real_num_queues`]).  Process context, under RTNL; the
    /// interface may be up or down.
    ///
    /// Errors: any, passed to `ethtool`; on error the channels must be as
    /// before.  Not implemented: the core answers `EOPNOTSUPP`.
    fn set_channels(
        _dev: &Device,
        _data: &Self,
        _napis: &Napis<Self::Queue>,
        _combined: u32,
        _rtnl: &Rtnl,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Validates a new MTU (`ndo_change_mtu`); on success the MTU is set.
    /// The core has already checked it against the device's limits, and
    /// the abstraction against [`xdp::max_mtu`](super::xdp::max_mtu) (or
    /// [`xdp::max_mtu_frags`](super::xdp::max_mtu_frags) for a program with
    /// frags) if an XDP program is attached.  Process context, under
    /// RTNL.
    fn change_mtu(_dev: &Device, _data: &Self, _new_mtu: u32) -> Result {
        Ok(())
    }

    /// Whether the device takes native XDP programs (`ndo_bpf`,
    /// `XDP_SETUP_PROG`): the abstraction then attaches and detaches them
    /// itself (see [`xdp`](super::xdp)) and advertises `NETDEV_XDP_ACT_BASIC`,
    /// `NETDEV_XDP_ACT_REDIRECT` and `NETDEV_XDP_ACT_RX_SG` (programs with
    /// frags take longer frames in several buffers); the driver's poll
    /// runs them with
    /// [`PollContext::run_xdp`](super::napi::PollContext::run_xdp).
    const XDP: bool = false;

    /// Whether the device offers the VLAN offloads (`ethtool -k`:
    /// `tx-vlan-offload`, `rx-vlan-offload`, `tx-vlan-stag-hw-insert`,
    /// `rx-vlan-stag-hw-parse`, on by default and changeable; not offered
    /// to VLAN devices stacked on it).  With them, [`DeviceOps::start_xmit`]
    /// gets frames whose outer tag is out of band (`skb->vlan_tci`), not in
    /// their data: a driver that hands its frames on with
    /// [`Device::forward`] delivers the tag as the receiving device's own
    /// receive offloads say; one that reads the frame's bytes must not set
    /// this.
    const VLAN_OFFLOADS: bool = false;

    /// Transmits frames redirected to the device by XDP (`ndo_xdp_xmit`),
    /// taking them from `frames` in order: each frame taken is the
    /// driver's (transmitted, or dropped and so freed); those not taken
    /// are freed by the core and counted as errors of the redirect.
    /// Implementing it advertises `NETDEV_XDP_ACT_NDO_XMIT` and
    /// `NETDEV_XDP_ACT_NDO_XMIT_SG`: a frame may have frags
    /// ([`XdpFrame::len`](super::xdp::XdpFrame::len) counts them).  Softirq
    /// context (the flush at the end of another device's NAPI poll), with
    /// bottom halves disabled (`bh`), under the RCU read lock; may run on
    /// several CPUs at once.
    fn xdp_xmit(_dev: &Device, _data: &Self, _frames: &mut XdpFrames<'_>, _bh: &BhContext) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The private area of a device of [`Registration`]: the XDP program
/// first (at the start of the area, where the NAPI polls find it whatever
/// `T` is: [`xdp_slot`]), then the driver's data, then the NAPI contexts,
/// which are dropped after `T`, before the device is freed.
#[repr(C)]
pub(in crate::rnm) struct Private<T: DeviceOps> {
    xdp: ProgSlot,
    data: T,
    napis: KVec<Pin<KBox<Napi<T::Queue>>>>,
}

impl<T: DeviceOps> Private<T> {
    /// The driver's data.
    pub(in crate::rnm) fn data(&self) -> &T {
        &self.data
    }
}

/// The start of the private area of `dev` (`netdev_priv()`, a constant
/// offset into the `net_device`, computed here rather than by a call).
///
/// # Safety
///
/// `dev` must point to a `net_device` allocated by `alloc_netdev_mqs()`.
#[inline]
unsafe fn netdev_priv(dev: *mut bindings::net_device) -> *mut u8 {
    // SAFETY: `dev` points to a `net_device` (safety requirements); the
    // place of its `priv` member is computed without reading or
    // referencing the device, as `netdev_priv()` returns `dev->priv`.
    unsafe { ptr::addr_of_mut!((*dev).priv_).cast::<u8>() }
}

/// The XDP program of `dev`.
///
/// # Safety
///
/// `dev` must be a device of a [`Registration`] whose private area is
/// initialised and stays so for `'a` (true while any of its NAPI
/// contexts polls).
pub(in crate::rnm) unsafe fn xdp_slot<'a>(dev: *mut bindings::net_device) -> &'a ProgSlot {
    // SAFETY: by the safety requirements the private area holds a
    // `Private<T>` for some `T`, whose first field (`#[repr(C)]`) is a
    // `ProgSlot`, at the start of the area.
    unsafe { &*netdev_priv(dev).cast::<ProgSlot>() }
}

/// A device under construction, given to the closure that builds its
/// private data in [`Registration::new`]: NAPI contexts are added to a
/// device only through it, and belong to the device.
pub struct NewDevice<'a, Q: Poller> {
    dev: &'a Device,
    napis: KVec<Pin<KBox<Napi<Q>>>>,
}

impl<Q: Poller> NewDevice<'_, Q> {
    /// Adds a NAPI context with `weight` (1..=[`napi::MAX_WEIGHT`]) and
    /// per-queue data `data`, disabled, with its interrupt line stopped;
    /// [`Registration::napis`] lists the contexts in the order they were
    /// added.  The `i`-th context added is that of channel `i`, receive
    /// queue `i` and transmit queue `i` (combined channels): while the
    /// device is open, those queues name it (the netdev netlink family's
    /// `queue-get`).  The context is added to the device only while it is
    /// enabled ([`Napi::enable`](super::napi::Napi::enable)); its NAPI ID
    /// and per-NAPI settings (`napi-set`) persist across closing and
    /// opening the device.  Process context.
    ///
    /// Errors: `EINVAL` for a weight out of range or if every receive
    /// queue has its context already, `ENOMEM`.
    ///
    /// [`napi::MAX_WEIGHT`]: super::napi::MAX_WEIGHT
    pub fn add_napi(&mut self, weight: u32, data: Q) -> Result {
        let index = u32::try_from(self.napis.len()).map_err(|_| EINVAL)?;
        self.napis.reserve(1, GFP_KERNEL)?;
        // SAFETY: the device is not registered; the context goes into the
        // device's private area (or is dropped on failure) before the
        // device is freed; `index` is that of no other context (one more
        // than the last).
        let napi = unsafe { Napi::new(self.dev, index, weight, data)? };
        self.napis.push(napi, GFP_KERNEL)?;
        Ok(())
    }
}

pub(in crate::rnm) struct Adapter<T: DeviceOps>(PhantomData<T>);

impl<T: DeviceOps> Adapter<T> {
    /// # Safety
    ///
    /// `dev` must be a device allocated by [`Registration::new`] for `T`
    /// whose private data is initialised (true for every callback).
    pub(in crate::rnm) unsafe fn parts<'a>(
        dev: *mut bindings::net_device,
    ) -> (&'a Device, &'a Private<T>) {
        // SAFETY: by the safety requirements `dev` is valid and its private
        // area holds an initialised `Private<T>`, both for as long as
        // callbacks run.
        unsafe {
            (
                Device::from_raw(dev),
                &*netdev_priv(dev).cast::<Private<T>>(),
            )
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn open(dev: *mut bindings::net_device) -> c_int {
        // SAFETY: the core calls `ndo_open` on a live, registered device.
        let (d, p) = unsafe { Self::parts(dev) };
        // SAFETY: the core calls `ndo_open` under RTNL, until we return.
        let rtnl = unsafe { Rtnl::new() };
        match T::open(d, &p.data, &p.napis, &rtnl) {
            Ok(()) => 0,
            Err(e) => {
                // The device stays down: no context may stay enabled.
                Self::disable_napis(p, &rtnl);
                e.to_errno()
            }
        }
    }

    /// The `set_channels` ethtool callback (installed by
    /// [`ethtool::Adapter`] for a driver that implements
    /// [`DeviceOps::set_channels`]).
    ///
    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    pub(in crate::rnm) unsafe extern "C" fn set_channels(
        dev: *mut bindings::net_device,
        ch: *mut bindings::ethtool_channels,
    ) -> c_int {
        // SAFETY: the ethtool core calls `set_channels` on a live,
        // registered device.
        let (d, p) = unsafe { Self::parts(dev) };
        // SAFETY: `ch` points to a readable `ethtool_channels`.
        let ch = unsafe { &*ch };
        // The core checked the counts against the maxima `get_channels`
        // gave (no rx, tx or other channels); checked again, as the
        // trait's documentation promises.
        if ch.rx_count != 0 || ch.tx_count != 0 || ch.other_count != 0 || ch.combined_count == 0 {
            return EINVAL.to_errno();
        }
        // The ioctl (`__dev_ethtool`) and the netlink request take RTNL
        // for a device without the instance lock, which these devices never
        // request (no `request_ops_lock`, queue management or shaper ops);
        // the ops ask for it anyway (`ETHTOOL_OP_NEEDS_RTNL_SCHANNELS`).
        // SAFETY: so the core calls `set_channels` under RTNL, until we
        // return.
        let rtnl = unsafe { Rtnl::new() };
        match T::set_channels(d, &p.data, &p.napis, ch.combined_count, &rtnl) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn stop(dev: *mut bindings::net_device) -> c_int {
        // SAFETY: the core calls `ndo_stop` on a live, registered device.
        let (d, p) = unsafe { Self::parts(dev) };
        // SAFETY: the core calls `ndo_stop` under RTNL, until we return.
        let rtnl = unsafe { Rtnl::new() };
        let ret = T::stop(d, &p.data, &p.napis, &rtnl);
        // Whatever `stop` did: no poll may run on a closed device (nor
        // after its unregistration, which closes it first).
        Self::disable_napis(p, &rtnl);
        match ret {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// Disables every NAPI context of the device (those disabled already
    /// stay so).
    fn disable_napis(p: &Private<T>, rtnl: &Rtnl) {
        for napi in p.napis.iter() {
            napi.disable(rtnl);
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn start_xmit(
        skb: *mut bindings::sk_buff,
        dev: *mut bindings::net_device,
    ) -> bindings::netdev_tx_t {
        // SAFETY: the core calls `ndo_start_xmit` on a live device.
        let (d, p) = unsafe { Self::parts(dev) };
        // SAFETY: the core transmits with bottom halves disabled
        // (`rcu_read_lock_bh` in `__dev_queue_xmit`; netpoll, which may
        // not, is disabled on these devices), until we return.
        let bh = unsafe { BhContext::new() };
        // SAFETY: the core hands us its reference to `skb`.
        if let Some(mut skb) = unsafe { SkBuff::from_raw(skb) } {
            // INVARIANT: the queue the core picked for the frame (its
            // mapping), whose transmit lock it holds until we return, in
            // its RCU-bh section; lent for the call.
            let txq = TxQueue {
                dev: d,
                index: skb.queue_mapping(),
            };
            // The frame is the device's from here on: its software transmit
            // timestamp is taken now, as veth takes it before forwarding,
            // so that every device reports `SOF_TIMESTAMPING_TX_SOFTWARE`
            // (`get_ts_info`) truthfully, whatever its driver then does.
            skb.tx_timestamp();
            T::start_xmit(d, &p.data, skb, &txq, &bh);
        }
        bindings::netdev_tx_NETDEV_TX_OK
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn get_stats64(
        dev: *mut bindings::net_device,
        storage: *mut bindings::rtnl_link_stats64,
    ) {
        // SAFETY: the core calls `ndo_get_stats64` on a live device.
        let (d, p) = unsafe { Self::parts(dev) };
        let s = T::get_stats64(d, &p.data);
        // SAFETY: `storage` points to a writable `rtnl_link_stats64`.
        let st = unsafe { &mut *storage };
        st.rx_packets = s.rx_packets;
        st.rx_bytes = s.rx_bytes;
        st.rx_dropped = s.rx_dropped;
        st.tx_packets = s.tx_packets;
        st.tx_bytes = s.tx_bytes;
        st.tx_dropped = s.tx_dropped;
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn queue_stats_rx(
        dev: *mut bindings::net_device,
        idx: c_int,
        stats: *mut bindings::netdev_queue_stats_rx,
    ) {
        // SAFETY: the core asks for statistics of a live, registered
        // device (`netdev_nl_stats_by_queue`, `netdev_stat_queue_sum`).
        let (d, p) = unsafe { Self::parts(dev) };
        let Ok(idx) = u32::try_from(idx) else {
            return;
        };
        // SAFETY: `stats` points to the caller's `netdev_queue_stats_rx`,
        // writable and not otherwise accessed until we return; every bit
        // pattern of its `u64`s is valid.
        let mut stats = QueueStatsRx(unsafe { &mut *stats });
        T::queue_stats_rx(d, &p.data, idx, &mut stats);
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn queue_stats_tx(
        dev: *mut bindings::net_device,
        idx: c_int,
        stats: *mut bindings::netdev_queue_stats_tx,
    ) {
        // SAFETY: as in `queue_stats_rx`.
        let (d, p) = unsafe { Self::parts(dev) };
        let Ok(idx) = u32::try_from(idx) else {
            return;
        };
        // SAFETY: as in `queue_stats_rx`, for a `netdev_queue_stats_tx`.
        let mut stats = QueueStatsTx(unsafe { &mut *stats });
        T::queue_stats_tx(d, &p.data, idx, &mut stats);
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn base_stats(
        dev: *mut bindings::net_device,
        rx: *mut bindings::netdev_queue_stats_rx,
        tx: *mut bindings::netdev_queue_stats_tx,
    ) {
        // SAFETY: as in `queue_stats_rx`.
        let (d, p) = unsafe { Self::parts(dev) };
        // SAFETY: `rx` and `tx` point to the caller's two (distinct)
        // sums, writable and not otherwise accessed until we return.
        let (mut rx, mut tx) = unsafe { (QueueStatsRx(&mut *rx), QueueStatsTx(&mut *tx)) };
        T::base_stats(d, &p.data, &mut rx, &mut tx);
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn change_mtu(dev: *mut bindings::net_device, new_mtu: c_int) -> c_int {
        // SAFETY: the core calls `ndo_change_mtu` under RTNL on a live device.
        let (d, p) = unsafe { Self::parts(dev) };
        let Ok(mtu) = u32::try_from(new_mtu) else {
            return EINVAL.to_errno();
        };
        // An attached XDP program takes frames up to its limit only; the
        // program is attached and detached under RTNL too.
        // SAFETY: the core holds RTNL.
        if unsafe { p.xdp.max_mtu() }.is_some_and(|max| mtu > max) {
            return EINVAL.to_errno();
        }
        match T::change_mtu(d, &p.data, mtu) {
            Ok(()) => {
                // SAFETY: `dev` is valid; the core expects the driver to
                // store the new MTU.
                unsafe { bindings::rnm_netdev_set_mtu(dev, mtu) };
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn bpf(
        dev: *mut bindings::net_device,
        bpf: *mut bindings::netdev_bpf,
    ) -> c_int {
        // SAFETY: the core calls `ndo_bpf` on a live, registered device
        // (or while unregistering it, before its private data goes).
        let (d, p) = unsafe { Self::parts(dev) };
        // SAFETY: `bpf` points to the command the core built for this call.
        if !unsafe { bindings::rnm_netdev_bpf_is_setup_prog(bpf) } {
            return EINVAL.to_errno();
        }
        // SAFETY: as above.
        let prog = unsafe { bindings::rnm_netdev_bpf_prog(bpf) };
        // SAFETY: as above, `prog` (a program `dev_xdp_install` holds a
        // reference to) is valid if not null.
        if !prog.is_null() && d.mtu() > unsafe { bindings::rnm_xdp_prog_max_mtu(prog) } {
            // SAFETY: as above; the message goes to the command's extack.
            unsafe { bindings::rnm_netdev_bpf_mtu_error(bpf) };
            return EINVAL.to_errno();
        }
        // `dev_xdp_install` calls `ndo_bpf` under RTNL (these devices have
        // no instance lock), which also serialises it with `ndo_change_mtu`,
        // and took a reference to `prog` that it puts only if we fail.
        // SAFETY: RTNL is held; the reference passes to the slot.
        unsafe { p.xdp.replace(prog) };
        0
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn xdp_xmit(
        dev: *mut bindings::net_device,
        n: c_int,
        frames: *mut *mut bindings::xdp_frame,
        flags: u32,
    ) -> c_int {
        // `XDP_XMIT_FLUSH` is the only flag; frames are delivered at once.
        if flags & !bindings::XDP_XMIT_FLUSH != 0 {
            return EINVAL.to_errno();
        }
        let Ok(n) = usize::try_from(n) else {
            return EINVAL.to_errno();
        };
        // SAFETY: the core calls `ndo_xdp_xmit` on a live device.
        let (d, p) = unsafe { Self::parts(dev) };
        // SAFETY: the callers (the flush of a redirect, at the end of a
        // NAPI poll or of a `BPF_PROG_TEST_RUN` batch) run with bottom
        // halves disabled, until we return.
        let bh = unsafe { BhContext::new() };
        // SAFETY: `frames` holds `n` valid frames, the core's until the
        // driver takes them; what is taken is reported back below.
        let mut frames = unsafe { XdpFrames::new(core::slice::from_raw_parts(frames, n)) };
        T::xdp_xmit(d, &p.data, &mut frames, &bh);
        // At most `n`, which came as a `c_int`.
        frames.taken() as c_int
    }

    const OPS: bindings::net_device_ops = bindings::net_device_ops {
        ndo_open: Some(Self::open),
        ndo_stop: Some(Self::stop),
        ndo_start_xmit: Some(Self::start_xmit),
        ndo_get_stats64: Some(Self::get_stats64),
        ndo_change_mtu: Some(Self::change_mtu),
        ndo_bpf: if T::XDP { Some(Self::bpf) } else { None },
        ndo_xdp_xmit: if T::HAS_XDP_XMIT {
            Some(Self::xdp_xmit)
        } else {
            None
        },
        ..pin_init::zeroed()
    };

    const fn ops() -> &'static bindings::net_device_ops {
        &Self::OPS
    }

    /// Whether the driver reports per-queue statistics.
    const HAS_STAT_OPS: bool = T::HAS_QUEUE_STATS_RX || T::HAS_QUEUE_STATS_TX || T::HAS_BASE_STATS;

    const STAT_OPS: bindings::netdev_stat_ops = bindings::netdev_stat_ops {
        get_queue_stats_rx: if T::HAS_QUEUE_STATS_RX {
            Some(Self::queue_stats_rx)
        } else {
            None
        },
        get_queue_stats_tx: if T::HAS_QUEUE_STATS_TX {
            Some(Self::queue_stats_tx)
        } else {
            None
        },
        get_base_stats: if T::HAS_BASE_STATS {
            Some(Self::base_stats)
        } else {
            None
        },
    };

    const fn stat_ops() -> &'static bindings::netdev_stat_ops {
        &Self::STAT_OPS
    }
}

/// A network device owned by its driver, with private data `T`.
///
/// # Invariants
///
/// `dev` was allocated by `alloc_netdev_mqs` with room for a `Private<T>`
/// in its private area, which holds an initialised `Private<T>` until
/// `drop`; its NAPI contexts were created for `dev` (`Napi::new`).  If
/// `registered`, the device is registered; if `failed`, its registration
/// failed and it is not registered.
pub struct Registration<T: DeviceOps> {
    dev: NonNull<bindings::net_device>,
    registered: bool,
    failed: bool,
    _p: PhantomData<T>,
}

// SAFETY: the registration owns the device, which is not tied to the
// creating thread: it can be unregistered and freed from any thread (in
// process context, as `Drop` requires anyway), dropping `T` and the NAPI
// contexts there, which are `Send`.
unsafe impl<T: DeviceOps> Send for Registration<T> {}
// SAFETY: `&Registration` gives only `&Device` (whose methods may run
// concurrently: the core locks or reads the fields they touch atomically),
// `&T` and `&Napi`, which are `Sync`.
unsafe impl<T: DeviceOps> Sync for Registration<T> {}

impl<T: DeviceOps> Registration<T> {
    /// Allocates an Ethernet device named `name` (a `%d` pattern or a
    /// fixed name) with `queues` transmit and receive queues, the offloads
    /// of a software device (checksum, scatter-gather, GSO, as veth; the
    /// VLAN offloads with [`DeviceOps::VLAN_OFFLOADS`]), no
    /// qdisc, netpoll disabled, and a random MAC address.  `init` builds
    /// the private data; it adds the device's NAPI contexts through the
    /// [`NewDevice`] it is given.  Process context.
    ///
    /// Errors: `EINVAL` if `name` does not fit in `dev->name` (it has
    /// `IFNAMSIZ`, 16, bytes or more: `alloc_netdev_mqs` would `BUG()`) or
    /// `queues` is 0, `ENOMEM`, or what `init` returns (then its NAPI
    /// contexts are deleted and the device is freed).
    pub fn new(
        name: &CStr,
        queues: u32,
        init: impl FnOnce(&mut NewDevice<'_, T::Queue>) -> Result<T>,
    ) -> Result<Self> {
        if name.to_bytes().len() >= bindings::IFNAMSIZ as usize {
            return Err(EINVAL);
        }
        if queues == 0 || core::mem::align_of::<Private<T>>() > 32 {
            return Err(EINVAL);
        }
        let size = c_int::try_from(core::mem::size_of::<Private<T>>()).map_err(|_| EINVAL)?;
        // SAFETY: `name` is a valid C string; `ether_setup` is a valid
        // setup function; the queue counts are at least one.
        let dev = unsafe {
            bindings::alloc_netdev_mqs(
                size,
                name.as_char_ptr().cast(),
                bindings::NET_NAME_USER as u8,
                Some(bindings::ether_setup),
                queues,
                queues,
            )
        };
        let dev = NonNull::new(dev).ok_or(ENOMEM)?;
        // SAFETY: `dev` is a freshly allocated, unregistered device; the
        // ops tables are `'static`.
        unsafe {
            bindings::rnm_netdev_set_ops(
                dev.as_ptr(),
                Adapter::<T>::ops(),
                ethtool::Adapter::<T>::ops(),
            );
            bindings::rnm_netdev_set_sw_features(dev.as_ptr(), T::VLAN_OFFLOADS);
            bindings::rnm_netdev_set_xdp_features(dev.as_ptr(), T::XDP, T::HAS_XDP_XMIT);
            bindings::rnm_eth_hw_addr_random(dev.as_ptr());
        }
        if Adapter::<T>::HAS_STAT_OPS {
            // SAFETY: `dev` is a freshly allocated, unregistered device,
            // which nothing else accesses yet; the table is `'static`, and
            // the core only reads it.
            unsafe {
                (*dev.as_ptr()).stat_ops = ptr::from_ref(Adapter::<T>::stat_ops());
            }
        }
        let mut new = NewDevice {
            // SAFETY: `dev` stays valid until `free_netdev` below or in
            // `drop`, after `new` and its NAPI contexts are gone.
            dev: unsafe { Device::from_raw(dev.as_ptr()) },
            napis: KVec::new(),
        };
        let data = init(&mut new);
        let napis = new.napis;
        let data = match data {
            Ok(data) => data,
            Err(e) => {
                drop(napis);
                // SAFETY: `dev` was never registered, holds no `T`, and its
                // NAPI contexts are deleted.
                unsafe { bindings::free_netdev(dev.as_ptr()) };
                return Err(e);
            }
        };
        // SAFETY: the private area has room for a `Private<T>` (size
        // requested above, 32-byte alignment which it does not exceed) and
        // is not initialised yet.
        unsafe {
            netdev_priv(dev.as_ptr())
                .cast::<Private<T>>()
                .write(Private {
                    xdp: ProgSlot::new(),
                    data,
                    napis,
                })
        };
        // INVARIANT: the private area holds a `Private<T>`; not registered.
        Ok(Self {
            dev,
            registered: false,
            failed: false,
            _p: PhantomData,
        })
    }

    /// Registers the device, as a child of `parent` in sysfs if given.
    /// Process context; sleeps.
    ///
    /// Fails with `EBUSY` if it is registered, `EINVAL` if an attempt
    /// failed before, or the error of `register_netdev()`.  A failed
    /// attempt is final: the core may have listed the device and
    /// unregistered it again (a `NETDEV_REGISTER` notifier refused it), and
    /// such a device cannot be registered again; its carrier then no longer
    /// reaches the link watch, which would hold it past its free.
    pub fn register<B: bus::Bus>(&mut self, parent: Option<&bus::Device<B>>) -> Result {
        if self.registered {
            return Err(EBUSY);
        }
        if self.failed {
            return Err(EINVAL);
        }
        // Registering takes a reference to the parent (`device_add()`),
        // which unregistering drops (`device_del()`): it outlives the net
        // device's registration whichever of the two is dropped first (the
        // bus's registration waits for the net device's, see `bus`).
        let parent = parent.map_or(ptr::null_mut(), |p| p.as_raw());
        // SAFETY: the device is valid and not registered; the parent, if
        // any, is alive for this call (borrowed).
        unsafe { bindings::rnm_set_netdev_dev(self.dev.as_ptr(), parent) };
        // SAFETY: the device is valid, set up and not registered.
        let ret = to_result(unsafe { bindings::register_netdev(self.dev.as_ptr()) });
        if ret.is_err() {
            // INVARIANT: not registered.
            self.failed = true;
            // The parent may be gone before the registration is dropped: a
            // failed registration keeps no pointer to it.
            // SAFETY: the device is valid and not registered.
            unsafe { bindings::rnm_set_netdev_dev(self.dev.as_ptr(), ptr::null_mut()) };
        }
        ret?;
        // INVARIANT: registration succeeded.
        self.registered = true;
        Ok(())
    }

    /// The device.
    pub fn device(&self) -> &Device {
        // SAFETY: the device lives until `drop` by the type invariant.
        unsafe { Device::from_raw(self.dev.as_ptr()) }
    }

    fn private(&self) -> &Private<T> {
        // SAFETY: the private area holds an initialised `Private<T>` until
        // `drop`.
        unsafe { &*netdev_priv(self.dev.as_ptr()).cast::<Private<T>>() }
    }

    /// The private data.
    pub fn data(&self) -> &T {
        &self.private().data
    }

    /// Whether an XDP program is attached to the device (it may be
    /// attached or detached right after).  Any context.
    pub fn has_xdp_prog(&self) -> bool {
        self.private().xdp.is_attached()
    }

    /// The device's NAPI contexts, in the order they were added; borrowed
    /// from the registration, so none outlives the device.
    pub fn napis(&self) -> &Napis<T::Queue> {
        &self.private().napis
    }
}

impl<T: DeviceOps> Drop for Registration<T> {
    fn drop(&mut self) {
        let dev = self.dev.as_ptr();
        if self.registered {
            // Closes the device (`ndo_stop`, after which no NAPI context is
            // enabled: see `Napi::enable`) and waits until no callback runs
            // any more.  Sleeps and takes RTNL: a registration dropped in
            // atomic context or under RTNL (by a callback of another device)
            // is a bug, as in C (see "Limits" in soundness.rst).
            // SAFETY: registered by the type invariant.
            unsafe { bindings::unregister_netdev(dev) };
        }
        // SAFETY: no callback can run any more and nothing else refers to
        // the private data (what `&self` lent is no longer borrowed); it is
        // dropped once, `T` then the NAPI contexts, before the device
        // (which the NAPI contexts refer to) is freed.
        unsafe {
            core::ptr::drop_in_place(netdev_priv(dev).cast::<Private<T>>());
            bindings::free_netdev(dev);
        }
    }
}
