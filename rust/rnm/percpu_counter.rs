// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counters.
//!
//! C header: [`include/linux/percpu_counter.h`](srctree/include/linux/percpu_counter.h)
//!
//! A [`PerCpuCounter`] is a signed 64-bit count that many CPUs change
//! often and few read: each CPU adds to a part of its own (on most
//! architectures with an unlocked compare-and-exchange, on the others with
//! interrupts disabled), and folds it into the shared count under the
//! counter's lock when it reaches `percpu_counter_batch` (the larger of 32
//! and twice the number of online CPUs) in absolute value.  Reading the
//! exact value ([`PerCpuCounter::sum`]) adds every CPU's part to the shared
//! count under that lock.  It is the kernel's `struct percpu_counter`, with
//! which file systems count free blocks and the network stack counts
//! sockets.  Without `CONFIG_SMP` it is a plain count.
//!
//! The C object lives in an allocation of its own, which the
//! [`PerCpuCounter`] owns: with `CONFIG_HOTPLUG_CPU` it is on the list of
//! counters that CPU hot-unplug walks, by address, from its initialisation
//! to its destruction.  The handle can move freely, and a handle that is
//! forgotten (`core::mem::forget`) leaks the object, which stays valid on
//! that list, instead of freeing it there.
//!
//! ```
//! # use kernel::prelude::*;
//! use crate::rnm::percpu_counter::PerCpuCounter;
//!
//! let c = PerCpuCounter::new(5)?;
//! c.add(3);
//! c.add(-10);
//! assert_eq!(c.sum(), -2);
//! ```

use crate::rnm::bindings;
use core::{mem::MaybeUninit, ptr::NonNull};
use kernel::{error::to_result, prelude::*};

/// A `struct percpu_counter`, in an allocation of its own.
///
/// # Invariants
///
/// `ptr` comes from [`KBox::into_raw`] of a
/// `KBox<MaybeUninit<bindings::percpu_counter>>` that this object owns.
/// The `struct percpu_counter` there was initialised by
/// `percpu_counter_init()` and is destroyed, and the box freed, only when
/// the object is dropped.
pub struct PerCpuCounter {
    ptr: NonNull<bindings::percpu_counter>,
}

// SAFETY: every operation of the C side on the counter may run on any CPU
// at any time: each CPU changes its own part with an operation that an
// interrupt cannot split (hot-unplug folds the part of a CPU that is gone),
// and the shared count under its raw spinlock with interrupts disabled
// (without `CONFIG_SMP`, the one count with interrupts disabled).  The
// object owns its allocation, which any CPU may free.
unsafe impl Send for PerCpuCounter {}
// SAFETY: as above; `&PerCpuCounter` only adds and reads.
unsafe impl Sync for PerCpuCounter {}

impl PerCpuCounter {
    /// A counter with the value `value`.  Process context (allocates the
    /// object and its per-CPU parts with `GFP_KERNEL`).  The counters of a
    /// module share one lock class: their locks are never nested.
    ///
    /// Errors: `ENOMEM` if the object or its per-CPU parts cannot be
    /// allocated.
    ///
    /// Wraps `percpu_counter_init()`.
    pub fn new(value: i64) -> Result<Self> {
        let raw = KBox::into_raw(KBox::<bindings::percpu_counter>::new_uninit(GFP_KERNEL)?);
        let p = raw.cast::<bindings::percpu_counter>();
        // SAFETY: `p` is valid for writes and is not moved (it is ours
        // until the box is freed); on failure nothing is left allocated or
        // listed.
        if let Err(e) = to_result(unsafe { bindings::rnm_percpu_counter_init(p, value) }) {
            // SAFETY: `raw` comes from `KBox::into_raw` just above; its
            // contents need no destruction.
            drop(unsafe { KBox::<MaybeUninit<bindings::percpu_counter>>::from_raw(raw) });
            return Err(e);
        }
        // INVARIANT: from `KBox::into_raw` (non-null), initialised above.
        Ok(Self {
            // SAFETY: `KBox::into_raw` never returns null.
            ptr: unsafe { NonNull::new_unchecked(p) },
        })
    }

    /// Adds `amount` (which may be negative).  Any context but NMI (the
    /// fold into the shared count takes a spinlock).
    ///
    /// Wraps `percpu_counter_add()`.
    #[inline]
    pub fn add(&self, amount: i64) {
        // SAFETY: `ptr` is initialised (type invariant).
        unsafe { bindings::rnm_percpu_counter_add(self.ptr.as_ptr(), amount) }
    }

    /// The exact value: the shared count and the part of every CPU that
    /// is online (or going offline), added under the counter's lock with
    /// interrupts disabled.  Any context but NMI; its cost grows with the
    /// number of CPUs.  The value may have moved by the time it is
    /// returned if other CPUs are adding.
    ///
    /// Wraps `percpu_counter_sum()`.
    // Inline, as the other functions that call a helper: emitted only in
    // modules that use the type, so that others need not link the helper.
    #[inline]
    pub fn sum(&self) -> i64 {
        // SAFETY: `ptr` is initialised (type invariant).
        unsafe { bindings::rnm_percpu_counter_sum(self.ptr.as_ptr()) }
    }
}

impl Drop for PerCpuCounter {
    // Inline: see `sum`.
    #[inline]
    fn drop(&mut self) {
        let p = self.ptr.as_ptr();
        // SAFETY: `p` is initialised (type invariant), and nobody can use
        // it any more: its owner goes away.
        unsafe { bindings::rnm_percpu_counter_destroy(p) };
        // SAFETY: `p` comes from `KBox::into_raw` of a box we own (type
        // invariant); destroyed, it needs no further destruction.
        drop(unsafe { KBox::<MaybeUninit<bindings::percpu_counter>>::from_raw(p.cast()) });
    }
}
