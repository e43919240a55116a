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
//! if let Some(guard) = bh::disable() {
//!     needs_bh_off(&guard);
//! }
//! ```
//!
//! Code that may run in hard interrupt context (an interrupt handler) gets
//! the weaker [`&IrqContext`](IrqContext) instead: softirqs do not run
//! there either, so it may schedule NAPI, but it must not take a lock that
//! process context holds with only bottom halves disabled (the interrupt
//! would spin on its own CPU forever).  A [`BhContext`] dereferences to
//! one; nothing turns an [`IrqContext`] into a [`BhContext`].
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
    sync::{
        lock::{Backend, Guard, Lock},
        LockClassKey,
    },
};

/// Proof that softirqs do not run on this CPU for as long as the reference
/// lives, and that any raised meanwhile run when the region ends: hard
/// interrupt context, or bottom halves disabled.  Such a region is also an
/// RCU read-side critical section, which `synchronize_rcu()` waits for.
///
/// What an interrupt handler ([`Poller::interrupt`]) gets: it may be hard
/// interrupt context, so it does not prove what [`SpinLockBh::lock_with`]
/// needs.  A [`BhContext`] dereferences to one.
///
/// Only the abstractions create one.  Not `Send` nor `Sync`: it is about
/// the current CPU.
///
/// [`Poller::interrupt`]: crate::rnm::net::napi::Poller::interrupt
///
/// # Invariants
///
/// While a `&IrqContext` is usable, the CPU that created the value is in
/// hard interrupt context, or has interrupts or bottom halves disabled.
pub struct IrqContext(PhantomData<*mut ()>);

// The abstractions are compiled into the crate of the module that uses
// them, where the orphan rule does not keep that module from implementing
// `Drop` or `Copy` for their types: this (empty) implementation rules out
// both (E0119, E0184).  A copy of the proof, or code of the module run when it
// is dropped, could outlive the context it proves.
impl Drop for IrqContext {
    #[inline(always)]
    fn drop(&mut self) {}
}

impl IrqContext {
    /// Creates the proof.
    ///
    /// # Safety
    ///
    /// The CPU must stay in hard interrupt context, or with interrupts or
    /// bottom halves disabled, for as long as the value lives; the caller
    /// lends it only by reference.
    #[inline]
    pub(in crate::rnm) unsafe fn new() -> Self {
        // INVARIANT: by the safety requirements.
        Self(PhantomData)
    }
}

/// Proof that bottom halves are disabled on this CPU, outside hard
/// interrupt context, for as long as the reference lives: softirq context,
/// the thread of a threaded NAPI or a busy poller under
/// `local_bh_disable()`, or a [`BhGuard`].  A softirq cannot interrupt the
/// holder, and neither is this an interrupt that could interrupt a holder
/// of a lock taken with only bottom halves disabled: such a lock
/// ([`SpinLockBh`]) may be taken here.
///
/// Only the abstractions create one; leaf code gets it by reference from
/// a callback or from a [`BhGuard`].  Not `Send` nor `Sync`: it is about
/// the current CPU.  Dereferences to the weaker [`IrqContext`].
///
/// # Invariants
///
/// While a `&BhContext` is usable, bottom halves are disabled on the CPU
/// that created the value, which is not in hard interrupt context.
pub struct BhContext(IrqContext);

// As for `IrqContext`: a `BhGuard` drops its proof after enabling bottom
// halves.
impl Drop for BhContext {
    #[inline(always)]
    fn drop(&mut self) {}
}

impl BhContext {
    /// Creates the proof.
    ///
    /// # Safety
    ///
    /// Bottom halves must stay disabled on this CPU, outside hard
    /// interrupt context, for as long as the value lives; the caller lends
    /// it only by reference.
    #[inline]
    pub(in crate::rnm) unsafe fn new() -> Self {
        // INVARIANT: by the safety requirements.
        // SAFETY: bottom halves stay disabled as long as the value lives
        // (the caller's guarantee), which is what `IrqContext` needs.
        Self(unsafe { IrqContext::new() })
    }
}

impl Deref for BhContext {
    type Target = IrqContext;

    #[inline]
    fn deref(&self) -> &IrqContext {
        &self.0
    }
}

/// Bottom halves are disabled on this CPU while the guard lives.
///
/// Dereferences to the [`BhContext`] it proves.  Not `Send`: it must be
/// dropped on the CPU that created it.
///
/// # Invariants
///
/// `local_bh_disable` was called on this CPU, outside hard interrupt
/// context, for this guard and not balanced yet.
pub struct BhGuard {
    ctx: BhContext,
}

/// Disables bottom halves on the current CPU (`local_bh_disable`) until the
/// guard is dropped.
///
/// Process or softirq context (where it only nests), with interrupts
/// enabled or disabled; dropped with interrupts disabled, the guard ends
/// the section without running pending softirqs (`_local_bh_enable`).
/// Returns `None`, and changes nothing, in hard interrupt context (or, on
/// PREEMPT_RT, with interrupts disabled), where `local_bh_disable` must not
/// be called and where no [`BhContext`] may exist: an interrupt must not
/// take a lock that process context holds with only bottom halves
/// disabled.
// Inline: emitted only in modules that use it, so that others need not
// link the helpers it calls.
#[inline]
pub fn disable() -> Option<BhGuard> {
    // SAFETY: reads this CPU's preempt count and interrupt flag.
    if unsafe { bindings::rnm_local_bh_blocked() } {
        return None;
    }
    // SAFETY: not in hard interrupt context, where `local_bh_disable` may be
    // called; balanced by `rnm_local_bh_enable` in `drop`, which works with
    // interrupts enabled or disabled.
    unsafe { bindings::rnm_local_bh_disable() };
    // INVARIANT: disabled above, outside hard interrupt context.
    Some(BhGuard {
        // SAFETY: bottom halves stay disabled until the guard, which is
        // not `Send`, is dropped; the context is only lent by reference
        // from the guard.
        ctx: unsafe { BhContext::new() },
    })
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
        // SAFETY: balances the `local_bh_disable` of `disable` (type
        // invariant), on the same CPU since the guard is not `Send`.
        unsafe { bindings::rnm_local_bh_enable() };
    }
}

/// `spin_lock()`, `spin_unlock()`, `spin_lock_bh()` and `spin_unlock_bh()`
/// on a `spinlock_t`, as C compiles them.
///
/// They are static inline functions.  C code calls what they expand to,
/// which in most configurations is a function of
/// `kernel/locking/spinlock.c` (`_raw_spin_lock()` and its siblings, on
/// the `raw_spinlock_t` at the start of a `spinlock_t`); a module built
/// outside the kernel tree reaches them through a helper, which makes
/// that call from another one.  These call the function directly where
/// the configuration makes it one (SMP, not `PREEMPT_RT`; the locks not
/// inlined, `CONFIG_INLINE_SPIN_LOCK*` unset, and the unlock made a
/// function, `CONFIG_UNINLINE_SPIN_UNLOCK` set, as it is with preemption
/// or spinlock debugging), and the helper elsewhere: the same locking, one
/// call fewer, on a path that takes a lock per packet.
pub(in crate::rnm) mod spin {
    use kernel::bindings::spinlock_t;

    /// `spin_lock()`.
    ///
    /// # Safety
    ///
    /// `lock` must point to an initialised `spinlock_t`; the caller must
    /// follow the locking rules of the kernel for it (not held by this
    /// CPU; bottom halves disabled if softirq context takes it too).
    #[inline(always)]
    pub(in crate::rnm) unsafe fn lock(lock: *mut spinlock_t) {
        #[cfg(all(CONFIG_SMP, not(CONFIG_PREEMPT_RT), not(CONFIG_INLINE_SPIN_LOCK)))]
        // SAFETY: `spin_lock()` is `raw_spin_lock(&lock->rlock)`, and the
        // `raw_spinlock_t` `rlock` starts the `spinlock_t` (caller: valid).
        unsafe {
            kernel::bindings::_raw_spin_lock(lock.cast())
        };
        #[cfg(not(all(CONFIG_SMP, not(CONFIG_PREEMPT_RT), not(CONFIG_INLINE_SPIN_LOCK))))]
        // SAFETY: as the caller guarantees.
        unsafe {
            kernel::bindings::spin_lock(lock)
        };
    }

    /// `spin_unlock()`.
    ///
    /// # Safety
    ///
    /// `lock` must point to a `spinlock_t` that this CPU holds, taken
    /// with [`lock`].
    #[inline(always)]
    pub(in crate::rnm) unsafe fn unlock(lock: *mut spinlock_t) {
        #[cfg(all(CONFIG_SMP, not(CONFIG_PREEMPT_RT), CONFIG_UNINLINE_SPIN_UNLOCK))]
        // SAFETY: as in `lock`; this CPU holds it (caller).
        unsafe {
            kernel::bindings::_raw_spin_unlock(lock.cast())
        };
        #[cfg(not(all(CONFIG_SMP, not(CONFIG_PREEMPT_RT), CONFIG_UNINLINE_SPIN_UNLOCK)))]
        // SAFETY: as the caller guarantees.
        unsafe {
            kernel::bindings::spin_unlock(lock)
        };
    }

    /// `spin_lock_bh()`.
    ///
    /// # Safety
    ///
    /// `lock` must point to an initialised `spinlock_t` that this CPU
    /// does not hold; not in hard interrupt context.
    #[inline(always)]
    pub(in crate::rnm) unsafe fn lock_bh(lock: *mut spinlock_t) {
        #[cfg(all(CONFIG_SMP, not(CONFIG_PREEMPT_RT), not(CONFIG_INLINE_SPIN_LOCK_BH)))]
        // SAFETY: `spin_lock_bh()` is `raw_spin_lock_bh(&lock->rlock)`,
        // with `rlock` at the start of the `spinlock_t` (caller: valid).
        unsafe {
            kernel::bindings::_raw_spin_lock_bh(lock.cast())
        };
        #[cfg(not(all(CONFIG_SMP, not(CONFIG_PREEMPT_RT), not(CONFIG_INLINE_SPIN_LOCK_BH))))]
        // SAFETY: as the caller guarantees.
        unsafe {
            crate::rnm::bindings::rnm_spin_lock_bh(lock.cast())
        };
    }

    /// `spin_unlock_bh()`.
    ///
    /// # Safety
    ///
    /// `lock` must point to a `spinlock_t` that this CPU holds, taken
    /// with [`lock_bh`].
    #[inline(always)]
    pub(in crate::rnm) unsafe fn unlock_bh(lock: *mut spinlock_t) {
        #[cfg(all(CONFIG_SMP, not(CONFIG_PREEMPT_RT), not(CONFIG_INLINE_SPIN_UNLOCK_BH)))]
        // SAFETY: as in `lock_bh`; this CPU holds it (caller).
        unsafe {
            kernel::bindings::_raw_spin_unlock_bh(lock.cast())
        };
        #[cfg(not(all(CONFIG_SMP, not(CONFIG_PREEMPT_RT), not(CONFIG_INLINE_SPIN_UNLOCK_BH))))]
        // SAFETY: as the caller guarantees.
        unsafe {
            crate::rnm::bindings::rnm_spin_unlock_bh(lock.cast())
        };
    }
}

/// A spinlock for data shared with softirq context: it is only taken with
/// bottom halves disabled on the CPU that holds it, so that a softirq
/// (a NAPI poll, a transmit) that takes it cannot interrupt its holder on
/// the same CPU and spin forever.
///
/// The [`Backend`] of [`SpinLockBh`]: a `spinlock_t`, locked as the kernel
/// crate's `SpinLockBackend` locks it (`spin_lock()`, `spin_unlock()`, here
/// called as C calls them: [`spin`]), but asserting that it is held
/// (`spin_assert_is_held()`, which each new guard does) only where that
/// assertion checks something, with lockdep: on the data path of a driver
/// a guard is made for every frame, and in a module built outside the
/// kernel tree each of these is a call.
pub struct SpinLockBhBackend;

// SAFETY: the kernel's `spinlock_t` ensures mutual exclusion, as for
// `SpinLockBackend`; `relock` uses the default implementation, which
// always locks the same way.
unsafe impl Backend for SpinLockBhBackend {
    // The kernel crate's bindings: those of the `Backend` trait.
    type State = kernel::bindings::spinlock_t;
    type GuardState = ();

    #[inline]
    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut kernel::bindings::lock_class_key,
    ) {
        // SAFETY: `ptr` is valid for writes, and `name` and `key` for reads
        // indefinitely (the trait's safety requirements).
        unsafe { kernel::bindings::__spin_lock_init(ptr, name, key) }
    }

    #[inline]
    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: `ptr` is valid and initialised (the trait's safety
        // requirements); the lock's users follow the kernel's rules.
        unsafe { spin::lock(ptr) }
    }

    #[inline]
    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: `ptr` is valid and the caller owns the lock (the trait's
        // safety requirements), taken by `lock`.
        unsafe { spin::unlock(ptr) }
    }

    #[inline]
    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        // SAFETY: `ptr` is valid and initialised (the trait's safety
        // requirements).
        (unsafe { kernel::bindings::spin_trylock(ptr) } != 0).then_some(())
    }

    #[inline]
    unsafe fn assert_is_held(ptr: *mut Self::State) {
        // Without lockdep `spin_assert_is_held()` checks nothing.
        #[cfg(CONFIG_LOCKDEP)]
        // SAFETY: `ptr` is valid and initialised (the trait's safety
        // requirements).
        unsafe {
            kernel::bindings::spin_assert_is_held(ptr);
        }
        #[cfg(not(CONFIG_LOCKDEP))]
        let _ = ptr;
    }
}

/// The guard of [`SpinLockBh::lock_with`]: the lock is held while it
/// lives, and it gives access to the data only.
///
/// It is not the kernel crate's [`Guard`], which `CondVar::wait` would
/// take, to release the lock and sleep with bottom halves still disabled
/// (scheduling while atomic, and an RCU grace period could end under a
/// reference from [`RcuArc::get_in`]), and whose `lock_ref` would hand out
/// the lock, to be taken without disabling them.
///
/// [`RcuArc::get_in`]: crate::rnm::rcu::RcuArc::get_in
pub struct SpinLockBhInnerGuard<'a, T>(Guard<'a, T, SpinLockBhBackend>);

impl<T> Deref for SpinLockBhInnerGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Unpin> DerefMut for SpinLockBhInnerGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A `spinlock_t`, locked as C locks it with
/// `spin_lock_bh()`, or with `spin_lock()` where bottom halves are already
/// disabled.  The guard of [`SpinLockBh::lock_with`] borrows the proof that
/// they are, so the lock is always released before bottom halves are
/// enabled again:
///
/// ```
/// use crate::rnm::bh::{self, SpinLockBh};
///
/// fn len(lock: &SpinLockBh<KVec<u8>>) -> Option<usize> {
///     let bh = bh::disable()?;
///     let len = lock.lock_with(&bh).len();
///     Some(len)
/// }
///
/// fn push(lock: &SpinLockBh<KVec<u8>>, b: u8) -> Result {
///     lock.lock().ok_or(EBUSY)?.push(b, GFP_ATOMIC)?;
///     Ok(())
/// }
/// ```
///
/// Create one with [`SpinLockBh::new`], given a name and a lock class as
/// [`kernel::new_spinlock!`] gives them to a `SpinLock`:
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
    inner: Lock<T, SpinLockBhBackend>,
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
            inner <- Lock::new(t, name, key),
        })
    }

    /// Takes the lock where bottom halves are disabled already
    /// (`spin_lock()`): in a softirq callback, or under a [`BhGuard`].
    /// Never in hard interrupt context, where no [`BhContext`] exists (a
    /// [`Poller::interrupt`] gets an [`IrqContext`]): a holder in process
    /// context has interrupts enabled, and the interrupt would spin on its
    /// own CPU forever.
    ///
    /// [`Poller::interrupt`]: crate::rnm::net::napi::Poller::interrupt
    ///
    /// Spins while another CPU holds it.  The guard borrows `bh`, so it is
    /// released before bottom halves can be enabled again.
    #[inline]
    pub fn lock_with<'a>(&'a self, bh: &'a BhContext) -> SpinLockBhInnerGuard<'a, T> {
        let _ = bh;
        SpinLockBhInnerGuard(self.inner.lock())
    }

    /// Disables bottom halves on this CPU and takes the lock
    /// (`spin_lock_bh()`); dropping the guard releases the lock, then
    /// enables bottom halves again (`spin_unlock_bh()`).
    ///
    /// Process context or softirq context (where disabling bottom halves
    /// again only nests).  Returns `None`, without taking the lock, in
    /// hard interrupt context, as [`disable`] does.  Spins while another
    /// CPU holds the lock.
    #[inline]
    pub fn lock(&self) -> Option<SpinLockBhGuard<'_, T>> {
        let bh = disable()?;
        Some(SpinLockBhGuard {
            guard: SpinLockBhInnerGuard(self.inner.lock()),
            _bh: bh,
        })
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
    guard: SpinLockBhInnerGuard<'a, T>,
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
