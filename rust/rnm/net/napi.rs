// SPDX-License-Identifier: GPL-2.0

//! NAPI contexts, each with a simulated interrupt line.
//!
//! C header: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h),
//! [`include/linux/hrtimer.h`](srctree/include/linux/hrtimer.h),
//! [`include/linux/smp.h`](srctree/include/linux/smp.h)
//!
//! A [`Napi`] is a `napi_struct` added to a device with a weight, plus the
//! driver's per-queue data `P` and an interrupt line as a real NIC has one
//! per receive queue:
//!
//! - [`Napi::raise_irq`] delivers an interrupt now, unless the line is
//!   masked.  Delivery masks the line and runs [`Poller::interrupt`] (which
//!   typically schedules NAPI), like an MSI-X vector with auto-masking.
//! - [`Napi::arm_irq`] delivers it after a delay (an hrtimer, expiring in
//!   hard interrupt context as a device's interrupt would, except on
//!   PREEMPT_RT), for time-based interrupt coalescing; arming an armed line
//!   does nothing.
//! - [`Napi::unmask_irq`] reopens the line, from the poll function
//!   once NAPI has completed.
//! - [`Napi::set_irq_cpu`] steers the line to one CPU, as
//!   `/proc/irq/N/smp_affinity_list` steers a NIC's vector: an interrupt
//!   raised elsewhere reaches that CPU by an IPI (an asynchronous cross-CPU
//!   call), and NAPI, scheduled by the handler, polls there (unless it is
//!   threaded: then the handler wakes its thread).  Unsteered, the handler
//!   runs on the CPU that raised the interrupt.
//!
//! [`Poller::poll`] runs in softirq context, or with bottom halves disabled
//! in the context's kernel thread when the device's NAPI is threaded
//! (`/sys/class/net/DEV/threaded`), with a [`PollContext`], through which
//! frames go up the stack (GRO) and NAPI is completed.

use crate::rnm::{
    bindings,
    net::{device::Device, skb::SkBuff},
};
use core::{
    ffi::c_void,
    mem::offset_of,
    sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering},
};
use kernel::{
    cpu::CpuId,
    prelude::*,
    time::{delay::fsleep, Delta},
    types::Opaque,
};

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

/// The per-queue data of a NAPI context and its callbacks.
pub trait Poller: Send + Sync + Sized {
    /// Processes up to `budget` frames and returns how many; calls
    /// [`PollContext::complete_done`] when it did less than `budget`.
    fn poll(napi: &Napi<Self>, ctx: &mut PollContext<'_>, budget: u32) -> u32;

    /// The interrupt handler; the line is masked while it runs and stays
    /// masked until the poll function unmasks it.  Runs on the CPU the line
    /// is steered to (see [`Napi::set_irq_cpu`]), in hard interrupt context
    /// when an IPI or (except on PREEMPT_RT) the delay of [`Napi::arm_irq`]
    /// delivers it, with bottom halves disabled otherwise: it must not
    /// sleep, nor take a lock that is held elsewhere with interrupts
    /// enabled.  `remote` tells that the interrupt was raised on another CPU
    /// and reached this one by an IPI.
    fn interrupt(napi: &Napi<Self>, remote: bool);
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

/// A `call_single_data_t`, with the alignment the C type has (bindgen
/// drops it): it then never straddles two cache lines.
#[repr(C, align(32))]
struct Csd(Opaque<bindings::__call_single_data>);

/// A NAPI context with a simulated interrupt line and per-queue data `P`.
///
/// # Invariants
///
/// `napi` was added to a device with `netif_napi_add_weight`, `timer` set
/// up with `hrtimer_setup` and `csd` with `INIT_CSD` to call
/// [`Napi::ipi_callback`] with this object's address, all at this address
/// (the object is never moved: it is only handed out pinned); `enabled`
/// tells whether `napi_enable` was called last (rather than
/// `napi_disable`); `ipi` is [`IPI_IDLE`] except from before `csd` is
/// queued to another CPU until its callback's last access to the object,
/// and `csd` is queued only on the move from [`IPI_IDLE`] to [`IPI_SENT`];
/// `irq_cpu` is [`IRQ_CPU_LOCAL`] or a CPU id below `nr_cpu_ids`.
#[repr(C)]
pub struct Napi<P: Poller> {
    napi: Opaque<bindings::napi_struct>,
    timer: Opaque<bindings::hrtimer>,
    csd: Csd,
    irq_cpu: AtomicI32,
    ipi: AtomicU32,
    masked: AtomicBool,
    armed: AtomicBool,
    enabled: AtomicBool,
    data: P,
}

// SAFETY: the C parts are used under the core's NAPI and hrtimer rules from
// any CPU; `P` is `Send + Sync`.
unsafe impl<P: Poller> Send for Napi<P> {}
// SAFETY: as above; every method taking `&self` is safe to call
// concurrently.
unsafe impl<P: Poller> Sync for Napi<P> {}

impl<P: Poller> Napi<P> {
    /// Adds a NAPI context to `dev` with `weight` (1..=[`MAX_WEIGHT`]),
    /// disabled, with its interrupt line unmasked.
    pub fn new(dev: &Device, weight: u32, data: P) -> Result<Pin<KBox<Self>>> {
        if weight == 0 || weight > MAX_WEIGHT {
            return Err(EINVAL);
        }
        let this = KBox::new(
            Self {
                napi: Opaque::zeroed(),
                timer: Opaque::zeroed(),
                csd: Csd(Opaque::zeroed()),
                irq_cpu: AtomicI32::new(IRQ_CPU_LOCAL),
                ipi: AtomicU32::new(IPI_IDLE),
                masked: AtomicBool::new(false),
                armed: AtomicBool::new(false),
                enabled: AtomicBool::new(false),
                data,
            },
            GFP_KERNEL,
        )?;
        let info = core::ptr::from_ref::<Self>(&this)
            .cast_mut()
            .cast::<c_void>();
        // SAFETY: the device is valid; `napi`, `timer` and `csd` are zeroed
        // and at their final address (the box is never moved out of, and is
        // returned pinned).
        unsafe {
            bindings::rnm_net_netif_napi_add_weight(
                dev.as_raw(),
                this.napi.get(),
                Some(Self::poll_callback),
                weight as c_int,
            );
            bindings::hrtimer_setup(
                this.timer.get(),
                Some(Self::timer_callback),
                bindings::CLOCK_MONOTONIC as i32,
                bindings::hrtimer_mode_HRTIMER_MODE_REL,
            );
            bindings::rnm_net_irq_csd_init(this.csd.0.get(), Some(Self::ipi_callback), info);
        }
        // INVARIANT: all three set up at the box's address.
        Ok(KBox::into_pin(this))
    }

    /// The per-queue data.
    pub fn data(&self) -> &P {
        &self.data
    }

    /// Enables polling (`napi_enable`); does nothing if enabled.  Process
    /// context.
    pub fn enable(&self) {
        if !self.enabled.swap(true, Ordering::AcqRel) {
            // SAFETY: the context is added and disabled (`enabled` was
            // false), as `napi_enable` requires.
            unsafe { bindings::napi_enable(self.napi.get()) };
        }
    }

    /// Disables polling (`napi_disable`), waiting for a running poll to
    /// finish, cancels a pending delayed interrupt and waits for an
    /// interrupt on its way to another CPU; does nothing if disabled.
    /// Process context.
    pub fn disable(&self) {
        if self.enabled.swap(false, Ordering::AcqRel) {
            // SAFETY: the context is added and enabled.
            unsafe { bindings::napi_disable(self.napi.get()) };
        }
        // SAFETY: the timer is set up; may sleep, process context.
        unsafe { bindings::hrtimer_cancel(self.timer.get()) };
        self.armed.store(false, Ordering::Release);
        // An IPI already sent is handled within microseconds: the target
        // CPU is online (or the call would have failed) and takes it as
        // soon as it enables interrupts.
        while self.ipi.load(Ordering::Acquire) != IPI_IDLE {
            fsleep(Delta::from_micros(10));
        }
    }

    /// Schedules the poll function (`napi_schedule`); returns whether it
    /// was scheduled now (false: already scheduled, or disabled).
    pub fn schedule(&self) -> bool {
        // SAFETY: the context is added.
        if unsafe { bindings::napi_schedule_prep(self.napi.get()) } {
            // SAFETY: `napi_schedule_prep` gave us the right to schedule.
            unsafe { bindings::__napi_schedule(self.napi.get()) };
            true
        } else {
            false
        }
    }

    /// The NAPI weight: the budget each poll gets.
    pub fn weight(&self) -> u32 {
        // SAFETY: the context is added; a plain read of `napi->weight`.
        unsafe { bindings::rnm_net_napi_weight(self.napi.get()) as u32 }
    }

    /// Sets the NAPI weight (1..=[`MAX_WEIGHT`]); the next poll gets it.
    pub fn set_weight(&self, weight: u32) -> Result {
        if weight == 0 || weight > MAX_WEIGHT {
            return Err(EINVAL);
        }
        // SAFETY: the context is added; `WRITE_ONCE` of `napi->weight`,
        // which the core reads once per poll.
        unsafe { bindings::rnm_net_napi_set_weight(self.napi.get(), weight as c_int) };
        Ok(())
    }

    /// Whether the interrupt line is masked.
    pub fn irq_masked(&self) -> bool {
        self.masked.load(Ordering::Acquire)
    }

    /// The CPU the line is steered to, or `None` if its interrupts are
    /// handled where they are raised.
    pub fn irq_cpu(&self) -> Option<u32> {
        u32::try_from(self.irq_cpu.load(Ordering::Relaxed)).ok()
    }

    /// Steers the line to `cpu`, or with `None` lets each interrupt be
    /// handled on the CPU that raises it.  Fails with `EINVAL` (and changes
    /// nothing) if `cpu` is not online.  Takes effect from the next
    /// interrupt.
    pub fn set_irq_cpu(&self, cpu: Option<u32>) -> Result {
        let v = match cpu {
            None => IRQ_CPU_LOCAL,
            Some(c) => {
                // SAFETY: reads the online mask; any value is valid.
                if !unsafe { bindings::rnm_net_cpu_online(c) } {
                    return Err(EINVAL);
                }
                i32::try_from(c).map_err(|_| EINVAL)?
            }
        };
        self.irq_cpu.store(v, Ordering::Relaxed);
        Ok(())
    }

    /// Delivers an interrupt now unless the line is masked; returns whether
    /// it was delivered.  The handler runs here, or on the CPU the line is
    /// steered to.
    ///
    /// Call it with bottom halves disabled (the transmit path, a NAPI poll,
    /// a timer; in process context under a [`crate::rnm::bh::disable`]
    /// guard), as a NAPI scheduled here is only polled when they are
    /// enabled again.
    pub fn raise_irq(&self) -> bool {
        if self.masked.swap(true, Ordering::AcqRel) {
            return false;
        }
        // With bottom halves disabled this is the CPU the handler runs on
        // if it runs here.  (Were the caller to migrate after all, the IPI
        // would go to a CPU that is now its own, which runs the handler at
        // once: nothing worse than a miscounted remote interrupt.)
        let target = self.irq_cpu.load(Ordering::Relaxed);
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
                match self
                    .ipi
                    .compare_exchange(state, next, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(IPI_IDLE) => break,
                    Ok(_) | Err(IPI_AGAIN) => return true,
                    Err(now) => state = now,
                }
            }
            // SAFETY: `csd` was set up by `INIT_CSD`; it is free: this is
            // the only sender (the move to `IPI_SENT` is ours), and the
            // previous callback, which the C side calls after releasing the
            // csd, moved `ipi` back to `IPI_IDLE` as its last step.
            if unsafe { bindings::rnm_net_irq_send(target, self.csd.0.get()) } == 0 {
                return true;
            }
            // Not queued (the CPU went offline): handle it here, and with
            // it any interrupt raised meanwhile.
            self.ipi.store(IPI_IDLE, Ordering::Release);
        }
        P::interrupt(self, false);
        true
    }

    /// Delivers an interrupt `usecs` microseconds from now, unless the
    /// line is masked by then.  Does nothing if already armed.
    pub fn arm_irq(&self, usecs: u32) {
        if self.armed.swap(true, Ordering::AcqRel) {
            return;
        }
        // SAFETY: the timer is set up; starting it is valid in any context.
        unsafe { bindings::rnm_net_hrtimer_start(self.timer.get(), u64::from(usecs) * 1000) };
    }

    /// Reopens the interrupt line (from the poll function once NAPI has
    /// completed, or after enabling NAPI).
    pub fn unmask_irq(&self) {
        self.masked.store(false, Ordering::Release);
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
        let mut ctx = PollContext {
            napi,
            _p: core::marker::PhantomData,
        };
        let budget = u32::try_from(budget).unwrap_or(0);
        P::poll(this, &mut ctx, budget).min(budget) as c_int
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback `csd` is set up with,
    /// with the argument it is set up with.
    unsafe extern "C" fn ipi_callback(info: *mut c_void) {
        // SAFETY: `info` is the address of the `Napi<P>` whose `csd` this
        // is; `ipi` is not `IPI_IDLE`, so `disable` (which runs before the
        // object is dropped) waits until the move to `IPI_IDLE` below.
        let this = unsafe { &*info.cast::<Self>() };
        loop {
            P::interrupt(this, true);
            // Last access to `this` when it succeeds: the object may go
            // once `IPI_IDLE` is seen.
            match this
                .ipi
                .compare_exchange(IPI_SENT, IPI_IDLE, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                // Raised again meanwhile: deliver that one too.
                Err(_) => this.ipi.store(IPI_SENT, Ordering::Release),
            }
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn timer_callback(
        timer: *mut bindings::hrtimer,
    ) -> bindings::hrtimer_restart {
        // SAFETY: `timer` is the `timer` field of a `Napi<P>` (the only
        // timers this callback is set up for); `drop` cancels the timer
        // before the object goes away.
        let this = unsafe { &*timer.byte_sub(offset_of!(Self, timer)).cast::<Self>() };
        this.armed.store(false, Ordering::Release);
        this.raise_irq();
        bindings::hrtimer_restart_HRTIMER_NORESTART
    }
}

impl<P: Poller> Drop for Napi<P> {
    fn drop(&mut self) {
        self.disable();
        // SAFETY: the context is added and disabled; its device is still
        // allocated (private data, holding the `Napi`, is dropped before
        // the device is freed).  `netif_napi_del` waits for an RCU grace
        // period, after which the core no longer refers to it.
        unsafe { bindings::rnm_net_netif_napi_del(self.napi.get()) };
    }
}

/// What the poll function may do with its NAPI context while it owns it.
pub struct PollContext<'a> {
    napi: *mut bindings::napi_struct,
    _p: core::marker::PhantomData<&'a ()>,
}

impl PollContext<'_> {
    /// Hands `skb` to the stack through GRO (`napi_gro_receive`).
    pub fn gro_receive(&mut self, skb: SkBuff) -> GroResult {
        // SAFETY: inside the poll function we own the NAPI context; the
        // buffer's reference passes to the stack.
        let r = unsafe { bindings::rnm_net_napi_gro_receive(self.napi, skb.into_raw_for_gro()) };
        match r {
            bindings::gro_result_GRO_MERGED | bindings::gro_result_GRO_MERGED_FREE => {
                GroResult::Merged
            }
            bindings::gro_result_GRO_HELD => GroResult::Held,
            bindings::gro_result_GRO_NORMAL => GroResult::Normal,
            _ => GroResult::Consumed,
        }
    }

    /// Whether GRO would have nothing to merge a frame with if this poll
    /// completes: it holds no frame, and completing flushes whatever it is
    /// given (no `gro_flush_timeout`, no busy polling).  A poll that
    /// delivers a single frame and then completes may then hand it up with
    /// [`PollContext::receive`] and spare the stack GRO's work.
    pub fn gro_idle(&self) -> bool {
        // SAFETY: inside the poll function we own the NAPI context; plain
        // reads of its GRO state and settings.
        unsafe { bindings::rnm_net_napi_gro_idle(self.napi) }
    }

    /// Hands `skb` to the stack directly (`netif_receive_skb`), marked
    /// with this context's NAPI id as GRO would mark it.  For a frame GRO
    /// has nothing to merge with (see [`PollContext::gro_idle`]).
    pub fn receive(&mut self, skb: SkBuff) {
        // SAFETY: inside the poll function (softirq context) we own the
        // NAPI context; the buffer's reference passes to the stack, which
        // frees it whatever it returns.
        unsafe { bindings::rnm_net_napi_receive_skb(self.napi, skb.into_raw()) };
    }

    /// Completes NAPI after `work_done` frames (`napi_complete_done`);
    /// returns false if the core wants another poll anyway (busy polling,
    /// or a reschedule request), in which case interrupts stay masked.
    pub fn complete_done(&mut self, work_done: u32) -> bool {
        // SAFETY: inside the poll function we own the NAPI context.
        unsafe { bindings::napi_complete_done(self.napi, work_done as c_int) }
    }
}
