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
//!
//! Data shared with softirq context goes under a [`SpinLockBh`], which is
//! only ever locked with bottom halves disabled: either given the proof
//! ([`SpinLockBh::lock_with`], whose guard cannot outlive it) or disabling
//! them itself for as long as its guard lives ([`SpinLockBh::lock`],
//! `spin_lock_bh()`).

use crate::rnm::bindings;
use core::{
    marker::PhantomData,
    ops::{Deref, DerefMut},
    pin::Pin,
};
use kernel::{
    prelude::*,
    str::CStr,
    sync::{LockClassKey, SpinLock, SpinLockGuard},
};

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
///
/// # Invariants
///
/// If `enable` is true, `local_bh_disable` was called on this CPU for this
/// guard and not balanced yet; if it is false, the guard was made in hard
/// interrupt context (or, on PREEMPT_RT, with interrupts disabled), which
/// outlasts it.
pub struct BhGuard {
    ctx: BhContext,
    enable: bool,
}

/// Disables bottom halves on the current CPU (`local_bh_disable`) until the
/// guard is dropped.
///
/// Any context.  In hard interrupt context softirqs cannot run anyway and
/// `local_bh_disable`/`local_bh_enable` must not be called: there the guard
/// only proves the context and changes nothing.  With interrupts disabled
/// it disables bottom halves all the same (the caller may enable
/// interrupts again while the guard lives); dropped with interrupts
/// disabled, it ends the section without running pending softirqs
/// (`_local_bh_enable`).
// Inline: emitted only in modules that use it, so that others need not
// link the helpers it calls.
#[inline]
pub fn disable() -> BhGuard {
    // SAFETY: reads this CPU's preempt count and interrupt flag.
    let blocked = unsafe { bindings::rnm_local_bh_blocked() };
    if !blocked {
        // SAFETY: not in hard interrupt context, where `local_bh_disable`
        // may be called; balanced by `rnm_local_bh_enable` in `drop`,
        // which works with interrupts enabled or disabled.
        unsafe { bindings::rnm_local_bh_disable() };
    }
    // INVARIANT: `enable` says whether `local_bh_disable` was called.
    BhGuard {
        // Blocked: the hard interrupt outlasts the guard, which is not
        // `Send` (on PREEMPT_RT, interrupts disabled are trusted to stay
        // so: see `rnm_local_bh_blocked`).
        // SAFETY: bottom halves cannot run here until the guard is dropped
        // (disabled above, or blocked); the context is only lent by
        // reference from the guard.
        ctx: unsafe { BhContext::new() },
        enable: !blocked,
    }
}

impl Deref for BhGuard {
    type Target = BhContext;

    fn deref(&self) -> &BhContext {
        &self.ctx
    }
}

impl Drop for BhGuard {
    // Inline: emitted only in modules that use the type, so that others
    // need not link the helper.
    #[inline]
    fn drop(&mut self) {
        if self.enable {
            // SAFETY: balances the `local_bh_disable` of `disable` (type
            // invariant), on the same CPU since the guard is not `Send`.
            unsafe { bindings::rnm_local_bh_enable() };
        }
    }
}

/// A spinlock for data shared with softirq context: it is only taken with
/// bottom halves disabled on the CPU that holds it, so that a softirq
/// (a NAPI poll, a transmit) that takes it cannot interrupt its holder on
/// the same CPU and spin forever.
///
/// The `spinlock_t` of [`SpinLock`], locked as C locks it with
/// `spin_lock_bh()`, or with `spin_lock()` where bottom halves are already
/// disabled.  The guard of [`SpinLockBh::lock_with`] borrows the proof that
/// they are, so the lock is always released before bottom halves are
/// enabled again:
///
/// ```
/// use crate::rnm::bh::{self, SpinLockBh};
///
/// fn len(lock: &SpinLockBh<KVec<u8>>) -> usize {
///     let bh = bh::disable();
///     let len = lock.lock_with(&bh).len();
///     len
/// }
///
/// fn push(lock: &SpinLockBh<KVec<u8>>, b: u8) -> Result {
///     lock.lock().push(b, GFP_ATOMIC)?;
///     Ok(())
/// }
/// ```
///
/// Create one with [`SpinLockBh::new`], given a name and a lock class as
/// [`kernel::new_spinlock!`] gives them to a [`SpinLock`]:
///
/// ```
/// use crate::rnm::bh::SpinLockBh;
///
/// fn ring() -> impl PinInit<SpinLockBh<u32>> {
///     SpinLockBh::new(0, kernel::c_str!("ring"), kernel::static_lock_class!())
/// }
/// ```
#[pin_data]
pub struct SpinLockBh<T> {
    #[pin]
    inner: SpinLock<T>,
}

impl<T> SpinLockBh<T> {
    /// An initialiser of the lock, unlocked, holding `t`; `name` and `key`
    /// are its lockdep name and class (`kernel::static_lock_class!()`
    /// makes a new class).
    pub fn new(
        t: impl PinInit<T>,
        name: &'static CStr,
        key: Pin<&'static LockClassKey>,
    ) -> impl PinInit<Self> {
        pin_init!(Self {
            inner <- SpinLock::new(t, name, key),
        })
    }

    /// Takes the lock where bottom halves are disabled already
    /// (`spin_lock()`): in a softirq callback, or under a [`BhGuard`].
    /// Not in hard interrupt context (a [`Poller::interrupt`] that may run
    /// there): a holder in process context has interrupts enabled, and the
    /// interrupt would spin on its own CPU forever.
    ///
    /// [`Poller::interrupt`]: crate::rnm::net::napi::Poller::interrupt
    ///
    /// Spins while another CPU holds it.  The guard borrows `bh`, so it is
    /// released before bottom halves can be enabled again.
    #[inline]
    pub fn lock_with<'a>(&'a self, bh: &'a BhContext) -> SpinLockGuard<'a, T> {
        let _ = bh;
        self.inner.lock()
    }

    /// Disables bottom halves on this CPU and takes the lock
    /// (`spin_lock_bh()`); dropping the guard releases the lock, then
    /// enables bottom halves again (`spin_unlock_bh()`).
    ///
    /// Process context or softirq context (where disabling bottom halves
    /// again only nests); not hard interrupt context, as for
    /// [`SpinLockBh::lock_with`].  Spins while another CPU holds the lock.
    #[inline]
    pub fn lock(&self) -> SpinLockBhGuard<'_, T> {
        let bh = disable();
        SpinLockBhGuard {
            guard: self.inner.lock(),
            _bh: bh,
        }
    }
}

/// The guard of [`SpinLockBh::lock`]: the lock is held, and bottom halves
/// disabled, while it lives.  Not `Send`: it must be dropped on the CPU
/// that took it.
///
/// # Invariants
///
/// `guard` is released before `_bh` enables bottom halves again: fields are
/// dropped in the order they are declared.
pub struct SpinLockBhGuard<'a, T> {
    guard: SpinLockGuard<'a, T>,
    _bh: BhGuard,
}

impl<T> Deref for SpinLockBhGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: Unpin> DerefMut for SpinLockBhGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}
