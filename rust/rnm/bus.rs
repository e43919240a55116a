// SPDX-License-Identifier: GPL-2.0

//! A bus type of its own with bus attributes, and devices on it with
//! per-device attributes, in sysfs.
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
//! itself (never through a global list).
//!
//! Teardown order, held by [`BusRegistration`]'s drop: the bus attribute
//! files go first (waiting for running callbacks, so that none can create a
//! device any more), then the context is dropped (the driver's devices,
//! which it owns, with it), then the bus.  A driver keeps its
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

use crate::rnm::bindings;
use core::{
    marker::PhantomData,
    mem::ManuallyDrop,
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
/// `ctx` is null, or points to the `T` of the [`BusRegistration`] that
/// registered `bus`, which stays alive until the bus attribute files are
/// removed.  `attrs[..T::BUS_ATTRS.len()]` are the bus attributes, which
/// exist as files exactly while `ctx` is not null.  `busy` counts the
/// [`DeviceRegistration`]s being added or unregistered (see
/// [`BusType::shut_down`]).
pub struct BusType<T: Bus> {
    bus: Opaque<bindings::bus_type>,
    attrs: Opaque<[bindings::bus_attribute; MAX_ATTRS]>,
    ctx: Atomic<*mut T>,
    busy: Atomic<i32>,
}

/// A device being added to or removed from a bus: counted in the bus's
/// `busy` while it lives.
struct Busy<'a>(&'a Atomic<i32>);

impl<'a> Busy<'a> {
    /// Counts one.  Fully ordered: what the caller reads afterwards (the
    /// bus's `ctx`, a device's `registered`) is read after the count is
    /// visible to [`BusType::shut_down`].
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
// registers them and under its own locks; `ctx` is atomic, and what it
// points at (a `T`, which is `Sync`) is only shared as `&T`.
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
                ..pin_init::zeroed()
            }),
            attrs: Opaque::new(Self::BUS_ATTR_TABLE),
            // INVARIANT: null, and no bus attribute file exists.
            ctx: Atomic::new(ptr::null_mut()),
            busy: Atomic::new(0),
        }
    }

    /// Sleeps until no device is being added or unregistered.  Process
    /// context.
    fn wait_idle(&self) {
        while self.busy.load(Acquire) != 0 {
            fsleep(Delta::from_millis(1));
        }
    }

    /// Unregisters the bus, with every device still on it.
    ///
    /// `ctx` must have been set to null by a fully ordered operation: a
    /// [`DeviceRegistration::new`] counted in `busy` after that fails, so
    /// one not seen in `busy` here added nothing.  Those still running
    /// finish first; then the devices left are unregistered
    /// ([`BusType::remove_devices`]); then the unregistrations of their
    /// own that registrations started before that finish, so that no
    /// `device_del()` of this bus's devices runs when the bus goes.
    ///
    /// # Safety
    ///
    /// The bus must be registered, and `ctx` set to null as above.
    unsafe fn shut_down(&self) {
        self.wait_idle();
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
    /// keeps its reference: its drop, if it comes, only drops that.
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
/// then only drops its reference), then unregisters the bus.
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
    /// Fails with `EBUSY` if `bus` is registered already, or with the
    /// error of the allocation or of the driver core.
    pub fn register(bus: &'static BusType<T>, ctx: impl PinInit<T, Error>) -> Result<Self> {
        let ctx = KBox::pin_init(ctx, GFP_KERNEL)?;
        let p = ptr::from_ref::<T>(&ctx).cast_mut();
        if bus.ctx.cmpxchg(ptr::null_mut(), p, Full).is_err() {
            return Err(EBUSY);
        }
        // SAFETY: the bus type is `'static` and not registered (`ctx` was
        // null); its device attribute tables are `'static`.
        if let Err(e) = to_result(unsafe { bindings::bus_register(bus.bus.get()) }) {
            bus.ctx.store(ptr::null_mut(), Release);
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
                bus.ctx.xchg(ptr::null_mut(), Full);
                drop(ctx);
                // SAFETY: registered above; `ctx` null, fully ordered.
                unsafe { bus.shut_down() };
                return Err(e);
            }
        }
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
        // Fully ordered, for `shut_down`.
        self.bus.ctx.xchg(ptr::null_mut(), Full);
        // SAFETY: dropped once, here; no callback can reach it any more.
        // Dropping it unregisters the devices it owns.
        unsafe { ManuallyDrop::drop(&mut self.ctx) };
        // SAFETY: registered (type invariant), `ctx` null (fully
        // ordered).  Devices that the context did not own go first: none
        // may stay on the bus.
        unsafe { self.bus.shut_down() };
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
    /// Fails with `ENODEV` if the bus is not registered, `EINVAL` if `name`
    /// is empty or has a `/`, `EEXIST` if a
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
        if bus.ctx.load(Relaxed).is_null() {
            return Err(ENODEV);
        }
        // `device_add` refuses a NULL name only: an empty one, or one with
        // a `/`, would reach kobject's WARN or sysfs' rename of it.
        if name.to_bytes().is_empty() || name.to_bytes().contains(&b'/') {
            return Err(EINVAL);
        }
        let inner = KBox::pin_init(
            try_pin_init!(DeviceInner {
                dev: Opaque::zeroed(),
                registered: Atomic::new(0),
                data <- data,
            }),
            GFP_KERNEL,
        )?;
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
        drop(unsafe { KBox::from_raw(dev.cast::<DeviceInner<T>>()) });
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
