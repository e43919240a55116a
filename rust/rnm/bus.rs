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
//! methods that show and store them.  The bus lives in a `static`
//! [`BusType`]; [`BusRegistration::register`] registers it with its
//! context (a `T`, which the attribute methods get); each
//! [`DeviceRegistration`] puts a device with its data on the bus.
//!
//! ```ignore
//! static BUS: BusType<MyBus> = BusType::new();
//!
//! impl Bus for MyBus {
//!     type DeviceData = u32;
//!     const NAME: &'static CStr = c"mybus";
//!     const BUS_ATTRS: &'static [Attr] = &[Attr::write_only(c"new_device")];
//!     const DEVICE_ATTRS: &'static [Attr] = &[Attr::read_only(c"id")];
//!     fn bus_store(&self, index: usize, input: &[u8]) -> Result { ... }
//!     fn device_show(&self, id: &u32, index: usize, out: &mut SysfsWriter<'_>) -> Result { ... }
//! }
//! ```

use crate::rnm::bindings;
use core::{
    fmt,
    marker::PhantomData,
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{error::to_result, prelude::*, types::Opaque};

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

/// The output of a sysfs `show` method: a page, filled with `write!`.
pub struct SysfsWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for SysfsWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A bus and the methods behind its attribute files.
///
/// The `index` arguments are positions in [`Bus::BUS_ATTRS`] and
/// [`Bus::DEVICE_ATTRS`].  A `store` method gets the bytes written (with
/// a trailing newline, if any) and returns an error, which the writer
/// sees, or success: the write is then accepted whole.
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
    fn device_show(
        &self,
        _dev: &Self::DeviceData,
        _index: usize,
        _out: &mut SysfsWriter<'_>,
    ) -> Result {
        Err(EIO)
    }

    /// Stores into attribute `index` of the device with data `dev`.
    fn device_store(&self, _dev: &Self::DeviceData, _index: usize, _input: &[u8]) -> Result {
        Err(EIO)
    }
}

type BusShow = unsafe extern "C" fn(*const bindings::bus_type, *mut u8) -> isize;
type BusStore = unsafe extern "C" fn(*const bindings::bus_type, *const u8, usize) -> isize;
type DevShow =
    unsafe extern "C" fn(*mut bindings::device, *mut bindings::device_attribute, *mut u8) -> isize;
type DevStore = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *const u8,
    usize,
) -> isize;

/// A bus type, to be placed in a `static`.
///
/// # Invariants
///
/// `ctx` is null, or points to the `T` of the [`BusRegistration`] that
/// registered `bus` and is still alive.
pub struct BusType<T: Bus> {
    bus: Opaque<bindings::bus_type>,
    ctx: AtomicPtr<T>,
}

// SAFETY: the `bus_type` is only changed by the driver core under its own
// locks; `ctx` is atomic.
unsafe impl<T: Bus> Sync for BusType<T> {}

/// `show`/`store` output and input as results.
fn show_result(r: Result, len: usize) -> isize {
    match r {
        Ok(()) => len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

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

    const BUS_ATTR_PTRS: [*mut bindings::attribute; MAX_ATTRS + 1] = {
        let table: &'static [bindings::bus_attribute; MAX_ATTRS] = &Self::BUS_ATTR_TABLE;
        let mut p = [ptr::null_mut(); MAX_ATTRS + 1];
        let mut i = 0;
        while i < T::BUS_ATTRS.len() {
            p[i] = ptr::from_ref(&table[i].attr).cast_mut();
            i += 1;
        }
        p
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

    const BUS_GROUP: bindings::attribute_group = bindings::attribute_group {
        __bindgen_anon_2: bindings::attribute_group__bindgen_ty_2 {
            attrs: ptr::from_ref(&Self::BUS_ATTR_PTRS).cast_mut().cast(),
        },
        ..pin_init::zeroed()
    };

    const DEV_GROUP: bindings::attribute_group = bindings::attribute_group {
        __bindgen_anon_2: bindings::attribute_group__bindgen_ty_2 {
            attrs: ptr::from_ref(&Self::DEV_ATTR_PTRS).cast_mut().cast(),
        },
        ..pin_init::zeroed()
    };

    const BUS_GROUPS: [*const bindings::attribute_group; 2] =
        [ptr::from_ref(&Self::BUS_GROUP), ptr::null()];

    const DEV_GROUPS: [*const bindings::attribute_group; 2] =
        [ptr::from_ref(&Self::DEV_GROUP), ptr::null()];

    /// The bus type, not registered yet.
    pub const fn new() -> Self {
        Self {
            bus: Opaque::new(bindings::bus_type {
                name: kernel::str::as_char_ptr_in_const_context(T::NAME).cast(),
                bus_groups: ptr::from_ref(&Self::BUS_GROUPS).cast_mut().cast(),
                dev_groups: ptr::from_ref(&Self::DEV_GROUPS).cast_mut().cast(),
                ..pin_init::zeroed()
            }),
            // INVARIANT: null.
            ctx: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The registered context, if any.
    fn ctx(&self) -> Option<&T> {
        let p = self.ctx.load(Ordering::Acquire);
        // SAFETY: by the type invariant `p` is null or points to a live
        // `T`; attribute callbacks, the only callers, run while the bus is
        // registered, and unregistration waits for them before the `T`
        // goes away.
        unsafe { p.as_ref() }
    }

    /// # Safety
    ///
    /// `bus` must point to the `bus_type` of a `BusType<T>`.
    unsafe fn from_bus<'a>(bus: *const bindings::bus_type) -> &'a Self {
        // SAFETY: `bus` is the `bus` field of a `'static` `BusType<T>`;
        // `Opaque` is transparent and the field is at offset 0 only if we
        // compute it, so subtract its offset.
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
        buf: *mut u8,
    ) -> isize {
        // SAFETY: only registered for our bus types.
        let this = unsafe { Self::from_bus(bus) };
        // SAFETY: sysfs passes a page-sized buffer.
        let buf = unsafe { core::slice::from_raw_parts_mut(buf, kernel::page::PAGE_SIZE) };
        let mut w = SysfsWriter { buf, len: 0 };
        let r = match this.ctx() {
            Some(ctx) => ctx.bus_show(N, &mut w),
            None => Err(ENODEV),
        };
        show_result(r, w.len)
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn bus_store<const N: usize>(
        bus: *const bindings::bus_type,
        buf: *const u8,
        count: usize,
    ) -> isize {
        // SAFETY: only registered for our bus types.
        let this = unsafe { Self::from_bus(bus) };
        // SAFETY: sysfs passes `count` readable bytes.
        let input = unsafe { core::slice::from_raw_parts(buf, count) };
        let r = match this.ctx() {
            Some(ctx) => ctx.bus_store(N, input),
            None => Err(ENODEV),
        };
        show_result(r, count)
    }

    /// # Safety
    ///
    /// `dev` must be a device of a [`DeviceRegistration<T>`] and `attr` one
    /// of `DEV_ATTR_TABLE`'s entries.
    unsafe fn dev_parts<'a>(
        dev: *mut bindings::device,
        attr: *mut bindings::device_attribute,
    ) -> (&'a Self, &'a T::DeviceData, usize) {
        // SAFETY: by the safety requirements `dev` is the first field of a
        // live `DeviceInner<T>`.
        let inner = unsafe { &*dev.cast::<DeviceInner<T>>() };
        // The attribute's position, by name (the constant tables may exist
        // in several copies, so pointers are not compared).
        // SAFETY: `attr` is a valid attribute with a NUL-terminated name.
        let name = unsafe { CStr::from_char_ptr((*attr).attr.name.cast()) };
        let index = T::DEVICE_ATTRS
            .iter()
            .position(|a| a.name == name)
            .unwrap_or(MAX_ATTRS);
        (inner.bus, &inner.data, index)
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn dev_show(
        dev: *mut bindings::device,
        attr: *mut bindings::device_attribute,
        buf: *mut u8,
    ) -> isize {
        // SAFETY: sysfs calls this for our devices' attributes only.
        let (this, data, index) = unsafe { Self::dev_parts(dev, attr) };
        // SAFETY: sysfs passes a page-sized buffer.
        let buf = unsafe { core::slice::from_raw_parts_mut(buf, kernel::page::PAGE_SIZE) };
        let mut w = SysfsWriter { buf, len: 0 };
        let r = match this.ctx() {
            Some(ctx) => ctx.device_show(data, index, &mut w),
            None => Err(ENODEV),
        };
        show_result(r, w.len)
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn dev_store(
        dev: *mut bindings::device,
        attr: *mut bindings::device_attribute,
        buf: *const u8,
        count: usize,
    ) -> isize {
        // SAFETY: sysfs calls this for our devices' attributes only.
        let (this, data, index) = unsafe { Self::dev_parts(dev, attr) };
        // SAFETY: sysfs passes `count` readable bytes.
        let input = unsafe { core::slice::from_raw_parts(buf, count) };
        let r = match this.ctx() {
            Some(ctx) => ctx.device_store(data, index, input),
            None => Err(ENODEV),
        };
        show_result(r, count)
    }
}

impl<T: Bus> Default for BusType<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A registered bus with its context; unregistered on drop.
///
/// Devices on the bus must be unregistered before the registration is
/// dropped.
///
/// # Invariants
///
/// `bus` is registered and its `ctx` points to `ctx`'s contents.
pub struct BusRegistration<T: Bus> {
    bus: &'static BusType<T>,
    ctx: Pin<KBox<T>>,
}

impl<T: Bus> BusRegistration<T> {
    /// Registers `bus` with the context `ctx`, which its attribute methods
    /// get.
    pub fn register(bus: &'static BusType<T>, ctx: impl PinInit<T, Error>) -> Result<Self> {
        let ctx = KBox::pin_init(ctx, GFP_KERNEL)?;
        if bus
            .ctx
            .compare_exchange(
                ptr::null_mut(),
                ptr::from_ref(&*ctx).cast_mut(),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err(EBUSY);
        }
        // SAFETY: the bus type is `'static` and not registered (`ctx` was
        // null); its attribute tables are `'static`.
        if let Err(e) = to_result(unsafe { bindings::bus_register(bus.bus.get()) }) {
            bus.ctx.store(ptr::null_mut(), Ordering::Release);
            return Err(e);
        }
        // INVARIANT: registered with `ctx` published.
        Ok(Self { bus, ctx })
    }

    /// The context.
    pub fn ctx(&self) -> &T {
        &self.ctx
    }

    /// The bus type.
    pub fn bus(&self) -> &'static BusType<T> {
        self.bus
    }
}

impl<T: Bus> Drop for BusRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: registered by the type invariant.  Removes the bus
        // attribute files, waiting for running callbacks.
        unsafe { bindings::bus_unregister(self.bus.bus.get()) };
        self.bus.ctx.store(ptr::null_mut(), Ordering::Release);
    }
}

#[repr(C)]
struct DeviceInner<T: Bus> {
    dev: Opaque<bindings::device>,
    bus: &'static BusType<T>,
    data: T::DeviceData,
}

/// A device on a bus, with data; unregistered on drop.
///
/// # Invariants
///
/// `inner` points to a `DeviceInner<T>` whose `device` is registered and
/// holds the reference we own; it is freed by the device's release
/// callback once the last reference goes.
pub struct DeviceRegistration<T: Bus> {
    inner: NonNull<DeviceInner<T>>,
    _p: PhantomData<T::DeviceData>,
}

// SAFETY: the registration may be dropped on any thread; the data is
// `Send + Sync`.
unsafe impl<T: Bus> Send for DeviceRegistration<T> {}
// SAFETY: `&DeviceRegistration` only gives `&T::DeviceData`, which is `Sync`.
unsafe impl<T: Bus> Sync for DeviceRegistration<T> {}

impl<T: Bus> DeviceRegistration<T> {
    /// Registers a device named `name` on `bus` with `data`.
    pub fn new(bus: &'static BusType<T>, name: &CStr, data: T::DeviceData) -> Result<Self> {
        let inner = KBox::new(
            DeviceInner {
                dev: Opaque::zeroed(),
                bus,
                data,
            },
            GFP_KERNEL,
        )?;
        let inner = KBox::into_raw(inner);
        // SAFETY: `inner` is a valid allocation; its device is zeroed.
        let dev = unsafe { (*inner).dev.get() };
        // SAFETY: `dev` is zeroed memory; after `device_initialize` the
        // device is refcounted and `release` frees `inner`.
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
        // INVARIANT: registered, with our reference.
        Ok(Self {
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
        // SAFETY: registered by the type invariant; removes the device and
        // its attribute files (waiting for running callbacks) and drops our
        // reference.
        unsafe { bindings::device_unregister(self.as_raw()) };
    }
}
