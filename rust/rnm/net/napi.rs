// SPDX-License-Identifier: GPL-2.0

//! NAPI contexts, each with a simulated interrupt line.
//!
//! C header: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h),
//! [`include/linux/hrtimer.h`](srctree/include/linux/hrtimer.h),
//! [`include/linux/smp.h`](srctree/include/linux/smp.h)
//!
//! A [`Napi`] is a `napi_struct` of a device's receive queue with a weight,
//! plus the driver's per-queue data `P` and an interrupt line as a real NIC
//! has one per receive queue.  It is added to the device (listed by the
//! core) only while enabled.  NAPI contexts are created only with their device
//! ([`NewDevice::add_napi`](super::device::NewDevice::add_napi)), which
//! owns them: they are borrowed from the device's
//! [`Registration`](super::device::Registration) and deleted before the
//! device is freed.
//!
//! The interrupt line:
//!
//! - [`Napi::raise_irq`] delivers an interrupt now, unless the line is
//!   masked.  Delivery masks the line and runs [`Poller::interrupt`] (which
//!   typically schedules NAPI), like an MSI-X vector with auto-masking.
//! - [`Napi::arm_irq`] delivers it after a delay (a
//!   [`kernel::time::hrtimer::HrTimer`], expiring in hard interrupt context
//!   as a device's interrupt would, except on PREEMPT_RT), for time-based
//!   interrupt coalescing; arming an armed line does nothing.
//! - [`Napi::unmask_irq`] reopens the line, typically from
//!   [`Poller::completed`] once NAPI has completed.
//! - [`Napi::set_irq_cpu`] steers the line to one CPU, as
//!   `/proc/irq/N/smp_affinity_list` steers a NIC's vector: an interrupt
//!   raised elsewhere reaches that CPU by an IPI (an asynchronous cross-CPU
//!   call), and NAPI, scheduled by the handler, polls there (unless it is
//!   threaded: then the handler wakes its thread).  Unsteered, the handler
//!   runs on the CPU that raised the interrupt.
//!
//! The line is stopped while NAPI is disabled: raising or arming it then
//! does nothing, so that [`Napi::disable`] can return with no timer armed
//! and no IPI on its way.
//!
//! Execution context is a value: [`Napi::enable`] and [`Napi::disable`]
//! sleep and must be serialised, so they take the [`Rtnl`] token that only
//! the callbacks the core calls under RTNL get (`ndo_open`/`ndo_stop`,
//! [`DeviceOps::open`]/[`DeviceOps::stop`], and `ethtool -L`,
//! [`DeviceOps::set_channels`]);
//! raising, arming and scheduling need softirqs held off (bottom halves
//! disabled, or hard interrupt context), so they take an [`IrqContext`],
//! which the interrupt handler gets; the poll and the transmit path get a
//! [`BhContext`], which dereferences to one, and process context gets one
//! from [`bh::disable`](crate::rnm::bh::disable).  The interrupt handler,
//! which may run in hard interrupt context, gets no [`BhContext`]: it
//! cannot take a [`SpinLockBh`](crate::rnm::bh::SpinLockBh).
//!
//! [`Poller::poll`] runs in softirq context, or with bottom halves disabled
//! in the context's kernel thread when the device's NAPI is threaded
//! (`/sys/class/net/DEV/threaded`), with a [`PollContext`] through which at
//! most a budget of frames go up the stack (GRO).  It returns what it did
//! ([`Poll`]): the adapter alone calls `napi_complete_done`, and only when
//! less than the budget was used.
//!
//! ```
//! use crate::rnm::{
//!     bh::{BhContext, IrqContext},
//!     net::{
//!         napi::{Napi, Poll, PollContext, Poller},
//!         skb::SkBuff,
//!     },
//! };
//! use kernel::{prelude::*, sync::SpinLock};
//!
//! /// A receive queue: frames waiting for the poll.
//! struct Queue {
//!     frames: Pin<KBox<SpinLock<KVec<SkBuff>>>>,
//! }
//!
//! impl Poller for Queue {
//!     fn poll<'a>(napi: &'a Napi<Self>, mut ctx: PollContext<'a>) -> Poll<'a> {
//!         while ctx.remaining() > 0 {
//!             let Some(skb) = napi.data().frames.lock().pop() else {
//!                 // Queue empty: complete, then `completed` unmasks.
//!                 return ctx.complete();
//!             };
//!             if let Err(skb) = ctx.gro_receive(skb) {
//!                 drop(skb); // Not reached: the budget was checked.
//!             }
//!         }
//!         // Budget used up: the core polls again.
//!         Poll::Continue
//!     }
//!
//!     fn completed(napi: &Napi<Self>, bh: &BhContext) {
//!         napi.unmask_irq();
//!         if !napi.data().frames.lock().is_empty() {
//!             napi.raise_irq(bh);
//!         }
//!     }
//!
//!     fn interrupt(napi: &Napi<Self>, irq: &IrqContext, _remote: bool) {
//!         napi.schedule(irq);
//!     }
//! }
//! ```

use crate::rnm::{
    bh::{BhContext, IrqContext},
    bindings,
    net::{
        device::{self, Device, Rtnl},
        skb::SkBuff,
        synchronize_net,
        xdp::{ProgSlot, XdpAction, XdpFrame},
    },
};
use core::{
    cell::Cell,
    ffi::c_void,
    marker::PhantomData,
    ptr::{self, addr_of, addr_of_mut},
    sync::atomic::{self as core_atomic, AtomicBool, AtomicI32},
};
use kernel::{
    cpu::CpuId,
    prelude::*,
    sync::atomic::{Acquire, Atomic, Full, Relaxed, Release},
    time::{
        delay::fsleep,
        hrtimer::{
            HasHrTimer, HrTimer, HrTimerCallback, HrTimerCallbackContext, HrTimerRestart,
            RelativeMode, UnsafeHrTimerPointer,
        },
        Delta, Monotonic,
    },
    types::Opaque,
};
use pin_init::PinInit;

#[cfg(doc)]
use super::device::DeviceOps;

/// The largest NAPI weight (`NAPI_POLL_WEIGHT`): the core warns above it.
pub const MAX_WEIGHT: u32 = 64;

/// What GRO did with a frame.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum GroResult {
    /// Merged into a frame GRO holds.
    Merged,
    /// Held by GRO for later merging.
    Held,
    /// Passed up unmerged.
    Normal,
    /// Consumed otherwise (dropped or taken by a GRO handler).
    Consumed,
}

/// What a poll did, returned by [`Poller::poll`].
///
/// The adapter acts on it: only it calls `napi_complete_done`, once, with
/// the number of frames the [`PollContext`] counted.
pub enum Poll<'a> {
    /// The work is done with less than the whole budget used (made by
    /// [`PollContext::complete`] or [`PollContext::complete_reopened`]
    /// only): the adapter completes NAPI with that count and, unless the
    /// core wants another poll anyway or the driver reopened its interrupt
    /// already, calls [`Poller::completed`].
    Complete(WorkDone<'a>),
    /// Keep polling (the budget is used up, or there is more to do): the
    /// adapter returns the whole budget and the core polls again; the
    /// interrupt stays masked.
    Continue,
}

/// The frames one poll handed up, fewer than its budget.
///
/// Only [`PollContext::complete`] and [`PollContext::complete_reopened`]
/// make one; it cannot outlive the poll.
pub struct WorkDone<'a> {
    frames: u32,
    /// The driver reopened its interrupt in the poll: no
    /// [`Poller::completed`].
    reopened: bool,
    _poll: PhantomData<&'a ()>,
}

// The abstractions are compiled into the crate of the module that uses
// them, where the orphan rule does not keep that module from implementing
// `Drop` or `Copy` for their types: this (empty) implementation rules out
// both (E0119, E0184).
impl Drop for WorkDone<'_> {
    #[inline(always)]
    fn drop(&mut self) {}
}

/// The proof that the poll under way reopened its interrupt line
/// ([`PollContext::reopen_irq`]), which [`PollContext::complete_reopened`]
/// takes.
///
/// Only [`PollContext::reopen_irq`] makes one, for the line of the context
/// it polls; it cannot outlive the poll.
pub struct Reopened<'a> {
    _poll: PhantomData<&'a ()>,
}

// As for `WorkDone`.
impl Drop for Reopened<'_> {
    #[inline(always)]
    fn drop(&mut self) {}
}

/// The per-queue data of a NAPI context and its callbacks.
pub trait Poller: Send + Sync + Sized + 'static {
    /// Processes frames, at most [`PollContext::remaining`] of them, and
    /// says whether it is done ([`PollContext::complete`]) or wants to
    /// keep polling ([`Poll::Continue`]).
    ///
    /// Softirq context, or the context's kernel thread with bottom halves
    /// disabled (threaded NAPI, busy polling); never runs concurrently
    /// with itself for one context.
    fn poll<'a>(napi: &'a Napi<Self>, ctx: PollContext<'a>) -> Poll<'a>;

    /// NAPI has completed and the core does not want another poll: the
    /// poll will not run again until NAPI is scheduled, so the driver
    /// re-enables its interrupt here ([`Napi::unmask_irq`], and raises it
    /// for work that arrived meanwhile).  Same context as
    /// [`Poller::poll`], right after it.  Not called after a poll that
    /// ended with [`PollContext::complete_reopened`].
    fn completed(napi: &Napi<Self>, bh: &BhContext);

    /// The interrupt handler; the line is masked while it runs and stays
    /// masked until the driver unmasks it.  Runs on the CPU the line is
    /// steered to (see [`Napi::set_irq_cpu`]), in hard interrupt context
    /// when an IPI or (except on PREEMPT_RT) the delay of [`Napi::arm_irq`]
    /// delivers it (an IPI's callback may also run with interrupts
    /// disabled from the idle loop or a CPU stopper, where
    /// [`bh::disable`](crate::rnm::bh::disable) succeeds: the data path
    /// must not be called from here), with bottom halves disabled
    /// otherwise: it must not
    /// sleep, nor take a lock that is held elsewhere with interrupts
    /// enabled.  `remote` tells that the interrupt was raised on another CPU
    /// and reached this one by an IPI.  It gets an [`IrqContext`], not a
    /// [`BhContext`]: it cannot take a
    /// [`SpinLockBh`](crate::rnm::bh::SpinLockBh).
    fn interrupt(napi: &Napi<Self>, irq: &IrqContext, remote: bool);
}

/// No CPU: the line's interrupts are handled where they are raised.
const IRQ_CPU_LOCAL: i32 = -1;

// States of the IPI that carries an interrupt to the CPU the line is
// steered to.
/// No IPI is on its way; `csd` is free.
const IPI_IDLE: u32 = 0;
/// An IPI is on its way or its callback runs.
const IPI_SENT: u32 = 1;
/// As [`IPI_SENT`], and another interrupt was raised meanwhile: the
/// callback delivers it too.
const IPI_AGAIN: u32 = 2;

/// `a` as a `core` atomic, for the loads and stores of the data path.
///
/// Out of the kernel tree every operation of [`Atomic`] is a call to a C
/// helper (`rust_helper_atomic_*`), and raising the line and polling make
/// several per frame.  Loads and stores that are `Relaxed`, `Acquire` or
/// `Release` mean the same in the Rust and the kernel memory models
/// (`READ_ONCE()`, `smp_load_acquire()`, `WRITE_ONCE()`,
/// `smp_store_release()`), so they go through this view, which compiles
/// inline; the fully ordered read-modify-writes stay with [`Atomic`].
/// Every access to the memory is then atomic and one byte wide: through
/// such a view, or through `a`, whose operations are C's one-byte atomics
/// (`READ_ONCE()`, `xchg()`, `try_cmpxchg()` of an `s8`), which count as
/// atomic accesses for Rust's model as they do for the kernel's.
#[inline(always)]
fn inline_bool(a: &Atomic<bool>) -> &AtomicBool {
    // SAFETY: `as_ptr` is valid and aligned for a `bool` (the size and
    // alignment of `AtomicBool`) while `a` is borrowed, and every access
    // to it is atomic and of its size (see above).
    unsafe { AtomicBool::from_ptr(a.as_ptr()) }
}

/// A `call_single_data_t`, with the alignment the C type has (bindgen
/// drops it): it then never straddles two cache lines.
#[repr(C, align(32))]
struct Csd(Opaque<bindings::__call_single_data>);

/// A NAPI context with a simulated interrupt line and per-queue data `P`.
///
/// # Invariants
///
/// Outside [`Napi::enable`] and `shut_down` (which run under RTNL or with
/// exclusive access), `napi` is added to `dev`, the device, as the context
/// of its receive queue `index` (which it has) if `enabled` is true, and
/// otherwise is not added (deleted, with an RCU grace period since, or
/// never added), with `NAPI_STATE_SCHED` set (by `napi_disable`, or at
/// creation), so that nothing can schedule it; `timer` is initialised by
/// [`HrTimer::new`] and `csd` with `INIT_CSD` to call
/// [`Napi::ipi_callback`] with this object's address, all at this address
/// (the object is never moved: it is only handed out pinned); the device
/// outlives the object (it is owned by the device's registration).
/// `xdp_rxq` is registered as the device's XDP receive queue of the
/// context's index, with `page_pool` (created for it and released only
/// with it) as its memory model; the device's private area starts with
/// the XDP program slot of [`device::xdp_slot`] (the device is one of a
/// [`Registration`](device::Registration)).
/// `enabled` tells whether the context was last added and enabled
/// (rather than disabled and deleted); it changes only under RTNL or with
/// exclusive access.
/// While `stopped` is set, nothing starts `timer` or queues `csd`;
/// `stopped` is set whenever `enabled` is false.  `ipi` is [`IPI_IDLE`]
/// except from before `csd` is queued to another CPU until its callback's
/// last access to the object, and `csd` is queued only on the move from
/// [`IPI_IDLE`] to [`IPI_SENT`]; `irq_cpu` is [`IRQ_CPU_LOCAL`] or a CPU id
/// below `nr_cpu_ids`.
#[repr(C)]
pub struct Napi<P: Poller> {
    napi: Opaque<bindings::napi_struct>,
    timer: HrTimer<IrqTimer<P>>,
    csd: Csd,
    xdp_rxq: Opaque<bindings::xdp_rxq_info>,
    /// The pages XDP programs run on, taken and put back directly only by
    /// the poll.
    page_pool: *mut bindings::page_pool,
    /// Read on every interrupt: a `core` atomic, inline (see
    /// [`inline_bool`]); only `Relaxed` loads and stores.
    irq_cpu: AtomicI32,
    /// The device and the receive queue the context is added to while
    /// enabled.
    dev: *mut bindings::net_device,
    index: u32,
    /// The NAPI weight, kept while the context is deleted.
    weight: Atomic<u32>,
    ipi: Atomic<u32>,
    masked: Atomic<bool>,
    armed: Atomic<bool>,
    stopped: Atomic<bool>,
    enabled: Atomic<bool>,
    data: P,
}

// Pages are taken from `page_pool` only by the poll, which the core
// serialises wherever it runs.
// SAFETY: not tied to a thread: the C parts (NAPI, hrtimer, cross-CPU call,
// page pool) may be used and torn down from any CPU and lock for
// themselves, `dev` is only passed to C calls that lock for themselves and
// outlives the object, the rest are atomics or fixed, and `P` is `Send`.
unsafe impl<P: Poller> Send for Napi<P> {}
// SAFETY: every method taking `&self` may run concurrently with any other:
// the C calls they make are safe concurrently (`napi_schedule_prep` is an
// atomic test-and-set, `hrtimer_start` locks the timer base, the csd is
// queued by one caller only as the `ipi` states guarantee), the ones the C
// side requires serialised (adding and enabling, disabling and deleting)
// take an `Rtnl` proof, `set_weight` writes under the device's instance
// lock, and `P` is `Sync`.
unsafe impl<P: Poller> Sync for Napi<P> {}

impl<P: Poller> Napi<P> {
    /// Creates the NAPI context of `dev`'s receive queue `index`, with
    /// `weight` (1..=[`MAX_WEIGHT`]), disabled, with its interrupt line
    /// stopped, and registers its XDP receive queue.  The context is added
    /// to `dev` only while enabled ([`Napi::enable`]), with the persistent
    /// configuration of index `index` (`netif_napi_add_config()`: its NAPI
    /// ID and its per-NAPI settings, threaded included, persist while the
    /// device exists), as NIC drivers add theirs when they open a channel:
    /// the core's walks of the device's contexts, under its instance lock,
    /// never find one disabled (switching threaded NAPI off would wait for
    /// it without end).
    ///
    /// Errors: `EINVAL` for a weight out of range or if `dev` has no
    /// receive queue `index`, `ENOMEM`.  Process context.
    ///
    /// # Safety
    ///
    /// `dev` must outlive the returned object and not be registered yet,
    /// no other context of `dev` may have `index`, and `dev` must be a
    /// device of a [`Registration`](device::Registration) (whose private
    /// area starts with its XDP program slot once it is registered).
    pub(in crate::rnm) unsafe fn new(
        dev: &Device,
        index: u32,
        weight: u32,
        data: P,
    ) -> Result<Pin<KBox<Self>>> {
        if weight == 0 || weight > MAX_WEIGHT {
            return Err(EINVAL);
        }
        // SAFETY: `dev` is valid; reads two counts fixed at allocation.
        if !unsafe { bindings::rnm_napi_queue_index_ok(dev.as_raw(), index) } {
            return Err(EINVAL);
        }
        let mut this = KBox::<Self>::new_uninit(GFP_KERNEL)?;
        let p = this.as_mut_ptr();
        // The box is never moved out of and is returned pinned; the timer's
        // initialiser cannot fail.
        // SAFETY: `p` is the box's uninitialised memory at its final
        // address: each field is written once, in place; `napi` and `csd`
        // are zeroed, then set up by the C side with the valid device.
        unsafe {
            addr_of_mut!((*p).napi).write(Opaque::zeroed());
            addr_of_mut!((*p).csd).write(Csd(Opaque::zeroed()));
            addr_of_mut!((*p).xdp_rxq).write(Opaque::zeroed());
            addr_of_mut!((*p).page_pool).write(core::ptr::null_mut());
            addr_of_mut!((*p).irq_cpu).write(AtomicI32::new(IRQ_CPU_LOCAL));
            addr_of_mut!((*p).dev).write(dev.as_raw());
            addr_of_mut!((*p).index).write(index);
            addr_of_mut!((*p).weight).write(Atomic::new(weight));
            addr_of_mut!((*p).ipi).write(Atomic::new(IPI_IDLE));
            addr_of_mut!((*p).masked).write(Atomic::new(false));
            addr_of_mut!((*p).armed).write(Atomic::new(false));
            addr_of_mut!((*p).stopped).write(Atomic::new(true));
            addr_of_mut!((*p).enabled).write(Atomic::new(false));
            addr_of_mut!((*p).data).write(data);
            // Infallible.
            let _ = HrTimer::<IrqTimer<P>>::new().__init(addr_of_mut!((*p).timer));
        }
        // SAFETY: `xdp_rxq` is zeroed (a new queue) at its final address;
        // `dev` is valid; `index` is a receive queue of `dev` (checked
        // above); `page_pool` is written (on success only) with the pool
        // registered with it.
        let ret = unsafe {
            bindings::rnm_xdp_rxq_reg(
                Opaque::cast_into(addr_of_mut!((*p).xdp_rxq)),
                dev.as_raw(),
                index,
                addr_of_mut!((*p).page_pool),
            )
        };
        if ret != 0 {
            // Drop what needs it (`data`); the box is freed as
            // uninitialised memory, the timer was never started.
            // SAFETY: `data` was written above and is dropped once.
            unsafe { core::ptr::drop_in_place(addr_of_mut!((*p).data)) };
            return Err(Error::from_errno(ret));
        }
        // SAFETY: `napi` is zeroed and not added.
        unsafe { bindings::rnm_napi_init_unlisted(Opaque::cast_into(addr_of_mut!((*p).napi))) };
        // SAFETY: `csd` is zeroed at its final address, set up once here
        // to call `ipi_callback` with the object's address.
        unsafe {
            bindings::rnm_init_csd(
                Opaque::cast_into(addr_of_mut!((*p).csd.0)),
                Some(Self::ipi_callback),
                p.cast::<c_void>(),
            );
        }
        // SAFETY: every field is initialised above.
        let this = unsafe { this.assume_init() };
        // INVARIANT: set up at the box's address, `napi` not added; `dev`
        // outlives it by the safety requirements; disabled and stopped.
        Ok(KBox::into_pin(this))
    }

    /// The per-queue data.
    pub fn data(&self) -> &P {
        &self.data
    }

    /// Adds the context to its device (`netif_napi_add_config`), enables
    /// polling (`napi_enable`), links its queues to it, all under one hold
    /// of the device's instance lock, and starts the interrupt line (still
    /// masked if it was); does nothing if enabled, or if the device is not
    /// up (`netif_running()`: it is during `ndo_open`).
    ///
    /// A context is enabled only while its device is up, and the device's
    /// `ndo_stop` disables them all after [`DeviceOps::stop`], as does a
    /// failed `ndo_open`: no poll runs once the device is closed, so none
    /// runs after its unregistration, whatever the driver's callbacks did.
    ///
    /// Process context, under RTNL (`ndo_open`, `set_channels`), not under
    /// the device's instance lock (which it takes).
    ///
    /// [`DeviceOps::stop`]: super::device::DeviceOps::stop
    pub fn enable(&self, _rtnl: &Rtnl) {
        // SAFETY: `dev` is valid (type invariants).  Its running state
        // changes only under RTNL, which we hold.
        if !unsafe { Device::from_raw(self.dev) }.is_running() {
            return;
        }
        if !self.enabled.load(Relaxed) {
            // SAFETY: not added (`enabled` is false and only changes under
            // RTNL, which we hold), a grace period after it was deleted;
            // `dev` is valid and has queue `index` (type invariants); the
            // callback matches the C prototype; `weight` is valid.
            let ret = unsafe {
                bindings::rnm_napi_add_enable(
                    self.dev,
                    self.napi.get(),
                    Some(Self::poll_callback),
                    self.index,
                    self.weight.as_ptr(),
                )
            };
            if ret != 0 {
                // Not possible (the index was checked): the line stays
                // stopped, the context not added.
                return;
            }
            self.enabled.store(true, Release);
        }
        self.stopped.store(false, Release);
    }

    /// Stops the interrupt line, disables polling (`napi_disable`, waiting
    /// for a running poll to finish, and for its [`Poller::completed`]) and
    /// deletes the context from its device (`__netif_napi_del`, which stops
    /// its kernel thread), cancels a pending delayed interrupt and waits
    /// for an interrupt on its way to another CPU.  When it returns,
    /// no poll runs, no timer is armed, no IPI is on its way, and raising
    /// or arming the line does nothing until [`Napi::enable`].  Does
    /// nothing if disabled.
    ///
    /// Process context, under RTNL (`ndo_stop`, `set_channels`), not under
    /// the device's instance lock (which it takes); sleeps.
    pub fn disable(&self, _rtnl: &Rtnl) {
        // SAFETY: RTNL is held: `enabled` changes under it only.
        unsafe { self.shut_down() };
    }

    /// Stops the line, disables NAPI, and waits until nothing can touch
    /// the line any more (see [`Napi::disable`]).
    ///
    /// # Safety
    ///
    /// Process context, with RTNL held or exclusive access to the object
    /// (no concurrent `enable`/`disable`).
    unsafe fn shut_down(&self) {
        // Stop the line first: from here a poll, its `completed` or a
        // transmit that starts sees it stopped and neither arms nor raises.
        if self.stopped.xchg(true, Full) {
            // Already stopped and waited for (or never started).
            return;
        }
        if self.enabled.load(Relaxed) {
            // The queues no longer name the context (netlink's queue-get),
            // and the core's walks of the device's contexts (threaded NAPI,
            // netlink) no longer find it.
            // SAFETY: added and enabled, by the safety requirements with no
            // `enable` running concurrently; under RTNL (`disable`) or with
            // the device unregistered (`drop`); the grace period below
            // comes before it is added again or freed.
            unsafe { bindings::rnm_napi_disable_del(self.napi.get()) };
            self.enabled.store(false, Release);
        }
        // Whoever saw the line not stopped runs with bottom halves disabled
        // (a poll's tail after `napi_complete_done`, a transmit path), and
        // whoever found the context in the device's list or by its NAPI ID
        // (busy polling) under RCU: read-side sections, which this waits
        // for.
        synchronize_net();
        // Only the timer's own callback, waited for here, is left to raise
        // the line, which sends at most one IPI.
        // SAFETY: `self` is valid; the timer is initialised by the type
        // invariants.  `hrtimer_cancel` waits for a running callback; may
        // sleep, process context.
        unsafe {
            kernel::bindings::hrtimer_cancel(
                <IrqTimer<P> as HasHrTimer<IrqTimer<P>>>::c_timer_ptr(self.irq_timer()).cast_mut(),
            )
        };
        self.armed.store(false, Release);
        // An IPI already sent is handled within microseconds: the target
        // CPU is online (or the call would have failed) and takes it as
        // soon as it enables interrupts.
        while self.ipi.load(Acquire) != IPI_IDLE {
            fsleep(Delta::from_micros(10));
        }
    }

    /// Schedules the poll function (`napi_schedule`); returns whether it
    /// was scheduled now (false: already scheduled, or disabled).
    ///
    /// Needs bottom halves disabled (or hard interrupt context): the
    /// softirq it raises runs when they are enabled again.
    pub fn schedule(&self, _irq: &IrqContext) -> bool {
        // SAFETY: an atomic test-and-set of `napi->state`; a context that
        // is not added has `NAPI_STATE_SCHED` set (type invariants): it
        // fails (setting `NAPI_STATE_MISSED`, which adding clears).
        if unsafe { bindings::napi_schedule_prep(self.napi.get()) } {
            // SAFETY: `napi_schedule_prep` gave us the right to schedule.
            unsafe { bindings::__napi_schedule(self.napi.get()) };
            true
        } else {
            false
        }
    }

    /// The NAPI weight: the budget each poll gets (1..=[`MAX_WEIGHT`]).
    /// Any context.
    pub fn weight(&self) -> u32 {
        self.weight.load(Relaxed)
    }

    /// Sets the NAPI weight; the next poll gets it.  Process context, not
    /// under the device's instance lock (which it takes); sleeps.
    ///
    /// Errors: `EINVAL` (and nothing changed) if `weight` is not in
    /// 1..=[`MAX_WEIGHT`].
    pub fn set_weight(&self, weight: u32) -> Result {
        if weight == 0 || weight > MAX_WEIGHT {
            return Err(EINVAL);
        }
        self.weight.store(weight, Relaxed);
        self.update_weight();
        Ok(())
    }

    /// Gives the context, if added, the weight last stored (adding it
    /// reads the weight under the same lock).  Process context, not under
    /// the device's instance lock.
    fn update_weight(&self) {
        // SAFETY: `napi` and `dev` are valid (type invariants), whether the
        // context is added or not; `weight` is valid for reads (`READ_ONCE`
        // under the lock that orders adding, deleting and this update).
        unsafe {
            bindings::rnm_napi_update_weight(self.napi.get(), self.dev, self.weight.as_ptr())
        };
    }

    /// Whether the interrupt line is masked.  Any context.
    pub fn irq_masked(&self) -> bool {
        inline_bool(&self.masked).load(core_atomic::Ordering::Acquire)
    }

    /// The CPU the line is steered to, or `None` if its interrupts are
    /// handled where they are raised.  Any context.
    pub fn irq_cpu(&self) -> Option<u32> {
        u32::try_from(self.irq_cpu.load(core_atomic::Ordering::Relaxed)).ok()
    }

    /// Steers the line to `cpu`, or with `None` lets each interrupt be
    /// handled on the CPU that raises it.  Takes effect from the next
    /// interrupt.  Any context.
    ///
    /// Errors: `EINVAL` (and nothing changed) if `cpu` is not online.
    pub fn set_irq_cpu(&self, cpu: Option<u32>) -> Result {
        let v = match cpu {
            None => IRQ_CPU_LOCAL,
            Some(c) => {
                // SAFETY: reads the online mask; any value is valid.
                if !unsafe { bindings::rnm_cpu_online(c) } {
                    return Err(EINVAL);
                }
                i32::try_from(c).map_err(|_| EINVAL)?
            }
        };
        self.irq_cpu.store(v, core_atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Delivers an interrupt now unless the line is masked or stopped;
    /// returns whether it was delivered.  The handler runs here, or on the
    /// CPU the line is steered to.
    ///
    /// Needs bottom halves disabled (the transmit path, a NAPI poll, or
    /// process context under a [`crate::rnm::bh::disable`] guard), as a
    /// NAPI scheduled here is only polled when they are enabled again.
    pub fn raise_irq(&self, irq: &IrqContext) -> bool {
        self.deliver(irq)
    }

    /// Whether the line is stopped (NAPI disabled).  Any context.
    #[inline(always)]
    fn line_stopped(&self) -> bool {
        inline_bool(&self.stopped).load(core_atomic::Ordering::Acquire)
    }

    /// [`Napi::raise_irq`], also from the timer's callback (hard interrupt
    /// context, where bottom halves do not run either).
    fn deliver(&self, irq: &IrqContext) -> bool {
        if self.line_stopped() || self.masked.xchg(true, Full) {
            return false;
        }
        // With bottom halves disabled this is the CPU the handler runs on
        // if it runs here.
        let target = self.irq_cpu.load(core_atomic::Ordering::Relaxed);
        if target != IRQ_CPU_LOCAL && target != i32::from(CpuId::current()) {
            // The line is masked while the poll runs, but busy polling and
            // threaded NAPI may complete and unmask before the callback of
            // the previous IPI is done: then that callback delivers this
            // interrupt too.
            let mut state = IPI_IDLE;
            loop {
                let next = if state == IPI_IDLE {
                    IPI_SENT
                } else {
                    IPI_AGAIN
                };
                match self.ipi.cmpxchg(state, next, Full) {
                    Ok(IPI_IDLE) => break,
                    Ok(_) | Err(IPI_AGAIN) => return true,
                    Err(now) => state = now,
                }
            }
            // The previous callback, which the C side calls after releasing
            // the csd, moved `ipi` back to `IPI_IDLE` as its last step; the
            // line is not stopped: `shut_down` waits for this section (or
            // the timer callback running it) before waiting for the IPI.
            // SAFETY: `csd` was set up by `INIT_CSD` and is free: this is
            // the only sender (the move to `IPI_SENT` is ours).
            if unsafe { bindings::smp_call_function_single_async(target, self.csd.0.get()) } == 0 {
                return true;
            }
            // Not queued (the CPU went offline): handle it here, and with
            // it any interrupt raised meanwhile.
            self.ipi.store(IPI_IDLE, Release);
        }
        P::interrupt(self, irq, false);
        true
    }

    /// Delivers an interrupt `usecs` microseconds from now, unless the
    /// line is masked by then.  Does nothing if already armed, or if the
    /// line is stopped.
    ///
    /// Needs bottom halves disabled (see [`Napi::raise_irq`]).
    pub fn arm_irq(&self, usecs: u32, _irq: &IrqContext) {
        if self.line_stopped() || self.armed.xchg(true, Full) {
            return;
        }
        // SAFETY: the object, which the view is, is never moved (type
        // invariants).
        let this = unsafe { Pin::new_unchecked(&*self.irq_timer()) };
        // `shut_down` waits for this section before cancelling the timer;
        // the handle, which would cancel it at once, is not needed.
        // SAFETY: the object lives until the timer is dead: `shut_down`,
        // which runs before it is dropped, cancels the timer.
        let handle =
            unsafe { UnsafeHrTimerPointer::start(this, Delta::from_micros(i64::from(usecs))) };
        core::mem::forget(handle);
    }

    /// Reopens the interrupt line (typically from [`Poller::completed`], or
    /// after enabling NAPI).  Any context.
    pub fn unmask_irq(&self) {
        inline_bool(&self.masked).store(false, core_atomic::Ordering::Release);
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn poll_callback(napi: *mut bindings::napi_struct, budget: c_int) -> c_int {
        // SAFETY: `napi` is the first field of a `#[repr(C)]` `Napi<P>`
        // (the only contexts this callback is registered for), alive
        // while the context is added.
        let this = unsafe { &*napi.cast::<Self>() };
        // SAFETY: the core polls with bottom halves disabled (softirq,
        // threaded NAPI and busy polling under `local_bh_disable`; netpoll
        // is disabled on the devices of `Registration`), until we return.
        let bh = unsafe { BhContext::new() };
        let budget = u32::try_from(budget).unwrap_or(0);
        let xdp_ran = Cell::new(false);
        // SAFETY: the context was added to a device of a registration,
        // whose private area is initialised while it polls (type
        // invariant); `dev` is set by the core when the context is added.
        let xdp = unsafe { device::xdp_slot((*napi).dev) };
        let ctx = PollContext {
            napi: &this.napi,
            budget,
            done: 0,
            bh: &bh,
            xdp,
            xdp_rxq: &this.xdp_rxq,
            page_pool: this.page_pool,
            xdp_ran: &xdp_ran,
            masked: &this.masked,
        };
        let poll = P::poll(this, ctx);
        if xdp_ran.get() {
            // Frames XDP redirected go out before the poll ends.
            // SAFETY: bottom halves disabled, in the poll that ran XDP.
            unsafe { bindings::xdp_do_flush() };
        }
        match poll {
            Poll::Complete(WorkDone {
                frames, reopened, ..
            }) if frames < budget => {
                // SAFETY: inside the poll function we own the NAPI context,
                // and complete it once, having used less than the budget.
                if unsafe { bindings::napi_complete_done(napi, frames as c_int) } && !reopened {
                    P::completed(this, &bh);
                }
                frames as c_int
            }
            // NAPI stays scheduled: the core owns it again.
            _ => budget as c_int,
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback `csd` is set up with,
    /// with the argument it is set up with.
    unsafe extern "C" fn ipi_callback(info: *mut c_void) {
        // SAFETY: `info` is the address of the `Napi<P>` whose `csd` this
        // is; `ipi` is not `IPI_IDLE`, so `shut_down` (which runs before the
        // object is dropped) waits until the move to `IPI_IDLE` below.
        let this = unsafe { &*info.cast::<Self>() };
        // SAFETY: hard interrupt context, or interrupts disabled (the idle
        // loop or a CPU stopper flushing the queue), until we return.
        let irq = unsafe { IrqContext::new() };
        loop {
            P::interrupt(this, &irq, true);
            // Last access to `this` when it succeeds: the object may go
            // once `IPI_IDLE` is seen.
            match this.ipi.cmpxchg(IPI_SENT, IPI_IDLE, Full) {
                Ok(_) => return,
                // Raised again meanwhile: deliver that one too.
                Err(_) => this.ipi.store(IPI_SENT, Release),
            }
        }
    }
}

/// A [`Napi`] as the owner of its interrupt line's timer.
///
/// The timer's owner is this private view, not [`Napi`]: the kernel
/// crate gives every `Pin<&T>` of a timer's owner `T` a safe
/// `start_scoped`, which would start and cancel the timer behind
/// [`Napi::arm_irq`] (leaving `armed` set, so that no delayed interrupt
/// is armed again), or, from the timer's own callback, wait for itself
/// in hard interrupt context for ever.  Only `arm_irq` starts the timer,
/// and only `shut_down` cancels it.
#[repr(transparent)]
struct IrqTimer<P: Poller>(Napi<P>);

impl<P: Poller> Napi<P> {
    /// The timer's view of the context.
    #[inline(always)]
    fn irq_timer(&self) -> *const IrqTimer<P> {
        ptr::from_ref(self).cast()
    }
}

// SAFETY: both methods operate on the `timer` field of the `Napi` that the
// view is (`repr(transparent)`: at the same address).
unsafe impl<P: Poller> HasHrTimer<IrqTimer<P>> for IrqTimer<P> {
    type TimerMode = RelativeMode<Monotonic>;

    #[inline]
    unsafe fn raw_get_timer(this: *const Self) -> *const HrTimer<IrqTimer<P>> {
        // SAFETY: `this` is valid (caller), and points at a `Napi`.
        unsafe { addr_of!((*this.cast::<Napi<P>>()).timer) }
    }

    #[inline]
    unsafe fn timer_container_of(ptr: *mut HrTimer<IrqTimer<P>>) -> *mut Self {
        // SAFETY: `ptr` is the `timer` field of a `Napi` (caller).
        unsafe { kernel::container_of!(ptr, Napi<P>, timer) }.cast()
    }
}

impl<P: Poller> HrTimerCallback for IrqTimer<P> {
    type Pointer<'a> = Pin<&'a Self>;

    /// The delay of [`Napi::arm_irq`] is over: delivers the interrupt.
    fn run(this: Pin<&Self>, _ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        let this = &this.get_ref().0;
        // SAFETY: hard interrupt context (softirq on PREEMPT_RT, with bottom
        // halves disabled), until we return.
        let irq = unsafe { IrqContext::new() };
        this.armed.store(false, Release);
        this.deliver(&irq);
        HrTimerRestart::NoRestart
    }
}

impl<P: Poller> Drop for Napi<P> {
    fn drop(&mut self) {
        // SAFETY: exclusive access; dropped in process context (with the
        // registration that owns it).
        unsafe { self.shut_down() };
        // SAFETY: registered with `page_pool` when the context was created;
        // no poll runs any more (disabled above).  Frames it made refer to
        // no queue; pages of the pool still in flight (in sockets, in other
        // devices' rings) keep the pool until they come back to it.
        unsafe { bindings::rnm_xdp_rxq_unreg(self.xdp_rxq.get(), self.page_pool) };
        // The context was deleted from its device, if it was added, by
        // `shut_down`, a grace period ago: the core no longer refers to it.
    }
}

/// What the poll function may do with its NAPI context while it owns it:
/// hand up at most the budget of frames, then say it is done
/// ([`PollContext::complete`]).
///
/// The frames it hands up or runs XDP on are received on its device:
/// each one's `skb->dev` is set to it first, whatever device the frame
/// named (a pointer without a reference, which may be stale).
///
/// # Invariants
///
/// `napi` is the context being polled, by the poll call this value was
/// made for and lives in, `xdp_rxq` its XDP receive queue and `page_pool`
/// that queue's pool; `done <= budget`.
pub struct PollContext<'a> {
    napi: &'a Opaque<bindings::napi_struct>,
    budget: u32,
    done: u32,
    bh: &'a BhContext,
    xdp: &'a ProgSlot,
    xdp_rxq: &'a Opaque<bindings::xdp_rxq_info>,
    page_pool: *mut bindings::page_pool,
    xdp_ran: &'a Cell<bool>,
    /// The interrupt line's mask of the context polled.
    masked: &'a Atomic<bool>,
}

// As for `WorkDone`: a copy could hand up a whole budget and then complete
// with another count.
impl Drop for PollContext<'_> {
    #[inline(always)]
    fn drop(&mut self) {}
}

/// What `napi_gro_receive` returned, as a [`GroResult`].
fn gro_result(r: bindings::gro_result_t) -> GroResult {
    match r {
        bindings::gro_result_GRO_MERGED | bindings::gro_result_GRO_MERGED_FREE => GroResult::Merged,
        bindings::gro_result_GRO_HELD => GroResult::Held,
        bindings::gro_result_GRO_NORMAL => GroResult::Normal,
        _ => GroResult::Consumed,
    }
}

impl<'a> PollContext<'a> {
    /// Reopens the interrupt line of the context polled, before completing
    /// (as [`Napi::unmask_irq`] does), and returns the proof that
    /// [`PollContext::complete_reopened`] takes.  Call it under the lock
    /// that orders the driver's check of its queue with the arrival of
    /// frames, having seen the queue empty.  Only the line of this poll's
    /// context: reopening another's would let that one complete without
    /// its `completed`, its line still masked.
    pub fn reopen_irq(&self) -> Reopened<'a> {
        inline_bool(self.masked).store(false, core_atomic::Ordering::Release);
        Reopened { _poll: PhantomData }
    }

    /// How many more frames this poll may hand up (0 when the budget is
    /// used up).
    pub fn remaining(&self) -> u32 {
        self.budget - self.done
    }

    /// The frames handed up so far.
    pub fn done(&self) -> u32 {
        self.done
    }

    /// The proof that bottom halves are disabled, for the whole poll (a
    /// poll runs in softirq context, or with them disabled).
    pub fn bh(&self) -> &'a BhContext {
        self.bh
    }

    /// Counts one frame against the budget; `false` if it is used up.
    fn take_one(&mut self) -> bool {
        if self.done < self.budget {
            self.done += 1;
            true
        } else {
            false
        }
    }

    /// Hands `skb` to the stack through GRO (`napi_gro_receive`); a frame
    /// that is aggregated already (GSO), which GRO could at most merge with
    /// a following one of the same segment size, goes up directly while
    /// GRO holds and queues no frame (none of its flow can then be
    /// overtaken), sparing GRO's work as veth spares it for such frames.
    ///
    /// Errors: the frame back if the budget is used up.
    pub fn gro_receive(&mut self, skb: SkBuff) -> Result<GroResult, SkBuff> {
        if !self.take_one() {
            return Err(skb);
        }
        // `rnm_napi_gro_receive()` prepares the frame for GRO first
        // (`skb_prepare_for_gro()`, as veth does): a frame owned by its
        // sending socket through `sock_wfree` keeps that socket but GRO
        // then never merges it with a frame of another socket (merged, the
        // first frame's socket would be uncharged the memory of both: a
        // refcount underflow, then a use after free); a frame with any
        // other destructor is orphaned.
        // SAFETY: inside the poll function we own the NAPI context; the
        // buffer's reference passes to the stack.
        let r = unsafe { bindings::rnm_napi_gro_receive(self.napi.get(), skb.into_raw()) };
        Ok(gro_result(r))
    }

    /// Whether an XDP program is attached to the device (see
    /// [`PollContext::run_xdp`]).
    pub fn has_xdp(&self) -> bool {
        self.xdp.is_attached()
    }

    /// Runs the device's XDP program on `skb` (a frame received on this
    /// context's queue, prepared for the device: `Device::forward` or
    /// `SkBuff::from_xdp_frame`) and carries out its verdict
    /// ([`XdpAction`]): a frame passed goes to the stack through GRO.
    /// Without a program the frame goes to GRO as with
    /// [`PollContext::gro_receive`] ([`XdpAction::NotRun`]).  The frame
    /// counts against the budget whatever the verdict.
    ///
    /// The program sees a copy of the frame from its Ethernet header, in a
    /// page of the queue's page pool (checksum completed if it was left to
    /// the device), and, for a program with frags, what does not fit there
    /// in more pages of the pool, its frags.  Frames longer than a page
    /// takes (3520 bytes with 4 KiB pages:
    /// [`xdp::max_mtu`](super::xdp::max_mtu) and 18 bytes of headers), for
    /// a program without frags, or still GSO aggregates, are not run
    /// ([`XdpAction::Error`]).
    ///
    /// Errors: the frame back if the budget is used up.
    pub fn run_xdp(&mut self, skb: SkBuff) -> Result<XdpAction, SkBuff> {
        let prog = self.xdp.get();
        if prog.is_null() {
            return self.gro_receive(skb).map(XdpAction::NotRun);
        }
        if !self.take_one() {
            return Err(skb);
        }
        // Even a redirect that failed may have queued clones for a flush
        // (`dev_map_enqueue_multi`): the poll flushes after any program.
        self.xdp_ran.set(true);
        let mut out: *mut c_void = core::ptr::null_mut();
        // `prog`, read from the slot, stays valid in the poll (bottom halves
        // disabled: an RCU read-side section); only this poll takes pages
        // from `page_pool`, the pool of the registered `xdp_rxq`.
        // SAFETY: in the poll function we own the NAPI context, its XDP
        // receive queue and pool are registered (see above); the buffer's
        // reference passes to the callee.
        let r = unsafe {
            bindings::rnm_xdp_run_skb(
                self.napi.get(),
                self.xdp_rxq.get(),
                self.page_pool,
                prog,
                skb.into_raw(),
                &mut out,
            )
        };
        let Ok(r) = u32::try_from(r) else {
            return Ok(XdpAction::Error);
        };
        Ok(match r {
            bindings::xdp_action_XDP_PASS => {
                // SAFETY: as above; `out` is a new buffer of ours, built
                // from the page: no socket or destructor (the preparation
                // for GRO the call makes changes nothing).
                let r = unsafe { bindings::rnm_napi_gro_receive(self.napi.get(), out.cast()) };
                XdpAction::Pass(gro_result(r))
            }
            // SAFETY: for `XDP_TX` `out` is a frame whose ownership passes
            // to us.
            bindings::xdp_action_XDP_TX => match unsafe { XdpFrame::from_raw(out.cast()) } {
                Some(f) => XdpAction::Tx(f),
                None => XdpAction::Error,
            },
            bindings::xdp_action_XDP_REDIRECT => XdpAction::Redirect,
            bindings::xdp_action_XDP_DROP => XdpAction::Drop,
            // `XDP_ABORTED`, and what the callee made of unknown verdicts.
            _ => XdpAction::Aborted,
        })
    }

    /// Whether GRO would have nothing to merge a frame with if this poll
    /// completes: it holds no frame, and completing flushes whatever it is
    /// given (no `gro_flush_timeout`, no busy polling, no netpoll).  A
    /// poll that delivers a single frame and then completes may then hand
    /// it up with [`PollContext::receive`] and spare the stack GRO's work.
    /// Completing such a poll also re-arms NAPI (`napi_complete_done`
    /// defers nothing without a `gro_flush_timeout`), unless an interrupt
    /// came meanwhile (see [`PollContext::complete_reopened`]).
    pub fn gro_idle(&self) -> bool {
        // SAFETY: inside the poll function we own the NAPI context; plain
        // reads of its GRO state and settings.
        unsafe { bindings::rnm_napi_gro_idle(self.napi.get()) }
    }

    /// Hands `skb` to the stack directly (`netif_receive_skb`), marked
    /// with this context's NAPI id as GRO would mark it.  For a frame GRO
    /// has nothing to merge with (see [`PollContext::gro_idle`]).
    ///
    /// Errors: the frame back if the budget is used up.
    pub fn receive(&mut self, skb: SkBuff) -> Result<(), SkBuff> {
        if !self.take_one() {
            return Err(skb);
        }
        // SAFETY: inside the poll function (bottom halves disabled) we own
        // the NAPI context; the buffer's reference passes to the stack,
        // which frees it whatever it returns.
        unsafe { bindings::rnm_napi_receive_skb(self.napi.get(), skb.into_raw()) };
        Ok(())
    }

    /// Hands the frames of `frames` to the stack without GRO, as lists
    /// (`netif_receive_skb_list()`, as GRO hands up the frames it does not
    /// merge), marked with this context's NAPI id, for frames GRO would not
    /// merge: for example, as veth decides
    /// (`veth_skb_is_eligible_for_gro()`), those a peer's stack sent
    /// through a device with TSO (aggregated already), unless this device
    /// merges forwarded UDP and they are sockets' datagrams.  While GRO
    /// holds or queues frames they go through GRO instead, one by one, so
    /// that none of their flows is overtaken.
    ///
    /// Takes the frames in order, as many as the budget allows
    /// ([`Self::remaining`]): those beyond it stay in `frames`.  Returns
    /// how many it took and how many of them GRO merged.  Bottom halves
    /// are disabled (the poll's).
    pub fn receive_list(&mut self, frames: &mut [Option<SkBuff>]) -> (u32, u32) {
        // One call hands up at most this many frames (GRO's own batch is 8).
        const CHUNK: usize = 16;
        let (mut taken, mut merged) = (0u32, 0u32);
        let mut slots = frames.iter_mut().filter(|f| f.is_some()).peekable();
        while slots.peek().is_some() && self.remaining() > 0 {
            let mut ptrs = [core::ptr::null_mut::<bindings::sk_buff>(); CHUNK];
            let mut n = 0;
            while n < CHUNK && self.remaining() > 0 {
                let Some(skb) = slots.next().and_then(Option::take) else {
                    break;
                };
                let _ = self.take_one();
                ptrs[n] = skb.into_raw();
                n += 1;
            }
            // `n <= CHUNK`, which fits.
            let count = n as u32;
            // The first `n` pointers are frames we owned, each once and on
            // no list: an `SkBuff` is the only holder of its buffer, and
            // nothing in `rnm` clones or shares one.  Their references pass
            // to the stack, which frees them whatever becomes of them.
            // SAFETY: in the poll function (BHs off) we own the NAPI context; `ptrs[..n]` as above.
            merged += unsafe {
                bindings::rnm_napi_receive_list(self.napi.get(), ptrs.as_mut_ptr(), count)
            };
            taken += count;
        }
        (taken, merged)
    }

    /// The device this context receives for (`napi->dev`).
    pub fn device(&self) -> &'a Device {
        // SAFETY: inside the poll function the context is added to its
        // device, which the core set in `napi->dev` and which outlives the
        // context (it is deleted before the device is freed).
        unsafe { Device::from_raw((*self.napi.get()).dev) }
    }

    /// The poll is done: NAPI is to be completed with the frames handed
    /// up.  If they used the whole budget, NAPI must not be completed and
    /// this is [`Poll::Continue`] (the core polls again).
    pub fn complete(self) -> Poll<'a> {
        self.finish(false)
    }

    /// As [`PollContext::complete`], for a driver that has reopened its
    /// interrupt already in this poll ([`PollContext::reopen_irq`], whose proof
    /// it takes), so that [`Poller::completed`] is not called: it saw its
    /// queue empty, under the lock that orders its check with the arrival
    /// of frames, with [`PollContext::gro_idle`] true, and reopened the
    /// line under that lock.
    ///
    /// `napi_complete_done` then re-arms NAPI unless an interrupt came
    /// meanwhile: that interrupt found NAPI still scheduled and made the
    /// core poll again (`NAPIF_STATE_MISSED`), with the line masked.  Only
    /// if the per-NAPI settings change meanwhile (`defer-hard-irqs` with a
    /// `gro-flush-timeout`, through netlink) may NAPI complete without
    /// re-arming, the line open: the next frame's interrupt schedules NAPI
    /// before the deferral ends, once.  No frame is left without a poll.
    pub fn complete_reopened(self, _reopened: Reopened<'a>) -> Poll<'a> {
        self.finish(true)
    }

    fn finish(self, reopened: bool) -> Poll<'a> {
        if self.done < self.budget {
            Poll::Complete(WorkDone {
                frames: self.done,
                reopened,
                _poll: PhantomData,
            })
        } else {
            Poll::Continue
        }
    }
}
