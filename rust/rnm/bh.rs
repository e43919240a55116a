// SPDX-License-Identifier: GPL-2.0

//! Bottom-half (softirq) disabling, and the proof that bottom halves are
//! disabled.
//!
//! C header: [`include/linux/bottom_half.h`](srctree/include/linux/bottom_half.h)
//!
//! Data shared between process context and softirq context (a transmit
//! path, a NAPI poll) can be protected by a plain spinlock if process
//! context holds it with bottom halves disabled, as `spin_lock_bh()` does
//! in C.  Functions that must only run with bottom halves disabled take a
//! [`&BhContext`](BhContext) (as upstream's `SpinLockIrq::lock_with` takes
//! its interrupts-disabled guard): the softirq callbacks of the
//! abstractions are given one, and process context gets one from a
//! [`BhGuard`]:
//!
//! ```
//! use crate::rnm::bh::{self, BhContext};
//!
//! fn needs_bh_off(_bh: &BhContext) {}
//!
//! let guard = bh::disable();
//! needs_bh_off(&guard);
//! drop(guard);
//! ```

use crate::rnm::bindings;
use core::{marker::PhantomData, ops::Deref};

/// Proof that bottom halves do not run on this CPU for as long as the
/// reference lives: softirq context, a [`BhGuard`], or hard interrupt
/// context.  Such a region is also an RCU read-side critical section, which
/// `synchronize_rcu()` waits for.
///
/// Only the abstractions create one; leaf code gets it by reference from
/// a callback or from a [`BhGuard`].  Not `Send` nor `Sync`: it is about
/// the current CPU.
///
/// # Invariants
///
/// While a `&BhContext` is usable, bottom halves are disabled (or cannot
/// run) on the CPU that created the value.
pub struct BhContext(PhantomData<*mut ()>);

impl BhContext {
    /// Creates the proof.
    ///
    /// # Safety
    ///
    /// Bottom halves must stay disabled (or unable to run) on this CPU for
    /// as long as the value lives; the caller lends it only by reference.
    #[inline]
    pub(in crate::rnm) unsafe fn new() -> Self {
        // INVARIANT: by the safety requirements.
        Self(PhantomData)
    }
}

/// Bottom halves are disabled on this CPU while the guard lives.
///
/// Dereferences to the [`BhContext`] it proves.  Not `Send`: it must be
/// dropped on the CPU that created it.
pub struct BhGuard(BhContext);

/// Disables bottom halves on the current CPU (`local_bh_disable`) until the
/// guard is dropped.
///
/// Must not be called from hard interrupt context.
pub fn disable() -> BhGuard {
    // SAFETY: `local_bh_disable` has no preconditions outside hard
    // interrupt context; it is balanced by `local_bh_enable` in `drop`.
    unsafe { bindings::rnm_local_bh_disable() };
    // SAFETY: bottom halves stay disabled until the guard is dropped, and
    // the context is only lent by reference from the guard.
    BhGuard(unsafe { BhContext::new() })
}

impl Deref for BhGuard {
    type Target = BhContext;

    fn deref(&self) -> &BhContext {
        &self.0
    }
}

impl Drop for BhGuard {
    // Inline: emitted only in modules that use the type, so that others
    // need not link the helper.
    #[inline]
    fn drop(&mut self) {
        // SAFETY: balances the `local_bh_disable` of `disable`, on the same
        // CPU since the guard is not `Send`.
        unsafe { bindings::rnm_local_bh_enable() };
    }
}
