// SPDX-License-Identifier: GPL-2.0

//! Bottom-half (softirq) disabling.
//!
//! C header: [`include/linux/bottom_half.h`](srctree/include/linux/bottom_half.h)
//!
//! Data shared between process context and softirq context (a transmit
//! path, a NAPI poll) can be protected by a plain spinlock if process
//! context holds it with bottom halves disabled, as `spin_lock_bh()` does
//! in C:
//!
//! ```ignore
//! let _bh = bh::disable();
//! let mut ring = queue.ring.lock();
//! ```

use crate::rnm::bindings;
use core::marker::PhantomData;

/// Bottom halves are disabled on this CPU while the guard lives.
///
/// Not `Send`: it must be dropped on the CPU that created it.
pub struct BhGuard(PhantomData<*mut ()>);

/// Disables bottom halves on the current CPU until the guard is dropped.
///
/// Must not be called from hard interrupt context.
pub fn disable() -> BhGuard {
    // SAFETY: `local_bh_disable` has no preconditions outside hard
    // interrupt context; it is balanced by `local_bh_enable` in `drop`.
    unsafe { bindings::rnm_local_bh_disable() };
    BhGuard(PhantomData)
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
