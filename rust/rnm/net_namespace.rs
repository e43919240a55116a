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
//! A value is reached only through the registration
//! ([`PernetRegistration::get`]), or through a callback context whose
//! registration owns the [`PernetRegistration`] (a conntrack helper's, see
//! [`helper::Helper::Net`](crate::rnm::netfilter::helper::Helper::Net)): a
//! reference to a namespace's value cannot outlive the registration.
//!
//! # Examples
//!
//! ```
//! use crate::rnm::net_namespace::{NetRef, PernetData, PernetId, PernetRegistration};
//! use crate::rnm::sysctl::IntValue;
//! # use kernel::prelude::*;
//!
//! static ID: PernetId = PernetId::new();
//!
//! struct Limits {
//!     max: IntValue,
//! }
//!
//! impl PernetData for Limits {
//!     fn id() -> &'static PernetId {
//!         &ID
//!     }
//!
//!     fn new(_net: NetRef<'_>) -> Result<Self> {
//!         Ok(Self { max: IntValue::new(1, 1, 9) })
//!     }
//! }
//!
//! fn max_of(reg: &PernetRegistration<Limits>, net: &NetRef<'_>) -> i32 {
//!     reg.get(net).map_or(1, |l| l.max.get())
//! }
//!
//! let reg = PernetRegistration::<Limits>::register()?;
//! # let _ = max_of;
//! drop(reg);
//! ```

use crate::rnm::bindings;
use crate::rnm::sysctl::{Entry, NetRegistration};
use core::{
    any::TypeId,
    cell::UnsafeCell,
    marker::PhantomData,
    mem::{align_of, size_of},
    ptr::NonNull,
    sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, Ordering},
};
use kernel::{error::to_result, ffi::c_int, prelude::*};

/// What the namespace's storage holds: the value and its sysctl table,
/// which is dropped first (field order).
///
/// The storage is zeroed by the kernel before `init_callback` runs, so
/// `ready` reads false until the slot is written and its sysctl table
/// registered; `pre_exit_callback` clears it, an RCU grace period before
/// `exit_callback` drops the slot.  Only
/// `ready` is read (atomically, through a raw pointer) before it is true.
#[repr(C)]
struct Slot<T> {
    ready: AtomicBool,
    sysctl: Option<NetRegistration>,
    value: T,
}

/// A network namespace (`struct net`), borrowed.
///
/// # Invariants
///
/// `net` points at a valid namespace that stays alive for `'a` and whose
/// dismantling (its pernet exit callbacks) does not start during `'a`.
#[derive(Clone, Copy)]
pub struct NetRef<'a> {
    net: NonNull<bindings::net>,
    _p: PhantomData<&'a bindings::net>,
}

impl NetRef<'_> {
    /// # Safety
    ///
    /// `net` must point at a namespace that stays alive, and is not
    /// dismantled, for `'a`: for example the namespace of a packet being
    /// processed, or of a namespace's init callback.
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
/// assigned by the kernel at registration (`pernet_operations.id`).
///
/// It is a `static` of the module because the namespace callbacks receive
/// only the namespace and must find their data with it.  One
/// [`PernetRegistration`] at a time may use a given id: registering a
/// second one fails with `EBUSY`.  The first type a registration is made
/// for with an id (even one that then fails) owns it for as long as the
/// module is loaded: registering another type with it fails with `EINVAL`.
///
/// # Invariants
///
/// `id` is written only by the kernel, inside `register_pernet_subsys()`
/// for the [`PernetRegistration`] that holds `state` at `REGISTERING`,
/// before any callback of that registration runs.  `state` is
/// `REGISTERED` only between the return of that call and the start of the
/// registration's `unregister_pernet_subsys()`, so while it is, `id` is the
/// one assigned and not written.
///
/// `owner` is written once, from `None`, by the first registration that
/// moved `state` from `UNREGISTERED` to `CLAIMING`, before it publishes
/// `REGISTERING` (with release ordering, as every store of `REGISTERING`
/// and `REGISTERED`), and never again: whoever reads `state` as
/// `REGISTERING` or `REGISTERED` (with acquire ordering) may read it, and
/// it is then the type of the registration that holds the id.
pub struct PernetId {
    id: UnsafeCell<kernel::ffi::c_uint>,
    owner: UnsafeCell<Option<TypeId>>,
    state: AtomicU8,
}

const UNREGISTERED: u8 = 0;
const REGISTERING: u8 = 1;
const REGISTERED: u8 = 2;
/// Claimed by a registration, which checks (and the first time, writes)
/// `owner`.
const CLAIMING: u8 = 3;

/// How many [`PernetData`] types of a module may be registered at once.
const MAX_TYPES: usize = 8;

/// The ids held by registrations, so that each type has at most one, and
/// its callbacks find it: [`PernetData::id`] could return another `static`
/// for a type that has one already, or, to a callback, another than the
/// one the registration was made with (and a namespace's value would then
/// stay, with its sysctl files, in storage that the kernel frees).
///
/// # Invariants
///
/// Every non-null entry points at a `'static` [`PernetId`] whose `owner` is
/// written (and never written again), added by the registration that
/// claimed it and removed after that registration released it (`state`
/// back to `UNREGISTERED`); entries change only while `lock` is held.
struct Held {
    lock: AtomicBool,
    ids: [AtomicPtr<PernetId>; MAX_TYPES],
}

static HELD: Held = Held {
    lock: AtomicBool::new(false),
    ids: [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_TYPES],
};

impl Held {
    /// Runs `f` with `lock` held.  Process context (registrations only).
    fn locked<R>(&self, f: impl FnOnce() -> R) -> R {
        while self
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        let r = f();
        self.lock.store(false, Ordering::Release);
        r
    }

    /// Records `id`, whose `owner` is `T`, as held; returns its entry.
    /// Fails with `EBUSY` if another id is held by a registration of `T`,
    /// `ENOSPC` if [`MAX_TYPES`] are held.
    fn hold<T: 'static>(&self, id: &'static PernetId) -> Result<usize> {
        self.locked(|| {
            for e in &self.ids {
                let p = e.load(Ordering::Relaxed);
                // SAFETY: entries point at `'static` ids whose `owner` is
                // written and never written again (invariants).
                if !p.is_null() && unsafe { *(*p).owner.get() } == Some(TypeId::of::<T>()) {
                    return Err(EBUSY);
                }
            }
            let free = self
                .ids
                .iter()
                .position(|e| e.load(Ordering::Relaxed).is_null());
            let i = free.ok_or(ENOSPC)?;
            self.ids[i].store(core::ptr::from_ref(id).cast_mut(), Ordering::Release);
            Ok(i)
        })
    }

    /// Forgets entry `i` (of [`Held::hold`]).
    fn release(&self, i: usize) {
        self.locked(|| self.ids[i].store(core::ptr::null_mut(), Ordering::Release));
    }

    /// The id a registration of `T` holds, if one does: the id it was made
    /// with, whatever [`PernetData::id`] returns now.
    #[inline]
    fn id_of<T: 'static>(&self) -> Option<&'static PernetId> {
        self.ids.iter().find_map(|e| {
            let p = e.load(Ordering::Acquire);
            // SAFETY: entries point at `'static` ids whose `owner` is
            // written and never written again (invariants).
            let id = unsafe { p.as_ref() }?;
            // SAFETY: as above.
            (unsafe { *id.owner.get() } == Some(TypeId::of::<T>())).then_some(id)
        })
    }
}

// SAFETY: shared between threads, `id` and `owner` are only read
// concurrently.  The one writer of `id` is `register_pernet_subsys()` for
// the registration that holds the id (`REGISTERING`), before its callbacks
// run; other registrations of the owner type are kept out by `HELD`, those
// of other types by `owner`, so nobody else reads it then.  `owner` is
// written once, before anyone reads it (see the type invariants).
unsafe impl Sync for PernetId {}

impl PernetId {
    /// An id not assigned yet.
    pub const fn new() -> Self {
        Self {
            id: UnsafeCell::new(0),
            owner: UnsafeCell::new(None),
            state: AtomicU8::new(UNREGISTERED),
        }
    }

    /// Releases the id, which the kernel no longer assigns, and its entry
    /// `held` in `HELD`: released before it leaves `HELD`, so that a
    /// registration of its owner type made once it has left (through
    /// `HELD`'s lock) sees it released, and its callbacks never take it for
    /// theirs (see [`PernetId::held_by`]).
    fn release(&self, held: usize) {
        self.state.store(UNREGISTERED, Ordering::Release);
        HELD.release(held);
    }

    /// The assigned id, if a registration of `T` holds it now, or is
    /// making or dropping it (`Some` only between its claim and its end).
    ///
    /// An id that is not held by a registration of `T` (not assigned, or
    /// assigned to another type, whose storage has another size) is never
    /// used for `T`.  The caller is a callback of a registration of `T`
    /// or holds one, and found the id in `HELD` (one entry per type).
    #[inline]
    fn held_by<T: 'static>(&self) -> Option<kernel::ffi::c_uint> {
        let state = self.state.load(Ordering::Acquire);
        if state != REGISTERING && state != REGISTERED {
            return None;
        }
        // SAFETY: `owner` was written before `state` was first published as
        // `REGISTERING` and is never written again (type invariants).
        let owner = unsafe { *self.owner.get() };
        if owner != Some(TypeId::of::<T>()) {
            return None;
        }
        // SAFETY: the id is read by the registration's callbacks (after the
        // kernel wrote it, while `REGISTERING`) or while `REGISTERED`, when
        // it is not written (type invariants).
        Some(unsafe { *self.id.get() })
    }
}

/// Data that every network namespace has its own value of.
///
/// The values are created and dropped by a [`PernetRegistration`] of the
/// type, and reached through it.
pub trait PernetData: Sized + Send + Sync + 'static {
    /// Where the kernel stores the index of the data: a `static` of the
    /// module, used by this type only.  Called once per registration: the
    /// namespace callbacks use the id the registration was made with.
    fn id() -> &'static PernetId;

    /// Creates the value for a new namespace (process context, may sleep;
    /// an error fails the namespace's creation, or the registration).
    fn new(net: NetRef<'_>) -> Result<Self>;

    /// The sysctl files of the namespace, if any: their directory (for
    /// example `c"net/netfilter/example"`) and entries pointing at values
    /// of `self`.  They are registered once the value has its final place,
    /// and unregistered before it is dropped; an entry's name, or a
    /// component of the directory, that is empty, `.` or `..`, or a name
    /// with a `/`, or an entry whose value is not a part of `self` (a
    /// `static`, or a value behind a pointer), fails the namespace's
    /// creation (or the registration) with `EINVAL`.
    fn sysctls(&self) -> Result<Option<(&'static CStr, KVec<Entry<'_>>)>> {
        Ok(None)
    }
}

/// The `Slot<T>` of `net`, or null if it has none.
///
/// # Safety
///
/// `net` must be a valid namespace, and a registration of `T` must be alive
/// (made and not dropped) for the duration of the call: the caller is one
/// of its callbacks or holds it.
#[inline]
unsafe fn slot_of<T: PernetData>(net: NonNull<bindings::net>) -> *mut Slot<T> {
    match HELD.id_of::<T>() {
        // SAFETY: as for this function.
        Some(id) => unsafe { slot_in::<T>(net, id) },
        None => core::ptr::null_mut(),
    }
}

/// The `Slot<T>` of `net` in the storage of `id`, or null if it has none.
///
/// # Safety
///
/// As for [`slot_of`].
#[inline]
unsafe fn slot_in<T: PernetData>(net: NonNull<bindings::net>, id: &PernetId) -> *mut Slot<T> {
    let Some(id) = id.held_by::<T>() else {
        return core::ptr::null_mut();
    };
    // SAFETY: `net` is valid (caller); `id` is assigned to `T` and its
    // storage is `size_of::<Slot<T>>()` bytes.
    unsafe { bindings::rnm_net_generic(net.as_ptr(), id) }.cast::<Slot<T>>()
}

/// # Safety
///
/// Called by the namespace code, for the registration of `T`, for a
/// namespace being created (or existing when the registration is made),
/// whose generic storage for its id (the one in `HELD`) is
/// `size_of::<Slot<T>>()` zeroed
/// bytes.
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
    // SAFETY: `net` is valid; a callback of the registration of `T`, which
    // is alive; the kernel assigned the id before calling it.
    let slot = unsafe { slot_of::<T>(net) };
    if slot.is_null() {
        return ENOMEM.to_errno();
    }
    // SAFETY: the storage has `size` = `size_of::<Slot<T>>()` bytes, aligned
    // for it (`kzalloc` gives at least `align_of::<u64>()`, checked at
    // registration), and is ours.
    unsafe {
        slot.write(Slot {
            ready: AtomicBool::new(false),
            sysctl: None,
            value,
        })
    };
    // SAFETY: just written; until `ready` is set below, others read only
    // `ready`, and only `sysctl` is written, through the raw pointer.
    let value = unsafe { &(*slot).value };
    let sysctl = match value.sysctls() {
        Ok(None) => Ok(None),
        // The kernel refuses a writable file of a namespace other than
        // `init_net` whose value is global data, with a warning: a value
        // must be a part of the namespace's.
        Ok(Some((_, entries))) if !entries.iter().all(|e| e.is_within(value)) => Err(EINVAL),
        Ok(Some((path, entries))) => {
            // SAFETY: the table is stored in `slot.sysctl`, which is dropped
            // before `slot.value` and before the namespace is freed.
            unsafe { NetRegistration::register(&netref, path, &entries) }.map(Some)
        }
        Err(e) => Err(e),
    };
    match sysctl {
        Ok(s) => {
            // SAFETY: written above; nothing else reads `sysctl` (see
            // `Slot`); the `None` it replaces needs no drop.
            unsafe { core::ptr::addr_of_mut!((*slot).sysctl).write(s) };
            // SAFETY: the slot is initialised; `ready` is atomic.
            unsafe { (*slot).ready.store(true, Ordering::Release) };
            0
        }
        Err(e) => {
            // SAFETY: written above, not used any more; the kernel frees
            // the storage when this callback fails.
            unsafe { core::ptr::drop_in_place(slot) };
            e.to_errno()
        }
    }
}

/// # Safety
///
/// Called by the namespace code, for the registration of `T`, for a
/// namespace going away (or every namespace when the registration is
/// dropped) whose storage holds a `Slot<T>` written by `init_callback`,
/// before the RCU grace period that precedes `exit_callback`.
unsafe extern "C" fn pre_exit_callback<T: PernetData>(net: *mut bindings::net) {
    let Some(net) = NonNull::new(net) else {
        return;
    };
    // SAFETY: `net` is valid during the callback, a callback of the
    // registration of `T`, which is alive.
    let slot = unsafe { slot_of::<T>(net) };
    if !slot.is_null() {
        // Readers that come now get `None`; those that saw it set are in
        // RCU read-side sections (packet paths) that end before the grace
        // period `exit_callback` runs after.
        // SAFETY: holds a `Slot<T>` (the kernel calls it only for
        // namespaces whose init succeeded); `ready` is atomic.
        unsafe { (*slot).ready.store(false, Ordering::Release) };
    }
}

/// # Safety
///
/// Called by the namespace code, for the registration of `T`, for a
/// namespace going away (or every namespace when the registration is
/// dropped) whose storage holds a `Slot<T>` written by `init_callback`,
/// after `pre_exit_callback` and an RCU grace period.
unsafe extern "C" fn exit_callback<T: PernetData>(net: *mut bindings::net) {
    let Some(net) = NonNull::new(net) else {
        return;
    };
    // SAFETY: `net` is valid during the callback, a callback of the
    // registration of `T`, which is alive.
    let slot = unsafe { slot_of::<T>(net) };
    if !slot.is_null() {
        // SAFETY: holds the `Slot<T>` of `init_callback`; nothing uses it
        // any more: `ready` was cleared before a grace period, the
        // namespace's devices are gone (or the users of the registration
        // are stopped before it is dropped).
        unsafe {
            (*slot).ready.store(false, Ordering::Release);
            core::ptr::drop_in_place(slot)
        };
    }
}

/// Per-namespace data of type `T`, registered; unregistered on drop, which
/// drops every namespace's value.
///
/// The values are reached through the registration ([`Self::get`]), so no
/// reference to one can outlive it.
///
/// # Invariants
///
/// `ops` is registered with `register_pernet_subsys` for `T`, with the id
/// `id` (what `T::id()` returned then, in `HELD` at `held`), whose `state`
/// is `REGISTERED` and claimed by `self`.
pub struct PernetRegistration<T: PernetData> {
    ops: Pin<KBox<UnsafeCell<bindings::pernet_operations>>>,
    /// The id claimed, and its entry in `HELD`.
    id: &'static PernetId,
    held: usize,
    _t: PhantomData<T>,
}

impl<T: PernetData> PernetRegistration<T> {
    /// Registers `T` (`register_pernet_subsys()`): every existing namespace
    /// gets its value now, and every new one when it is created.
    ///
    /// Process context (sleeps).  Fails with `EBUSY` if `T::id()` is
    /// already used by a registration or `T` is registered already (one
    /// registration per type at a time), or for as long as another
    /// registration made with `T::id()` is failing, `EINVAL` if `T::id()` belongs to
    /// another type (see [`PernetId`]), `ENOSPC` if the module has
    /// registrations of 8 types already, `EINVAL` if `T` needs an alignment
    /// above 8 bytes, `ENOMEM`, or the error of `T::new` or of a sysctl
    /// registration for an existing namespace.
    pub fn register() -> Result<Self> {
        if align_of::<Slot<T>>() > align_of::<u64>() {
            return Err(EINVAL);
        }
        let id = T::id();
        // SAFETY: all-zero is a valid `pernet_operations` (null pointers,
        // `None` callbacks, empty sizes).
        let mut ops: bindings::pernet_operations = unsafe { core::mem::zeroed() };
        ops.init = Some(init_callback::<T>);
        ops.pre_exit = Some(pre_exit_callback::<T>);
        ops.exit = Some(exit_callback::<T>);
        ops.id = id.id.get();
        ops.size = size_of::<Slot<T>>();
        let ops = KBox::pin(UnsafeCell::new(ops), GFP_KERNEL)?;
        // Claim the id: the kernel writes it inside the call below, and it
        // is published (`REGISTERED`) only once that call has returned.
        id.state
            .compare_exchange(UNREGISTERED, CLAIMING, Ordering::Acquire, Ordering::Relaxed)
            .map_err(|_| EBUSY)?;
        // SAFETY: claimed above: no writer but this registration, and
        // others only read (invariants).
        match unsafe { *id.owner.get() } {
            // SAFETY: `None` until now: no `REGISTERING` was ever published
            // nor was the id in `HELD`, so nobody reads it (invariants).
            None => unsafe { *id.owner.get() = Some(TypeId::of::<T>()) },
            Some(t) if t == TypeId::of::<T>() => {}
            Some(_) => {
                id.state.store(UNREGISTERED, Ordering::Release);
                return Err(EINVAL);
            }
        }
        let held = match HELD.hold::<T>(id) {
            Ok(i) => i,
            Err(e) => {
                id.state.store(UNREGISTERED, Ordering::Release);
                return Err(e);
            }
        };
        id.state.store(REGISTERING, Ordering::Release);
        // SAFETY: `ops` is pinned and lives until `drop` unregisters it; its
        // `id` points at the claimed `PernetId`, which is `'static`.
        let ret = unsafe { bindings::register_pernet_subsys(ops.get()) };
        if let Err(e) = to_result(ret) {
            // The kernel has freed the storage and the id.
            id.release(held);
            return Err(e);
        }
        id.state.store(REGISTERED, Ordering::Release);
        // INVARIANT: registered above, `state` set.
        Ok(Self {
            ops,
            id,
            held,
            _t: PhantomData,
        })
    }

    /// The value of the namespace `net`, for as long as both the
    /// registration and the namespace are borrowed.
    ///
    /// Any context.  `None` if the namespace has no value: while it is
    /// being created, and once it is being dismantled (from its pernet
    /// `pre_exit`, while its devices may still pass packets), but never
    /// for a namespace that is alive otherwise (its creation fails if
    /// [`PernetData::new`] does).
    #[inline]
    pub fn get<'a>(&'a self, net: &NetRef<'a>) -> Option<&'a T> {
        // SAFETY: `net` is valid (`NetRef` invariant); `self` is the
        // registration of `T`, alive for `'a`, and `id` its id.
        let slot = unsafe { slot_in::<T>(net.net, self.id) };
        // SAFETY: as above.
        unsafe { Self::value_of(slot) }
    }

    /// The value of the namespace `net` without a registration in hand.
    ///
    /// # Safety
    ///
    /// A `PernetRegistration<T>` must stay alive for `'a`, for example
    /// because the caller is a callback of a registration that owns it and
    /// stops its callbacks before dropping it.
    #[inline]
    pub(in crate::rnm) unsafe fn get_unchecked<'a>(net: &NetRef<'a>) -> Option<&'a T> {
        // SAFETY: `net` is valid (`NetRef` invariant); a registration of
        // `T` is alive (caller).
        let slot = unsafe { slot_of::<T>(net.net) };
        // SAFETY: as above.
        unsafe { Self::value_of(slot) }
    }

    /// The value in `slot` (from [`slot_of`] or [`slot_in`] for a
    /// namespace alive for `'a`), if it is ready.
    ///
    /// # Safety
    ///
    /// A `PernetRegistration<T>` must stay alive for `'a`.
    #[inline]
    unsafe fn value_of<'a>(slot: *mut Slot<T>) -> Option<&'a T> {
        let slot = NonNull::new(slot)?;
        // The storage of a live namespace holds the `Slot<T>` written by
        // `init_callback` once `ready` is true; it is dropped by
        // `exit_callback`, not before the namespace (alive for `'a`) goes
        // away or the registration (alive for `'a`, caller) is dropped;
        // only shared references are made.
        // SAFETY: zeroed or a `Slot<T>`: `ready` is valid either way, and
        // atomic; only that field is referenced until it reads true.
        if !unsafe { (*slot.as_ptr()).ready.load(Ordering::Acquire) } {
            // Still being created (a `PernetData::new` that reaches the
            // registration), or going away.
            return None;
        }
        // SAFETY: `ready`: written by `init_callback` and not dropped
        // before `'a` ends (see above).
        Some(unsafe { &(*slot.as_ptr()).value })
    }
}

impl<T: PernetData> Drop for PernetRegistration<T> {
    fn drop(&mut self) {
        // The id stays claimed until the kernel has released it.
        self.id.state.store(REGISTERING, Ordering::Release);
        // SAFETY: registered (type invariant); this runs every namespace's
        // exit callback and frees the storage.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
        self.id.release(self.held);
    }
}

// SAFETY: the registration owns its `ops` and drops (unregisters) them
// from any thread: `unregister_pernet_subsys()` only needs process context,
// which `drop` of a module's data has.  The values it gives access to are
// `T: Send + Sync`.
unsafe impl<T: PernetData> Send for PernetRegistration<T> {}
// SAFETY: `&PernetRegistration` only gives `&T` (`T: Sync`) through `get`.
unsafe impl<T: PernetData> Sync for PernetRegistration<T> {}
