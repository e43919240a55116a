// SPDX-License-Identifier: GPL-2.0

//! An optional [`Arc`] published under RCU.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)
//!
//! [`RcuArc`] is the Rust form of the C pattern of an `__rcu` pointer to a
//! reference-counted object: readers (a transmit path, say) reach the
//! object under the RCU read lock without taking a lock or touching the
//! reference count (`rcu_dereference()`), and a writer in process context
//! publishes a new object (`rcu_assign_pointer()`) and waits for a grace
//! period (`synchronize_rcu()`) before it drops its reference to the old
//! one.
//!
//! ```
//! # use kernel::prelude::*;
//! use crate::rnm::rcu::RcuArc;
//! use kernel::sync::{rcu, Arc};
//!
//! let peer: RcuArc<u32> = RcuArc::new();
//! assert!(peer.replace(Some(Arc::new(7, GFP_KERNEL)?)).is_none());
//! {
//!     let guard = rcu::read_lock();
//!     assert_eq!(peer.get(&guard), Some(&7));
//! }
//! // Waits for a grace period before handing the old value back.
//! assert_eq!(peer.replace(None).as_deref(), Some(&7));
//! ```

use crate::rnm::{bh::IrqContext, bindings};
use core::{
    marker::PhantomData,
    ptr,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    pr_warn_once,
    sync::{
        atomic::{Atomic, Full},
        rcu, Arc,
    },
};

/// An optional `Arc<T>` that readers reach under the RCU read lock.
///
/// # Invariants
///
/// `ptr` is null or comes from [`Arc::into_raw`], and the reference it
/// stands for is owned by this object.  A reference taken out of `ptr` by
/// [`RcuArc::replace`] is dropped only after an RCU grace period that
/// started after it was taken out.
pub struct RcuArc<T: Send + Sync> {
    ptr: Atomic<*mut T>,
    _p: PhantomData<Option<Arc<T>>>,
}

// SAFETY: the object owns an `Option<Arc<T>>` (the reference `ptr` stands
// for), which may be dropped on another thread: sound for `T: Send + Sync`,
// as for `Arc<T>` itself.
unsafe impl<T: Send + Sync> Send for RcuArc<T> {}
// SAFETY: shared access reads the pointer atomically and hands out `&T`
// (`T: Sync`), or swaps in and returns `Arc<T>`s (`T: Send + Sync`).
unsafe impl<T: Send + Sync> Sync for RcuArc<T> {}

impl<T: Send + Sync> RcuArc<T> {
    /// An empty `RcuArc`.
    pub const fn new() -> Self {
        // INVARIANT: null.
        Self {
            ptr: Atomic::new(ptr::null_mut()),
            _p: PhantomData,
        }
    }

    /// The published object, valid while the caller holds the RCU read
    /// lock.  Lock-free; any context.
    pub fn get<'a>(&'a self, _guard: &'a rcu::Guard) -> Option<&'a T> {
        let p = self.load();
        // SAFETY: non-null `p` is from `Arc::into_raw`; it is dropped only
        // after a grace period (`_guard` holds one off) or with `self` (`'a`).
        unsafe { p.as_ref() }
    }

    /// The published object, valid while the caller's context lasts:
    /// bottom halves or hard interrupts disabled, which is an RCU read-side
    /// critical section (`synchronize_rcu()` waits for it).  As
    /// [`RcuArc::get`], without taking the RCU read lock (out of the kernel
    /// tree, two calls each way).  Lock-free.
    #[inline]
    pub fn get_in<'a>(&'a self, _ctx: &'a IrqContext) -> Option<&'a T> {
        let p = self.load();
        // SAFETY: non-null `p` is from `Arc::into_raw`; it is dropped only
        // after a grace period, which `_ctx` holds off (`IrqContext`
        // invariant: this CPU has bottom halves or interrupts disabled
        // while it is borrowed), or with `self` (`'a`).
        unsafe { p.as_ref() }
    }

    /// The pointer, loaded with acquire ordering (`rcu_dereference()` is
    /// weaker) through a `core` atomic, which compiles inline: out of the
    /// kernel tree [`Atomic::load`] is a call to a C helper, and the
    /// transmit path reads a peer for every frame.  An acquire load means
    /// the same in the Rust and the kernel memory models
    /// (`smp_load_acquire()`).  Every access to the pointer is atomic and
    /// pointer-sized: through this view, or through `ptr`, whose operations
    /// are C's pointer-sized atomics (`READ_ONCE()`, `xchg()`), which count
    /// as atomic accesses for Rust's model as they do for the kernel's.
    #[inline(always)]
    fn load(&self) -> *mut T {
        // SAFETY: `as_ptr` is valid and aligned for a `*mut T` (the size and
        // alignment of `AtomicPtr<T>`) while `self` is borrowed, and every
        // access to it is atomic and of its size (see above).
        unsafe { AtomicPtr::from_ptr(self.ptr.as_ptr()) }.load(Ordering::Acquire)
    }

    /// Publishes `new` and returns the previously published object once no
    /// reader can still see it: waits for an RCU grace period if there was
    /// one, so it may sleep.  Process context, outside any RCU read-side
    /// critical section.
    ///
    /// Where it may not sleep (a misuse: atomic context, such as a poll or
    /// a transmit, or under the RCU read lock), the caller may itself hold
    /// a reference from [`RcuArc::get`] or [`RcuArc::get_in`]: with bottom
    /// halves or preemption disabled, sleeping would end the grace period
    /// under it (under the read lock of preemptible RCU, the wait would
    /// never end).  There it publishes `new` but does not wait: it leaks
    /// the previous object instead of freeing it, warns once and returns
    /// `None`.
    ///
    /// C: `rcu_replace_pointer()` and `synchronize_rcu()` in
    /// [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h).
    pub fn replace(&self, new: Option<Arc<T>>) -> Option<Arc<T>> {
        let p = new.map_or(ptr::null_mut(), |a| Arc::into_raw(a).cast_mut());
        // INVARIANT: `p` is null or from `Arc::into_raw`; its reference is
        // now owned here.  The full barrier orders the object's
        // initialisation before its publication (pairing with the readers'
        // Acquire) and the readers of `old` before its release.
        let old = self.ptr.xchg(p, Full);
        if old.is_null() {
            return None;
        }
        // SAFETY: reads this CPU's preempt count and interrupt flag and the
        // task's RCU read-side nesting.
        if !unsafe { bindings::rnm_local_may_sleep() } {
            // `old` and its reference are leaked: a reader in this very
            // context may still use it.
            pr_warn_once!(
                "RcuArc::replace() where it may not sleep: the previous object is leaked\n"
            );
            return None;
        }
        // INVARIANT: `old` was taken out above; the grace period starts
        // now.
        rcu::synchronize_rcu();
        // SAFETY: `old` comes from `Arc::into_raw` and its reference was
        // owned by `self`; after the grace period no reader holds a `&T`
        // obtained from it.
        Some(unsafe { Arc::from_raw(old) })
    }
}

impl<T: Send + Sync> Default for RcuArc<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + Sync> Drop for RcuArc<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: `p` comes from `Arc::into_raw` and its reference is
            // owned by `self`; no `&T` from `get` outlives the borrow of
            // `self` it came from, and there is none left as `self` is
            // mutably borrowed.
            drop(unsafe { Arc::from_raw(p) });
        }
    }
}
