// SPDX-License-Identifier: GPL-2.0

//! A bus type of its own with bus attributes, devices on it with
//! per-device attributes, in sysfs, and a driver that binds to them.
//!
//! C header: [`include/linux/device/bus.h`](srctree/include/linux/device/bus.h),
//! [`include/linux/device.h`](srctree/include/linux/device.h)
//!
//! A driver describes its bus with a type `T` implementing [`Bus`]: the
//! names of the bus attribute files (`/sys/bus/<name>/<attr>`) and device
//! attribute files (`/sys/bus/<name>/devices/<dev>/<attr>`), and the
//! functions that show and store them.  The bus lives in a `static`
//! [`BusType`]; [`BusRegistration::register`] registers it with its
//! context (a `T`, which the bus attribute methods get); each
//! [`DeviceRegistration`] puts a device with its data on the bus, and the
//! device attribute functions get that data, reached through the device
//! itself (never through a global list).  A [`Driver`] registered on the
//! bus ([`DriverRegistration`]) binds to its devices as the driver core
//! decides (at once, when asked through sysfs), with data of its own for
//! each bound device, made by its probe and handed back to its remove.
//!
//! Teardown order, held by [`BusRegistration`]'s drop (a driver's
//! registration is dropped before it; one that is not is unregistered
//! with the bus): the bus attribute files go first (waiting for running
//! callbacks, so that none can create a device any more), then the
//! context is dropped (the driver's devices, which it owns, with it), then
//! the bus.  A driver keeps its
//! [`DeviceRegistration`]s in its context, and never drops one while
//! holding a lock that its device attribute functions take: unregistering
//! a device waits for them.
//!
//! # Examples
//!
//! ```
//! # use kernel::prelude::*;
//! use crate::rnm::bus::{Attr, Bus, BusRegistration, BusType, DeviceRegistration, SysfsWriter};
//! use kernel::{new_mutex, sync::Mutex};
//!
//! static BUS: BusType<MyBus> = BusType::new();
//!
//! #[pin_data]
//! struct MyBus {
//!     #[pin]
//!     devices: Mutex<KVec<DeviceRegistration<MyBus>>>,
//! }
//!
//! impl Bus for MyBus {
//!     type DeviceData = u32;
//!     const NAME: &'static CStr = c"rnm_example";
//!     const BUS_ATTRS: &'static [Attr] = &[Attr::write_only(c"new_device")];
//!     const DEVICE_ATTRS: &'static [Attr] = &[Attr::read_only(c"id")];
//!
//!     fn bus_store(&self, _index: usize, _input: &[u8]) -> Result {
//!         let dev = DeviceRegistration::new(&BUS, c"example0", Ok::<_, Error>(0))?;
//!         self.devices.lock().push(dev, GFP_KERNEL)?;
//!         Ok(())
//!     }
//!
//!     fn device_show(id: &u32, _index: usize, out: &mut SysfsWriter<'_>) -> Result {
//!         writeln!(out, "{id}")
//!     }
//! }
//!
//! let reg = BusRegistration::register(
//!     &BUS,
//!     try_pin_init!(MyBus { devices <- new_mutex!(KVec::new()) }),
//! )?;
//! assert_eq!(reg.ctx().devices.lock().len(), 0);
//! ```

use crate::rnm::{bindings, sysfs::valid_name};
use core::{
    marker::PhantomData,
    mem::ManuallyDrop,
    ops::Deref,
    pin::Pin,
    ptr::{self, NonNull},
};
use kernel::{
    error::{from_result, to_result},
    ffi::{c_char, c_int, c_void},
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Full, Relaxed, Release},
        barrier::smp_mb,
        Completion,
    },
    time::{delay::fsleep, Delta},
    types::Opaque,
};

pub use crate::rnm::sysfs::SysfsWriter;

/// Largest number of bus attributes and of device attributes.
pub const MAX_ATTRS: usize = 8;

/// A sysfs attribute file: name and permissions.
pub struct Attr {
    name: &'static CStr,
    mode: u16,
}

impl Attr {
    /// A file that can be read (0444).
    pub const fn read_only(name: &'static CStr) -> Self {
        Self { name, mode: 0o444 }
    }

    /// A file that root can write (0200).
    pub const fn write_only(name: &'static CStr) -> Self {
        Self { name, mode: 0o200 }
    }

    /// A file that can be read, and written by root (0644).
    pub const fn read_write(name: &'static CStr) -> Self {
        Self { name, mode: 0o644 }
    }
}

/// A bus and the functions behind its attribute files.
///
/// The `index` arguments are positions in [`Bus::BUS_ATTRS`] and
/// [`Bus::DEVICE_ATTRS`].  A `store` function gets the bytes written (with
/// a trailing newline, if any) and returns an error, which the writer
/// sees, or success: the write is then accepted whole.  All are called in
/// process context, from the `read`/`write` of the file, and may sleep.
/// The default implementations fail with `EIO`.
pub trait Bus: Send + Sync + Sized + 'static {
    /// The data of each device on the bus.
    type DeviceData: Send + Sync;

    /// The bus name (`/sys/bus/<NAME>`).
    const NAME: &'static CStr;

    /// The bus attribute files, at most [`MAX_ATTRS`].
    const BUS_ATTRS: &'static [Attr];

    /// The attribute files of each device, at most [`MAX_ATTRS`].
    const DEVICE_ATTRS: &'static [Attr];

    /// Shows bus attribute `index`.
    fn bus_show(&self, _index: usize, _out: &mut SysfsWriter<'_>) -> Result {
        Err(EIO)
    }

    /// Stores into bus attribute `index`.
    fn bus_store(&self, _index: usize, _input: &[u8]) -> Result {
        Err(EIO)
    }

    /// Shows attribute `index` of the device with data `dev`.
    fn device_show(_dev: &Self::DeviceData, _index: usize, _out: &mut SysfsWriter<'_>) -> Result {
        Err(EIO)
    }

    /// Stores into attribute `index` of the device with data `dev`.
    fn device_store(_dev: &Self::DeviceData, _index: usize, _input: &[u8]) -> Result {
        Err(EIO)
    }

    /// The module alias of the device with data `dev`, if any: its uevents
    /// then carry `MODALIAS=<NAME>:<alias>`, which udev hands to `modprobe`
    /// to load the module whose `alias` it is.  Any context that may
    /// allocate (uevents are built with `GFP_KERNEL`).
    fn modalias(_dev: &Self::DeviceData) -> Option<&CStr> {
        None
    }
}

type BusShow = unsafe extern "C" fn(*const bindings::bus_type, *mut c_char) -> isize;
type BusStore = unsafe extern "C" fn(*const bindings::bus_type, *const c_char, usize) -> isize;
type DevShow = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *mut c_char,
) -> isize;
type DevStore = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *const c_char,
    usize,
) -> isize;

/// A bus type, to be placed in a `static`.
///
/// # Invariants
///
/// `state` is [`BUS_FREE`] while the bus is not registered and no
/// [`BusRegistration`] is registering or unregistering it,
/// [`BUS_REGISTERING`] while one registers it, [`BUS_LIVE`] from the end of
/// a successful registration until its drop starts, [`BUS_CLOSING`] until
/// that drop has unregistered the bus; devices and drivers are added only
/// while it is [`BUS_LIVE`].  `ctx` is null, or points to the `T` of the
/// [`BusRegistration`] that registered `bus`, which stays alive until the
/// bus attribute files are removed.  `attrs[..T::BUS_ATTRS.len()]` are the
/// bus attributes, which exist as files only while `ctx` is not null.  `busy` counts the
/// [`DeviceRegistration`]s being added or unregistered and the
/// [`DriverRegistration`]s being registered or unregistered (see
/// [`BusType::shut_down`]).  `driver` is null or points to the
/// [`DriverSlot`] of the registered driver, whose unregistration is owed
/// by whoever takes the pointer out (see [`DriverRegistration`]).
/// `devices` counts the devices made on the bus whose `release` has not
/// finished with them (see [`BusType::wait_released`]).
pub struct BusType<T: Bus> {
    bus: Opaque<bindings::bus_type>,
    attrs: Opaque<[bindings::bus_attribute; MAX_ATTRS]>,
    state: Atomic<i32>,
    ctx: Atomic<*mut T>,
    busy: Atomic<i32>,
    driver: Atomic<*mut DriverSlot>,
    devices: Atomic<i32>,
}

// States of a `BusType` (see its invariants).
/// Not registered.
const BUS_FREE: i32 = 0;
/// Being registered.
const BUS_REGISTERING: i32 = 1;
/// Registered: devices and drivers may be added.
const BUS_LIVE: i32 = 2;
/// Being unregistered.
const BUS_CLOSING: i32 = 3;

/// A device or driver being added to or removed from a bus: counted in the
/// bus's `busy` while it lives.
struct Busy<'a>(&'a Atomic<i32>);

impl<'a> Busy<'a> {
    /// Counts one.  Fully ordered: what the caller reads afterwards (the
    /// bus's `state`, a device's `registered`, the bus's `driver`) is read
    /// after the count is visible to [`BusType::shut_down`].
    fn new(busy: &'a Atomic<i32>) -> Self {
        busy.fetch_add(1, Full);
        Self(busy)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        // Release: the device's addition or removal is complete for
        // whoever sees the count drop.
        self.0.fetch_sub(1, Release);
    }
}

// SAFETY: `bus` and `attrs` are written only by the driver core, while it
// registers them and under its own locks; `state`, `ctx`, `busy` and
// `driver` are atomic; what `ctx` points at (a `T`, which is `Sync`) is
// only shared as `&T`, and the driver slot `driver` points at only by the
// handoff described in `DriverRegistration`.
unsafe impl<T: Bus> Sync for BusType<T> {}

impl<T: Bus> BusType<T> {
    const ZERO_BUS_ATTR: bindings::bus_attribute = pin_init::zeroed();
    const ZERO_DEV_ATTR: bindings::device_attribute = pin_init::zeroed();

    const fn bus_show_fn(i: usize) -> Option<BusShow> {
        Some(match i {
            0 => Self::bus_show::<0>,
            1 => Self::bus_show::<1>,
            2 => Self::bus_show::<2>,
            3 => Self::bus_show::<3>,
            4 => Self::bus_show::<4>,
            5 => Self::bus_show::<5>,
            6 => Self::bus_show::<6>,
            _ => Self::bus_show::<7>,
        })
    }

    const fn bus_store_fn(i: usize) -> Option<BusStore> {
        Some(match i {
            0 => Self::bus_store::<0>,
            1 => Self::bus_store::<1>,
            2 => Self::bus_store::<2>,
            3 => Self::bus_store::<3>,
            4 => Self::bus_store::<4>,
            5 => Self::bus_store::<5>,
            6 => Self::bus_store::<6>,
            _ => Self::bus_store::<7>,
        })
    }

    const BUS_ATTR_TABLE: [bindings::bus_attribute; MAX_ATTRS] = {
        let mut t = [Self::ZERO_BUS_ATTR; MAX_ATTRS];
        let a = T::BUS_ATTRS;
        assert!(a.len() <= MAX_ATTRS);
        let mut i = 0;
        while i < a.len() {
            t[i].attr.name = kernel::str::as_char_ptr_in_const_context(a[i].name).cast();
            t[i].attr.mode = a[i].mode;
            if a[i].mode & 0o444 != 0 {
                t[i].show = Self::bus_show_fn(i);
            }
            if a[i].mode & 0o222 != 0 {
                t[i].store = Self::bus_store_fn(i);
            }
            i += 1;
        }
        t
    };

    const DEV_ATTR_TABLE: [bindings::device_attribute; MAX_ATTRS] = {
        let mut t = [Self::ZERO_DEV_ATTR; MAX_ATTRS];
        let a = T::DEVICE_ATTRS;
        assert!(a.len() <= MAX_ATTRS);
        let mut i = 0;
        while i < a.len() {
            t[i].attr.name = kernel::str::as_char_ptr_in_const_context(a[i].name).cast();
            t[i].attr.mode = a[i].mode;
            if a[i].mode & 0o444 != 0 {
                t[i].__bindgen_anon_1.show = Some(Self::dev_show as DevShow);
            }
            if a[i].mode & 0o222 != 0 {
                t[i].__bindgen_anon_2.store = Some(Self::dev_store as DevStore);
            }
            i += 1;
        }
        t
    };

    const DEV_ATTR_PTRS: [*mut bindings::attribute; MAX_ATTRS + 1] = {
        let table: &'static [bindings::device_attribute; MAX_ATTRS] = &Self::DEV_ATTR_TABLE;
        let mut p = [ptr::null_mut(); MAX_ATTRS + 1];
        let mut i = 0;
        while i < T::DEVICE_ATTRS.len() {
            p[i] = ptr::from_ref(&table[i].attr).cast_mut();
            i += 1;
        }
        p
    };

    const DEV_GROUP: bindings::attribute_group = bindings::attribute_group {
        __bindgen_anon_2: bindings::attribute_group__bindgen_ty_2 {
            attrs: ptr::from_ref(&Self::DEV_ATTR_PTRS).cast_mut().cast(),
        },
        ..pin_init::zeroed()
    };

    const DEV_GROUPS: [*const bindings::attribute_group; 2] =
        [ptr::from_ref(&Self::DEV_GROUP), ptr::null()];

    /// The bus type, not registered yet.
    pub const fn new() -> Self {
        // An empty name would reach `kobject_add_internal`'s WARN.
        assert!(!T::NAME.to_bytes().is_empty(), "a bus needs a name");
        Self {
            // The bus attributes are not `bus_groups`: they are created
            // after the bus and removed before the devices (see `Drop` of
            // `BusRegistration`).
            bus: Opaque::new(bindings::bus_type {
                name: kernel::str::as_char_ptr_in_const_context(T::NAME).cast(),
                dev_groups: ptr::from_ref(&Self::DEV_GROUPS).cast_mut().cast(),
                uevent: Some(Self::uevent),
                ..pin_init::zeroed()
            }),
            attrs: Opaque::new(Self::BUS_ATTR_TABLE),
            // INVARIANT: free, null, and no bus attribute file exists.
            state: Atomic::new(BUS_FREE),
            ctx: Atomic::new(ptr::null_mut()),
            busy: Atomic::new(0),
            driver: Atomic::new(ptr::null_mut()),
            devices: Atomic::new(0),
        }
    }

    /// Whether devices and drivers may be added: the bus is registered and
    /// not being unregistered.  Read after counting oneself in `busy`
    /// ([`Busy::new`]): a bus whose unregistration has started is then
    /// seen as such, or waits for the caller.
    fn live(&self) -> bool {
        self.state.load(Acquire) == BUS_LIVE
    }

    /// Sleeps until no device or driver is being added or unregistered.
    /// Process context.
    fn wait_idle(&self) {
        while self.busy.load(Acquire) != 0 {
            fsleep(Delta::from_millis(1));
        }
    }

    /// Sleeps until every device made on the bus is released.  Process
    /// context.
    ///
    /// The driver core may hold a reference to a device after it is
    /// unregistered and drop it later: the deferred probe worker holds one
    /// while it retries the device's probe, and with
    /// `CONFIG_DEBUG_KOBJECT_RELEASE` every release is delayed by seconds.
    /// The device's `release` is module code and frees the device's data,
    /// so the bus (a `static` of the module) must not go before it has run.
    /// What it runs after it counts itself out is its return.
    ///
    /// A reference the module itself keeps (a [`DeviceRegistration`], or a
    /// net device registered with the device as its parent, dropped after
    /// the [`BusRegistration`]) makes this wait until it is dropped: for
    /// ever if that is on this thread.  Warns every 10 000 polls (10 to 20
    /// seconds) while it waits, as `netdev_wait_allrefs()` does.
    fn wait_released(&self) {
        let mut polls = 0u32;
        loop {
            let n = self.devices.load(Acquire);
            if n == 0 {
                return;
            }
            if polls != 0 && polls % 10_000 == 0 {
                pr_warn!(
                    "bus {}: waiting for {} device(s) to be released\n",
                    T::NAME.to_str().unwrap_or("?"),
                    n
                );
            }
            fsleep(Delta::from_millis(1));
            polls = polls.wrapping_add(1);
        }
    }

    /// Unregisters the bus, with every device still on it.
    ///
    /// `state` must have left [`BUS_LIVE`] by a fully ordered operation: a
    /// [`DeviceRegistration::new`] or [`DriverRegistration::register`]
    /// counted in `busy` after that fails, so one not seen in `busy` here
    /// added nothing.  Those still running
    /// finish first; then the devices left are unregistered
    /// ([`BusType::remove_devices`]); then the unregistrations of their
    /// own that registrations started before that finish, so that no
    /// `device_del()` of this bus's devices runs when the bus goes.
    ///
    /// # Safety
    ///
    /// The bus must be registered, and `state` no longer [`BUS_LIVE`], as
    /// above.
    unsafe fn shut_down(&self) {
        self.wait_idle();
        // A driver still registered (its registration leaked or kept past
        // the bus's) goes first, unbinding the devices.  Taking the pointer
        // out makes its unregistration ours; no registration is under way
        // (the bus is not live and the count was 0).
        let slot = self.driver.xchg(ptr::null_mut(), Full);
        if !slot.is_null() {
            // SAFETY: a slot published by `DriverRegistration::register`, of
            // a registered driver on this bus; ours to unregister, and its
            // registration's drop, which no longer finds it, waits for
            // `done` before freeing it.
            unsafe { bindings::driver_unregister((*slot).drv.get()) };
            // SAFETY: as above.  `complete_all` is the last access: it
            // releases the waiter only once it is done with the completion.
            unsafe { (*slot).done.complete_all() };
        }
        // SAFETY: registered (the caller's guarantee).
        unsafe { self.remove_devices() };
        // A registration that claimed its device first (the sweep read its
        // `registered` 0) counted itself before: seen below.
        smp_mb(Full);
        self.wait_idle();
        // SAFETY: registered, with no device on it.
        unsafe { bindings::bus_unregister(self.bus.get()) };
    }

    /// The registered context, if any.
    fn ctx(&self) -> Option<&T> {
        let p = self.ctx.load(Acquire);
        // SAFETY: by the type invariant `p` is null or points to a live
        // `T`; bus attribute callbacks, the only callers, run while the
        // files exist, and their removal waits for them before the `T`
        // goes away.
        unsafe { p.as_ref() }
    }

    /// Bus attribute `i` (`i < MAX_ATTRS`).
    fn attr(&self, i: usize) -> *mut bindings::bus_attribute {
        self.attrs
            .get()
            .cast::<bindings::bus_attribute>()
            .wrapping_add(i)
    }

    /// Removes the first `n` bus attribute files, waiting for their running
    /// callbacks.
    ///
    /// # Safety
    ///
    /// The bus must be registered with those files created.
    unsafe fn remove_files(&self, n: usize) {
        for i in 0..n {
            // SAFETY: as required by the caller.
            unsafe { bindings::bus_remove_file(self.bus.get(), self.attr(i)) };
        }
    }

    /// Unregisters every device still on the bus whose
    /// [`DeviceRegistration`] has not unregistered it yet (one that was
    /// leaked, or kept past the [`BusRegistration`]).  The registration
    /// keeps its reference: its drop, if it comes, only drops that (and
    /// the bus's registration waits for it: see [`BusType::wait_released`]).
    ///
    /// A device left on the bus would hold the driver core's reference to
    /// the bus's private data: `bus_unregister()` would leave it there,
    /// and removing the device later, from a bus registered again, would
    /// put that reference on the new bus's data
    /// ([`drivers/base/bus.c`](srctree/drivers/base/bus.c),
    /// `bus_remove_device()`).
    ///
    /// # Safety
    ///
    /// The bus must be registered.
    unsafe fn remove_devices(&self) {
        loop {
            // SAFETY: the bus is registered; `claim` is a match function
            // for its devices.  A device found is returned with a
            // reference.
            let dev = unsafe {
                bindings::bus_find_device(
                    self.bus.get(),
                    ptr::null_mut(),
                    ptr::null(),
                    Some(Self::claim),
                )
            };
            if dev.is_null() {
                break;
            }
            // SAFETY: a device on the bus, claimed (registered, and no
            // longer to be unregistered by its registration); we hold the
            // reference `bus_find_device` took.
            unsafe {
                bindings::device_del(dev);
                bindings::put_device(dev);
            }
        }
    }

    /// Takes over the unregistration of `dev` from its
    /// [`DeviceRegistration`]: 1 (a match) if it was still to be done.
    ///
    /// # Safety
    ///
    /// Only called by the C side, as the match function of
    /// `bus_find_device()` on this bus, with the arguments it gets.
    unsafe extern "C" fn claim(dev: *mut bindings::device, _data: *const c_void) -> c_int {
        // SAFETY: only `DeviceRegistration::new` adds devices to this bus,
        // and each is the first field of a `DeviceInner<T>`; the iteration
        // holds a reference to it.
        let inner = unsafe { &*dev.cast::<DeviceInner<T>>() };
        c_int::from(inner.registered.cmpxchg(1, 0, Full).is_ok())
    }

    /// # Safety
    ///
    /// `bus` must point to the `bus_type` of a `BusType<T>`.
    unsafe fn from_bus<'a>(bus: *const bindings::bus_type) -> &'a Self {
        // SAFETY: `bus` is the `bus` field of a `'static` `BusType<T>`.
        unsafe {
            &*bus
                .byte_sub(core::mem::offset_of!(Self, bus))
                .cast::<Self>()
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn bus_show<const N: usize>(
        bus: *const bindings::bus_type,
        buf: *mut c_char,
    ) -> isize {
        // SAFETY: only installed for our bus types.
        let this = unsafe { Self::from_bus(bus) };
        // SAFETY: sysfs passes a page it gives us alone for this call.
        let mut out = unsafe { SysfsWriter::from_page(buf) };
        from_result(|| {
            this.ctx().ok_or(ENODEV)?.bus_show(N, &mut out)?;
            Ok(out.len() as isize)
        })
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn bus_store<const N: usize>(
        bus: *const bindings::bus_type,
        buf: *const c_char,
        count: usize,
    ) -> isize {
        // SAFETY: only installed for our bus types.
        let this = unsafe { Self::from_bus(bus) };
        // SAFETY: sysfs passes `count` readable bytes.
        let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
        from_result(|| {
            this.ctx().ok_or(ENODEV)?.bus_store(N, input)?;
            Ok(count as isize)
        })
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn uevent(
        dev: *const bindings::device,
        env: *mut bindings::kobj_uevent_env,
    ) -> c_int {
        // SAFETY: the driver core builds uevents for the devices of this
        // bus only, each the first field of a `DeviceInner<T>` (`repr(C)`)
        // that its caller holds a reference to.
        let inner = unsafe { &*dev.cast::<DeviceInner<T>>() };
        let Some(alias) = T::modalias(&inner.data) else {
            return 0;
        };
        // SAFETY: `env` is the environment being built; the format takes
        // two NUL-terminated strings, which both arguments are.
        unsafe {
            bindings::add_uevent_var(
                env,
                c"MODALIAS=%s:%s".as_char_ptr().cast(),
                T::NAME.as_char_ptr(),
                alias.as_char_ptr(),
            )
        }
    }

    /// # Safety
    ///
    /// `dev` must be the device of a live [`DeviceRegistration<T>`]'s
    /// `DeviceInner<T>` and `attr` one of `DEV_ATTR_TABLE`'s entries.
    unsafe fn dev_parts<'a>(
        dev: *mut bindings::device,
        attr: *mut bindings::device_attribute,
    ) -> (&'a T::DeviceData, usize) {
        // SAFETY: by the safety requirements `dev` is the first field of a
        // live `DeviceInner<T>` (`repr(C)`).
        let inner = unsafe { &*dev.cast::<DeviceInner<T>>() };
        // The attribute's position, by name (the constant tables may exist
        // in several copies, so pointers are not compared).
        // SAFETY: `attr` is a valid attribute with a NUL-terminated name.
        let name = unsafe { CStr::from_char_ptr((*attr).attr.name) };
        let index = T::DEVICE_ATTRS
            .iter()
            .position(|a| a.name == name)
            .unwrap_or(MAX_ATTRS);
        (&inner.data, index)
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn dev_show(
        dev: *mut bindings::device,
        attr: *mut bindings::device_attribute,
        buf: *mut c_char,
    ) -> isize {
        // SAFETY: sysfs calls this for the attributes of our devices only
        // (`dev_groups` of our bus), while the device is registered.
        let (data, index) = unsafe { Self::dev_parts(dev, attr) };
        // SAFETY: sysfs passes a page it gives us alone for this call.
        let mut out = unsafe { SysfsWriter::from_page(buf) };
        from_result(|| {
            T::device_show(data, index, &mut out)?;
            Ok(out.len() as isize)
        })
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn dev_store(
        dev: *mut bindings::device,
        attr: *mut bindings::device_attribute,
        buf: *const c_char,
        count: usize,
    ) -> isize {
        // SAFETY: as in `dev_show`.
        let (data, index) = unsafe { Self::dev_parts(dev, attr) };
        // SAFETY: sysfs passes `count` readable bytes.
        let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
        from_result(|| {
            T::device_store(data, index, input)?;
            Ok(count as isize)
        })
    }
}

impl<T: Bus> Default for BusType<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A registered bus with its context; unregistered on drop.
///
/// Dropping it removes the bus attribute files (waiting for running
/// callbacks: no bus attribute method runs or starts afterwards), then
/// drops the context, which should own every [`DeviceRegistration`] of
/// the bus (so they are unregistered with it), then unregisters any device
/// still on the bus (a registration leaked or kept elsewhere: its drop
/// then only drops its reference), then unregisters the bus, and waits
/// until every device made on it is released (the driver core may hold a
/// reference for a while; one the module keeps, it must drop first, or
/// the drop waits for it: see [`BusType::wait_released`]).
///
/// # Invariants
///
/// `bus` is registered, its bus attribute files exist and its `ctx` points
/// to `ctx`'s contents, which are dropped only in `drop`.
pub struct BusRegistration<T: Bus> {
    bus: &'static BusType<T>,
    ctx: ManuallyDrop<Pin<KBox<T>>>,
}

impl<T: Bus> BusRegistration<T> {
    /// Registers `bus` with the context `ctx`, which its bus attribute
    /// methods get, and creates the bus attribute files.  Process context.
    ///
    /// Fails with `EBUSY` if `bus` is registered already (or being
    /// registered or unregistered), `EINVAL` if [`Bus::NAME`] or the name
    /// of an attribute file is empty, `.` or `..`, longer than 255 bytes or
    /// has a `/`, or two bus (or two device) attribute files have the same
    /// name, or one has the name of a file the driver core makes (a bus's
    /// `uevent`, `devices`, `drivers`, `drivers_probe`,
    /// `drivers_autoprobe`; a device's `uevent`, `power`, `subsystem`,
    /// `driver`), or with the error of the allocation or of the driver
    /// core.
    pub fn register(bus: &'static BusType<T>, ctx: impl PinInit<T, Error>) -> Result<Self> {
        // Names the driver core gives files of its own
        // (`drivers/base/bus.c`, `drivers/base/core.c`).
        const BUS_FILES: [&[u8]; 5] = [
            b"uevent",
            b"devices",
            b"drivers",
            b"drivers_probe",
            b"drivers_autoprobe",
        ];
        const DEVICE_FILES: [&[u8]; 4] = [b"uevent", b"power", b"subsystem", b"driver"];
        let valid = |attrs: &[Attr], core: &[&[u8]]| {
            attrs.iter().enumerate().all(|(i, a)| {
                let name = a.name.to_bytes();
                valid_name(name)
                    && !core.contains(&name)
                    && !attrs[..i].iter().any(|b| b.name == a.name)
            })
        };
        if !valid_name(T::NAME.to_bytes())
            || !valid(T::BUS_ATTRS, &BUS_FILES)
            || !valid(T::DEVICE_ATTRS, &DEVICE_FILES)
        {
            return Err(EINVAL);
        }
        let ctx = KBox::pin_init(ctx, GFP_KERNEL)?;
        let p = ptr::from_ref::<T>(&ctx).cast_mut();
        if bus.state.cmpxchg(BUS_FREE, BUS_REGISTERING, Full).is_err() {
            return Err(EBUSY);
        }
        bus.ctx.store(p, Release);
        // SAFETY: the bus type is `'static` and not registered (it was
        // free, and is ours now); its device attribute tables are
        // `'static`.
        if let Err(e) = to_result(unsafe { bindings::bus_register(bus.bus.get()) }) {
            // Nothing was added: the bus was never live.
            bus.ctx.store(ptr::null_mut(), Release);
            bus.state.store(BUS_FREE, Release);
            return Err(e);
        }
        for i in 0..T::BUS_ATTRS.len() {
            // SAFETY: the bus is registered; its attributes live in the
            // `'static` `bus` and are set up (`BUS_ATTR_TABLE`).
            let ret = unsafe { bindings::bus_create_file(bus.bus.get(), bus.attr(i)) };
            if let Err(e) = to_result(ret) {
                // SAFETY: registered, with the files before `i` created.
                // As in `drop`: the files, then the context (with any
                // device their writers created), then the bus.
                unsafe { bus.remove_files(i) };
                bus.state.store(BUS_CLOSING, Release);
                bus.ctx.store(ptr::null_mut(), Release);
                drop(ctx);
                // SAFETY: registered above; never live.
                unsafe { bus.shut_down() };
                bus.wait_released();
                bus.state.store(BUS_FREE, Release);
                return Err(e);
            }
        }
        // Devices and drivers may be added from now on.
        bus.state.store(BUS_LIVE, Release);
        // INVARIANT: registered, with the files and `ctx` published.
        Ok(Self {
            bus,
            ctx: ManuallyDrop::new(ctx),
        })
    }

    /// The context.
    pub fn ctx(&self) -> &T {
        &self.ctx
    }
}

impl<T: Bus> Drop for BusRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: registered with its files (type invariant).  Removing the
        // files waits for running bus attribute callbacks; none can start
        // afterwards, so no device can be created any more.
        unsafe { self.bus.remove_files(T::BUS_ATTRS.len()) };
        // INVARIANT: the files are gone.
        // Fully ordered, for `shut_down`: no device or driver is added from
        // now on.
        self.bus.state.xchg(BUS_CLOSING, Full);
        self.bus.ctx.store(ptr::null_mut(), Release);
        // SAFETY: dropped once, here; no callback can reach it any more.
        // Dropping it unregisters the devices it owns.
        unsafe { ManuallyDrop::drop(&mut self.ctx) };
        // SAFETY: registered (type invariant), no longer live (fully
        // ordered).  A driver and devices that the context did not own go
        // first: none may stay on the bus.
        unsafe { self.bus.shut_down() };
        // No device is made any more; those still referenced go first.
        self.bus.wait_released();
        // Only now may the bus type be registered again.
        self.bus.state.store(BUS_FREE, Release);
    }
}

/// A device on the bus and its data, in one allocation freed by the
/// device's `release` callback.
#[repr(C)]
#[pin_data]
///
/// # Invariants
///
/// `registered` is 1 from the end of a successful `device_add()` until
/// whoever first changes it to 0 (the registration's drop, or
/// [`BusType::remove_devices`]) unregisters the device.
struct DeviceInner<T: Bus> {
    dev: Opaque<bindings::device>,
    registered: Atomic<i32>,
    /// Counts this device in its `devices` until released.
    bus: &'static BusType<T>,
    #[pin]
    data: T::DeviceData,
}

/// A device on a bus, with data; unregistered on drop.
///
/// Unregistering waits for the device's running attribute callbacks: do
/// not drop it while holding a lock that [`Bus::device_show`] or
/// [`Bus::device_store`] take.
///
/// # Invariants
///
/// `inner` points to a `DeviceInner<T>` whose `device` was registered
/// (and is until this drops, or the bus's registration drops without
/// owning this) and holds the reference we own; it is freed by the device's release
/// callback once the last reference goes.
pub struct DeviceRegistration<T: Bus> {
    bus: &'static BusType<T>,
    inner: NonNull<DeviceInner<T>>,
    _p: PhantomData<T::DeviceData>,
}

// SAFETY: dropping the registration (on any thread, in process context)
// unregisters the device and may drop `T::DeviceData` there, which is
// `Send`; the reference count of the device is atomic.
unsafe impl<T: Bus> Send for DeviceRegistration<T> {}
// SAFETY: `&DeviceRegistration` only gives `&T::DeviceData`, which is
// `Sync`, and the device pointer to the abstractions.
unsafe impl<T: Bus> Sync for DeviceRegistration<T> {}

impl<T: Bus> DeviceRegistration<T> {
    /// Registers a device named `name` on `bus` with the data `data`,
    /// which its attribute functions get (its files may be read as soon as
    /// this returns, and even before).  Process context.
    ///
    /// Fails with `ENODEV` if the bus is not registered (or is being
    /// registered or unregistered), `EINVAL` if `name` is empty, `.` or
    /// `..`, longer than 255 bytes or has a `/`, `EEXIST` if a
    /// device of that name exists (the kernel logs the conflict: keep
    /// names unique), or the error of the allocation or of `data`.
    pub fn new(
        bus: &'static BusType<T>,
        name: &CStr,
        data: impl PinInit<T::DeviceData, Error>,
    ) -> Result<Self> {
        // Counted until the device is added (or not): a bus shutting down
        // waits, then unregisters it with the rest.
        let _busy = Busy::new(&bus.busy);
        if !bus.live() {
            return Err(ENODEV);
        }
        // `device_add` refuses a NULL name only: an empty one, or one with
        // a `/`, would reach kobject's WARN or sysfs' rename of it; `.` and
        // `..` have no path to them.
        if !valid_name(name.to_bytes()) {
            return Err(EINVAL);
        }
        let inner = KBox::pin_init(
            try_pin_init!(DeviceInner {
                dev: Opaque::zeroed(),
                registered: Atomic::new(0),
                bus,
                data <- data,
            }),
            GFP_KERNEL,
        )?;
        // Counted out by `release`, which frees `inner` from now on.
        bus.devices.fetch_add(1, Relaxed);
        // SAFETY: the allocation stays where it is (freed in place by
        // `release`).
        let inner = KBox::into_raw(unsafe { Pin::into_inner_unchecked(inner) });
        // SAFETY: `inner` is a valid allocation; its device is zeroed.
        let dev = unsafe { (*inner).dev.get() };
        // SAFETY: `dev` is zeroed memory; after `device_initialize` the
        // device is reference counted and `release` frees `inner`.
        unsafe {
            bindings::device_initialize(dev);
            (*dev).bus = bus.bus.get();
            (*dev).release = Some(Self::release);
        }
        // SAFETY: `dev` is initialised; `"%s"` with a valid C string.
        let mut ret =
            unsafe { bindings::dev_set_name(dev, c"%s".as_char_ptr().cast(), name.as_char_ptr()) };
        if ret == 0 {
            // SAFETY: `dev` is initialised and named.
            ret = unsafe { bindings::device_add(dev) };
        }
        if ret != 0 {
            // SAFETY: drops the initial reference; `release` frees `inner`.
            unsafe { bindings::put_device(dev) };
            return Err(Error::from_errno(ret));
        }
        // SAFETY: `inner` is alive (we hold a reference).
        // INVARIANT: added; from here on one of the registration's drop and
        // `remove_devices` unregisters it.
        unsafe { (*inner).registered.store(1, Release) };
        // INVARIANT: registered, with our reference.
        Ok(Self {
            bus,
            // SAFETY: from `KBox::into_raw`, not null.
            inner: unsafe { NonNull::new_unchecked(inner) },
            _p: PhantomData,
        })
    }

    /// The device's data.
    pub fn data(&self) -> &T::DeviceData {
        // SAFETY: `inner` is alive while we hold our reference.
        unsafe { &self.inner.as_ref().data }
    }

    pub(in crate::rnm) fn as_raw(&self) -> *mut bindings::device {
        // SAFETY: `inner` is alive while we hold our reference.
        unsafe { self.inner.as_ref().dev.get() }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn release(dev: *mut bindings::device) {
        // SAFETY: `dev` is the first field of a `DeviceInner<T>` made by
        // `KBox::into_raw` in `new`; the last reference is gone.
        let inner = unsafe { KBox::from_raw(dev.cast::<DeviceInner<T>>()) };
        let bus = inner.bus;
        drop(inner);
        // Release: the data is dropped for whoever sees the count drop.
        bus.devices.fetch_sub(1, Release);
    }
}

impl<T: Bus> Drop for DeviceRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: `inner` is alive while we hold our reference.
        let inner = unsafe { self.inner.as_ref() };
        // Counted until the device is unregistered: a bus shutting down
        // waits for that before `bus_unregister()`.
        let busy = Busy::new(&self.bus.busy);
        if inner.registered.cmpxchg(1, 0, Full).is_ok() {
            // SAFETY: registered, and claimed by us: removes the device and
            // its attribute files (waiting for running callbacks).
            unsafe { bindings::device_del(self.as_raw()) };
        }
        drop(busy);
        // SAFETY: drops the reference we own (type invariant).
        unsafe { bindings::put_device(self.as_raw()) };
    }
}

impl<T: Bus> Deref for DeviceRegistration<T> {
    type Target = Device<T>;

    fn deref(&self) -> &Device<T> {
        // SAFETY: `inner` is alive while we hold our reference.
        unsafe { Device::from_raw(self.as_raw()) }
    }
}

/// A device on a bus of type `T`, borrowed: from its
/// [`DeviceRegistration`], which dereferences to it, or from the driver
/// core in a [`Driver`]'s callbacks.
#[repr(transparent)]
pub struct Device<T: Bus>(DeviceInner<T>);

// SAFETY: `&Device` only gives `&T::DeviceData`, which is `Sync`, and the
// device pointer to the abstractions, which use it with the driver core's
// reference-counted, internally locked functions.
unsafe impl<T: Bus> Sync for Device<T> {}

impl<T: Bus> Device<T> {
    /// The device's data.
    pub fn data(&self) -> &T::DeviceData {
        &self.0.data
    }

    pub(in crate::rnm) fn as_raw(&self) -> *mut bindings::device {
        self.0.dev.get()
    }

    /// # Safety
    ///
    /// `dev` must be the device of a `DeviceInner<T>` that stays alive
    /// for `'a`.
    unsafe fn from_raw<'a>(dev: *mut bindings::device) -> &'a Self {
        // SAFETY: `dev` is the first field of a `DeviceInner<T>`
        // (`repr(C)`), which `Self` wraps transparently, alive for `'a`.
        unsafe { &*dev.cast::<Self>() }
    }
}

/// The driver of the devices of a bus: it binds to a device
/// ([`Driver::probe`]) and unbinds from it ([`Driver::remove`]), keeping
/// data of its own for each device it is bound to.
///
/// A device is bound when it is added to the bus (unless
/// `/sys/bus/<bus>/drivers_autoprobe` is 0), when the driver is registered,
/// and when user space asks (`/sys/bus/<bus>/drivers/<NAME>/bind`,
/// `/sys/bus/<bus>/drivers_probe`); it is unbound when it is unregistered,
/// when the driver is unregistered, and through
/// `/sys/bus/<bus>/drivers/<NAME>/unbind`.  The driver core calls both
/// functions in process context with the device locked; they may sleep,
/// and may run at the same time for different devices.
pub trait Driver: Sized + 'static {
    /// The bus whose devices the driver binds to.
    type Bus: Bus;

    /// The driver's data for each device it is bound to.
    type Data: Send;

    /// The driver name (`/sys/bus/<bus>/drivers/<NAME>`).
    const NAME: &'static CStr;

    /// Binds to `dev`: returns the data kept while it is bound.
    ///
    /// An error leaves the device unbound: the driver core logs all but
    /// `ENODEV` and `ENXIO`, and with `EPROBE_DEFER` probes the device
    /// again later (after another driver binds somewhere).
    fn probe(dev: &Device<Self::Bus>) -> Result<Pin<KBox<Self::Data>>>;

    /// Unbinds from `dev`, with the data [`Driver::probe`] returned; the
    /// default drops it.  The device is still on the bus: its attribute
    /// files may be used meanwhile and afterwards.
    fn remove(dev: &Device<Self::Bus>, data: Pin<KBox<Self::Data>>) {
        let _ = dev;
        drop(data);
    }
}

/// The `device_driver` of a registered driver, and the completion of its
/// unregistration when [`BusType::shut_down`] took it over.
#[pin_data]
struct DriverSlot {
    drv: Opaque<bindings::device_driver>,
    #[pin]
    done: Completion,
}

/// A registered driver; unregistered on drop, which unbinds it from its
/// devices ([`Driver::remove`] for each).  A bus has at most one.
///
/// If the bus's [`BusRegistration`] is dropped first, it unregisters the
/// driver with the bus; the drop then only frees what is left.
///
/// # Invariants
///
/// `slot` comes from `KBox::into_raw`; its driver was registered on `bus`
/// with `D`'s callbacks, and the slot was published in the bus's `driver`.
/// Whoever takes it out of there (this registration's drop, or the bus's
/// [`BusType::shut_down`], which completes `done` when it is through)
/// unregisters the driver; the slot is freed by the drop, after that.
pub struct DriverRegistration<D: Driver> {
    bus: &'static BusType<D::Bus>,
    slot: NonNull<DriverSlot>,
    _p: PhantomData<D>,
}

// SAFETY: the registration is only dropped (on any thread, in process
// context), which unregisters the driver; it gives no access to anything.
unsafe impl<D: Driver> Send for DriverRegistration<D> {}
// SAFETY: `&DriverRegistration` gives access to nothing.
unsafe impl<D: Driver> Sync for DriverRegistration<D> {}

impl<D: Driver> DriverRegistration<D> {
    /// Registers driver `D` on `bus`, owned by `module`, and binds it to the
    /// devices on the bus (as `drivers_autoprobe` allows).  Process context.
    ///
    /// Probes run synchronously: a device added to the bus is bound (or
    /// not) when [`DeviceRegistration::new`] returns.
    ///
    /// Fails with `ENODEV` if the bus is not registered (or is being
    /// registered or unregistered), `EINVAL` if [`Driver::NAME`] is empty,
    /// `.` or `..`, longer than 255 bytes or has a `/`,
    /// `EBUSY` if the bus has a driver already, or the error of the
    /// allocation or of the driver core.
    pub fn register(bus: &'static BusType<D::Bus>, module: &'static ThisModule) -> Result<Self> {
        // Counted until the driver is registered (or not): a bus shutting
        // down waits before it looks for a driver to unregister.
        let _busy = Busy::new(&bus.busy);
        if !bus.live() {
            return Err(ENODEV);
        }
        // An empty name would reach `kobject_add_internal`'s WARN.
        if !valid_name(D::NAME.to_bytes()) {
            return Err(EINVAL);
        }
        let slot = KBox::pin_init(
            pin_init!(DriverSlot {
                drv: Opaque::new(bindings::device_driver {
                    name: D::NAME.as_char_ptr().cast(),
                    bus: bus.bus.get(),
                    owner: module.as_ptr().cast(),
                    // A device is bound (or not) when its registration
                    // returns, whatever `async_probe` asks.
                    probe_type: bindings::probe_type_PROBE_FORCE_SYNCHRONOUS,
                    probe: Some(Self::probe_callback),
                    remove: Some(Self::remove_callback),
                    ..pin_init::zeroed()
                }),
                done <- Completion::new(),
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: the slot is never moved: it is freed in place.
        let p = KBox::into_raw(unsafe { Pin::into_inner_unchecked(slot) });
        if bus.driver.cmpxchg(ptr::null_mut(), p, Full).is_err() {
            // SAFETY: from `KBox::into_raw` above, never published.
            drop(unsafe { KBox::from_raw(p) });
            return Err(EBUSY);
        }
        // SAFETY: the slot lives until the driver is unregistered (type
        // invariant); its name and bus are `'static`.
        let ret = unsafe { bindings::driver_register((*p).drv.get()) };
        if ret != 0 {
            // No one else takes the slot out while we are counted in the
            // bus's `busy`: `shut_down` waits for us first.
            bus.driver.store(ptr::null_mut(), Release);
            // SAFETY: from `KBox::into_raw` above, no longer published.
            drop(unsafe { KBox::from_raw(p) });
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: registered, published.
        Ok(Self {
            bus,
            // SAFETY: from `KBox::into_raw`, not null.
            slot: unsafe { NonNull::new_unchecked(p) },
            _p: PhantomData,
        })
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn probe_callback(dev: *mut bindings::device) -> c_int {
        // SAFETY: the driver core probes a driver only with devices of its
        // bus, which are all made by `DeviceRegistration::new`, and holds a
        // reference to the device for the call.
        let device = unsafe { Device::<D::Bus>::from_raw(dev) };
        match D::probe(device) {
            Ok(data) => {
                // SAFETY: the data is never moved: `remove_callback` only
                // turns the pointer back into a pinned box.
                let data = KBox::into_raw(unsafe { Pin::into_inner_unchecked(data) });
                // SAFETY: the device is locked by the core for the probe;
                // its driver data is ours while it is bound to us (the core
                // clears it after `remove`).
                unsafe { (*dev).driver_data = data.cast() };
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn remove_callback(dev: *mut bindings::device) -> c_int {
        // SAFETY: as in `probe_callback`.
        let device = unsafe { Device::<D::Bus>::from_raw(dev) };
        // SAFETY: the device is bound to this driver, and locked: its
        // driver data is the box `probe_callback` stored.
        let data = unsafe { (*dev).driver_data }.cast::<D::Data>();
        // SAFETY: as above; cleared so that nothing sees the freed box.
        unsafe { (*dev).driver_data = ptr::null_mut() };
        // SAFETY: from `KBox::into_raw` in `probe_callback`, never moved.
        let data = unsafe { Pin::new_unchecked(KBox::from_raw(data)) };
        D::remove(device, data);
        0
    }
}

impl<D: Driver> Drop for DriverRegistration<D> {
    fn drop(&mut self) {
        let p = self.slot.as_ptr();
        // Counted until the driver is unregistered: a bus shutting down
        // waits for that before `bus_unregister()`.
        let busy = Busy::new(&self.bus.busy);
        if self.bus.driver.cmpxchg(p, ptr::null_mut(), Full).is_ok() {
            // SAFETY: registered (type invariant); taking the slot out made
            // the unregistration ours.  Unbinds the driver's devices.
            unsafe { bindings::driver_unregister((*p).drv.get()) };
        } else {
            // The bus's shutdown took it: wait until it is through.
            // SAFETY: the slot is alive until we free it below.
            unsafe { (*p).done.wait_for_completion() };
        }
        drop(busy);
        // SAFETY: from `KBox::into_raw`; the driver is unregistered and no
        // one else refers to the slot.
        drop(unsafe { KBox::from_raw(p) });
    }
}
