// SPDX-License-Identifier: GPL-2.0

//! Network namespaces and per-namespace data (`struct pernet_operations`).
//!
//! C headers: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h),
//! [`include/net/netns/generic.h`](srctree/include/net/netns/generic.h)
//!
//! A [`PernetRegistration`] gives every network namespace, present and
//! future, its own value of a [`PernetData`] type, kept in the namespace's
//! generic storage (`net_generic()`): created when the namespace is (or
//! when the registration is made), dropped when it goes away (or when the
//! registration is dropped).
//!
//! # Examples
//!
//! ```ignore
//! static ID: PernetId = PernetId::new();
//!
//! struct Limits { max: IntValue }
//!
//! impl PernetData for Limits {
//!     fn id() -> &'static PernetId { &ID }
//!     fn new(_net: NetRef<'_>) -> Result<Self> { Ok(Self { max: IntValue::new(1, 1, 9) }) }
//! }
//!
//! let reg = PernetRegistration::<Limits>::register()?;
//! let limits = Limits::get(&net);
//! ```

use crate::rnm::bindings;
use crate::rnm::sysctl::{Entry, NetRegistration};
use core::{
    cell::UnsafeCell,
    marker::PhantomData,
    mem::{align_of, size_of},
    ptr::NonNull,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{error::to_result, ffi::c_int, prelude::*};

/// What the namespace's storage holds: the value and its sysctl table,
/// which is dropped first (field order).
struct Slot<T> {
    sysctl: Option<NetRegistration>,
    value: T,
}

/// A network namespace (`struct net`), borrowed.
///
/// # Invariants
///
/// `net` points at a valid namespace that stays alive for `'a`.
#[derive(Clone, Copy)]
pub struct NetRef<'a> {
    net: NonNull<bindings::net>,
    _p: PhantomData<&'a bindings::net>,
}

impl NetRef<'_> {
    /// # Safety
    ///
    /// `net` must point at a namespace that stays alive for `'a`.
    #[inline]
    pub(in crate::rnm) unsafe fn from_raw(net: NonNull<bindings::net>) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self {
            net,
            _p: PhantomData,
        }
    }

    #[inline]
    pub(in crate::rnm) fn as_ptr(&self) -> *mut bindings::net {
        self.net.as_ptr()
    }
}

/// The index of a [`PernetData`] type in the namespaces' generic storage,
/// assigned by the kernel at registration.
pub struct PernetId {
    id: UnsafeCell<kernel::ffi::c_uint>,
    registered: AtomicBool,
}

// SAFETY: `id` is written only by `register_pernet_subsys()` before
// `registered` is set (release) and read only after it is seen set
// (acquire).
unsafe impl Sync for PernetId {}

impl PernetId {
    /// An id not assigned yet.
    pub const fn new() -> Self {
        Self {
            id: UnsafeCell::new(0),
            registered: AtomicBool::new(false),
        }
    }

    #[inline]
    fn get(&self) -> Option<kernel::ffi::c_uint> {
        if !self.registered.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: the kernel writes the id during registration, before any
        // callback or user of the data runs, and never after.
        let id = unsafe { *self.id.get() };
        (id != 0).then_some(id)
    }
}

impl Default for PernetId {
    fn default() -> Self {
        Self::new()
    }
}

/// Data that every network namespace has its own value of.
pub trait PernetData: Sized + Send + Sync + 'static {
    /// Where the kernel stores the index of the data (a `static` of the
    /// module).
    fn id() -> &'static PernetId;

    /// Creates the value for a new namespace.
    fn new(net: NetRef<'_>) -> Result<Self>;

    /// The sysctl files of the namespace, if any: their directory (for
    /// example `c"net/netfilter/example"`) and entries pointing at values
    /// of `self`.  They are registered once the value has its final place,
    /// and unregistered before it is dropped.
    fn sysctls(&self) -> Result<Option<(&'static CStr, KVec<Entry<'_>>)>> {
        Ok(None)
    }

    /// The value of `net`, or `None` before the registration.
    #[inline]
    fn get<'a>(net: &NetRef<'a>) -> Option<&'a Self> {
        let id = Self::id().get()?;
        // SAFETY: `net` is valid; `id` was assigned for `Self`, whose value
        // lives in the namespace's storage until the namespace goes away
        // (after `'a`) or the registration is dropped (its owner stops every
        // user first, see `PernetRegistration`).
        let p = unsafe { bindings::rnm_net_generic(net.as_ptr(), id) };
        // SAFETY: the storage holds a `Slot<Self>` written by
        // `init_callback`.
        NonNull::new(p.cast::<Slot<Self>>()).map(|p| unsafe { &p.as_ref().value })
    }
}

/// # Safety
///
/// Called by the namespace code for a namespace being created, whose
/// generic storage for `T::id()` is `size_of::<Slot<T>>()` zeroed bytes.
unsafe extern "C" fn init_callback<T: PernetData>(net: *mut bindings::net) -> c_int {
    let Some(net) = NonNull::new(net) else {
        return EINVAL.to_errno();
    };
    // SAFETY: the namespace is alive during the callback.
    let netref = unsafe { NetRef::from_raw(net) };
    let value = match T::new(netref) {
        Ok(v) => v,
        Err(e) => return e.to_errno(),
    };
    let Some(id) = T::id().get() else {
        return EINVAL.to_errno();
    };
    // SAFETY: `net` is valid; `id` is ours (assigned before any callback
    // runs: `register_pernet_subsys` sets it first).
    let slot = unsafe { bindings::rnm_net_generic(net.as_ptr(), id) }.cast::<Slot<T>>();
    if slot.is_null() {
        return ENOMEM.to_errno();
    }
    // SAFETY: the storage has `size` = `size_of::<Slot<T>>()` bytes, aligned
    // for it (`kzalloc` gives at least `align_of::<u64>()`, checked at
    // registration), and is ours.
    unsafe {
        slot.write(Slot {
            sysctl: None,
            value,
        })
    };
    // SAFETY: just written; nothing else uses it before the namespace is
    // published.
    let slot = unsafe { &mut *slot };
    let sysctl = match slot.value.sysctls() {
        Ok(None) => Ok(None),
        Ok(Some((path, entries))) => {
            // SAFETY: the table is stored in `slot.sysctl`, which is dropped
            // before `slot.value` and before the namespace is freed.
            unsafe { NetRegistration::register(&netref, path, &entries) }.map(Some)
        }
        Err(e) => Err(e),
    };
    match sysctl {
        Ok(s) => {
            slot.sysctl = s;
            0
        }
        Err(e) => {
            // SAFETY: written above, not used any more.
            unsafe { core::ptr::drop_in_place(slot) };
            e.to_errno()
        }
    }
}

/// # Safety
///
/// Called by the namespace code for a namespace going away whose storage
/// holds a `Slot<T>` written by `init_callback`.
unsafe extern "C" fn exit_callback<T: PernetData>(net: *mut bindings::net) {
    let Some(id) = T::id().get() else {
        return;
    };
    // SAFETY: `net` is valid during the callback and `id` is ours.
    let slot = unsafe { bindings::rnm_net_generic(net, id) }.cast::<Slot<T>>();
    if !slot.is_null() {
        // SAFETY: holds the `Slot<T>` of `init_callback`; no packet of the
        // namespace is processed any more.
        unsafe { core::ptr::drop_in_place(slot) };
    }
}

/// Per-namespace data of type `T`, registered; unregistered on drop, which
/// drops every namespace's value.
///
/// Whatever reads the values (for example a conntrack helper's callback)
/// must be stopped before the registration is dropped.
///
/// # Invariants
///
/// `ops` is registered with `register_pernet_subsys` for `T`.
pub struct PernetRegistration<T: PernetData> {
    ops: Pin<KBox<UnsafeCell<bindings::pernet_operations>>>,
    _t: PhantomData<T>,
}

impl<T: PernetData> PernetRegistration<T> {
    /// Registers `T`: every existing namespace gets its value now.
    pub fn register() -> Result<Self> {
        if align_of::<Slot<T>>() > align_of::<u64>() {
            return Err(EINVAL);
        }
        // SAFETY: all-zero is a valid `pernet_operations` (null pointers,
        // `None` callbacks, empty sizes).
        let mut ops: bindings::pernet_operations = unsafe { core::mem::zeroed() };
        ops.init = Some(init_callback::<T>);
        ops.exit = Some(exit_callback::<T>);
        ops.id = T::id().id.get();
        ops.size = size_of::<Slot<T>>();
        let ops = KBox::pin(UnsafeCell::new(ops), GFP_KERNEL)?;
        // The callbacks read the id: it is assigned before they run.
        T::id().registered.store(true, Ordering::Release);
        // SAFETY: `ops` is pinned and lives until `drop` unregisters it.
        let ret = unsafe { bindings::register_pernet_subsys(ops.get()) };
        if let Err(e) = to_result(ret) {
            T::id().registered.store(false, Ordering::Release);
            return Err(e);
        }
        // INVARIANT: registered above.
        Ok(Self {
            ops,
            _t: PhantomData,
        })
    }
}

impl<T: PernetData> Drop for PernetRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: registered (type invariant); this runs every namespace's
        // exit callback and frees the storage.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
        T::id().registered.store(false, Ordering::Release);
    }
}

// SAFETY: the registration is a handle used from `drop` only.
unsafe impl<T: PernetData> Send for PernetRegistration<T> {}
// SAFETY: `&PernetRegistration` gives no access to anything.
unsafe impl<T: PernetData> Sync for PernetRegistration<T> {}
