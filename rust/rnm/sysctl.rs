// SPDX-License-Identifier: GPL-2.0

//! Sysctl tables with validated integer values.
//!
//! C header: [`include/linux/sysctl.h`](srctree/include/linux/sysctl.h)
//!
//! A [`Registration`] publishes a table of `'static` [`IntValue`]s under
//! `/proc/sys/<path>/`; the values live as long as the module, which must
//! drop the registration before it is unloaded: one leaked (with
//! [`core::mem::forget`], or kept in a `static`) outlives the module and
//! points at its freed memory (`Documentation/rnm/soundness.rst`, "Limits").
//! Per-namespace tables, whose values live in the namespace, are
//! registered by [`crate::rnm::net_namespace`] only.  Writes go through `proc_dointvec_minmax`: a value
//! that is not a number or lies outside the value's range fails with
//! `-EINVAL` and leaves the old value in place.  Readers on hot paths call
//! [`IntValue::get`], a single relaxed atomic load, without locks.
//!
//! # Examples
//!
//! ```
//! # use kernel::prelude::*;
//! use crate::rnm::sysctl::{Entry, IntValue, Registration};
//!
//! static LIMIT: IntValue = IntValue::new(64, 1, 1000);
//!
//! let reg = Registration::register(c"dev/rnm_example", &[Entry::new(c"limit", &LIMIT, 0o644)])?;
//! // /proc/sys/dev/rnm_example/limit now reads "64" and accepts 1..=1000.
//! assert_eq!(reg.len(), 1);
//! ```

use crate::rnm::{bindings, sysfs::valid_name};
use core::ptr::{self, NonNull};
use kernel::{
    prelude::*,
    str::CStrExt,
    sync::atomic::{Atomic, Relaxed},
};

/// An `int` value with an inclusive range, published as a sysctl.
///
/// # Invariants
///
/// `min <= value <= max` at all times: the only writers are [`IntValue::set`]
/// and `proc_dointvec_minmax`, which both check the range.
#[repr(C)]
pub struct IntValue {
    value: Atomic<i32>,
    min: c_int,
    max: c_int,
}

impl IntValue {
    /// Creates a value `default` that may range over `min..=max`.
    ///
    /// Fails to compile (in const context) or panics if `default` is not in
    /// range.
    pub const fn new(default: i32, min: i32, max: i32) -> Self {
        assert!(min <= default && default <= max);
        Self {
            value: Atomic::new(default),
            min,
            max,
        }
    }

    /// Returns the current value.
    #[inline]
    pub fn get(&self) -> i32 {
        self.value.load(Relaxed)
    }

    /// Sets the value, or returns `EINVAL` and keeps the old one if `v` is
    /// out of range.
    pub fn set(&self, v: i32) -> Result {
        if v < self.min || v > self.max {
            return Err(EINVAL);
        }
        self.value.store(v, Relaxed);
        Ok(())
    }

    /// The smallest accepted value.
    pub fn min(&self) -> i32 {
        self.min
    }

    /// The largest accepted value.
    pub fn max(&self) -> i32 {
        self.max
    }
}

/// One file of a sysctl table.
pub struct Entry<'a> {
    name: &'static CStr,
    value: &'a IntValue,
    mode: u16,
}

impl<'a> Entry<'a> {
    /// Describes the file `name` showing `value`, with permissions `mode`
    /// (for example `0o644`).
    pub const fn new(name: &'static CStr, value: &'a IntValue, mode: u16) -> Self {
        Self { name, value, mode }
    }

    /// Whether the value lies within `owner` (is one of its fields, or of
    /// theirs).
    pub(in crate::rnm) fn is_within<T>(&self, owner: &T) -> bool {
        let start = core::ptr::from_ref(owner).addr();
        let at = core::ptr::from_ref(self.value).addr();
        at >= start
            && at
                .checked_add(core::mem::size_of::<IntValue>())
                .is_some_and(|end| end <= start + core::mem::size_of::<T>())
    }
}

/// A registered sysctl table of `'static` values; unregistered on drop.
///
/// # Invariants
///
/// `header` was returned by a successful `register_sysctl_sz` for `table`,
/// whose entries point at `'static` values; it has not been unregistered.
pub struct Registration {
    header: NonNull<bindings::ctl_table_header>,
    table: KVec<bindings::ctl_table>,
}

impl Registration {
    /// Registers `entries` under `/proc/sys/<path>/` (`path` uses `/` as
    /// separator, for example `c"net/example"`).  Process context.
    ///
    /// Fails with `EINVAL` if a file's name, or a component of `path`, is
    /// empty, `.` or `..`, or a name has a `/`, and with `ENOMEM` if the
    /// allocation or the registration fails
    /// (the kernel also refuses a file that exists already this way, and
    /// logs it).
    pub fn register(path: &'static CStr, entries: &[Entry<'static>]) -> Result<Self> {
        let table = ctl_table_of(path, entries)?;
        // SAFETY: `path` is a valid C string; `table`'s names and values
        // live as long as the module, which drops `self` before unload
        // (unless it leaks it: a documented limit); its buffer stays in
        // place until `drop` unregisters.
        let header = unsafe {
            bindings::register_sysctl_sz(path.as_char_ptr(), table.as_ptr(), table.len())
        };
        let header = NonNull::new(header).ok_or(ENOMEM)?;
        // INVARIANT: registration succeeded for `table`.
        Ok(Self { header, table })
    }

    /// Number of files in the table.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the table has no files.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `header` is registered; after this
        // call no handler can run on `table` any more, so it may be freed.
        unsafe { bindings::unregister_sysctl_table(self.header.as_ptr()) };
    }
}

// SAFETY: the registration holds the header, used once from `drop`
// (`unregister_sysctl_table` may run on any thread in process context),
// and the table, which the kernel only reads; the values it points at are
// atomics, shared with every thread anyway.
unsafe impl Send for Registration {}
// SAFETY: `&Registration` gives the table's length only.
unsafe impl Sync for Registration {}

/// The `ctl_table` entries of `entries` under `path`, handled by
/// `proc_dointvec_minmax`.
///
/// Fails with `EINVAL` if a component of `path` (separated by `/`) or a
/// name of `entries` is not a [`valid_name`]: the kernel registers any
/// name in `/proc/sys` too.
fn ctl_table_of(path: &CStr, entries: &[Entry<'_>]) -> Result<KVec<bindings::ctl_table>> {
    if !path.to_bytes().split(|&b| b == b'/').all(valid_name)
        || !entries.iter().all(|e| valid_name(e.name.to_bytes()))
    {
        return Err(EINVAL);
    }
    let mut table = KVec::with_capacity(entries.len(), GFP_KERNEL)?;
    for e in entries {
        table.push(
            bindings::ctl_table {
                procname: e.name.as_char_ptr(),
                data: e.value.value.as_ptr().cast(),
                maxlen: size_of::<c_int>() as c_int,
                mode: e.mode,
                proc_handler: Some(bindings::proc_dointvec_minmax),
                poll: ptr::null_mut(),
                // `proc_dointvec_minmax` only reads through these.
                extra1: ptr::from_ref(&e.value.min).cast_mut().cast(),
                extra2: ptr::from_ref(&e.value.max).cast_mut().cast(),
            },
            GFP_KERNEL,
        )?;
    }
    Ok(table)
}

/// A sysctl table registered in one network namespace
/// (`register_net_sysctl_sz()`); unregistered on drop.
///
/// Unlike [`Registration`], whose files show the same values in every
/// namespace, each namespace registers its own table, pointing at its own
/// values (typically in its [`PernetData`](crate::rnm::net_namespace::PernetData)).
/// Only the per-namespace abstraction registers them, tying each to the
/// life of its namespace's data.
///
/// # Invariants
///
/// `header` was returned by a successful `register_net_sysctl_sz` for
/// `table`, whose entries point at values that outlive the registration;
/// it has not been unregistered.
pub struct NetRegistration {
    header: NonNull<bindings::ctl_table_header>,
    /// Kept in place until `drop` unregisters it.
    _table: KVec<bindings::ctl_table>,
}

impl NetRegistration {
    /// Registers `entries` under `/proc/sys/<path>/` of the namespace `net`
    /// (`path` starts with `net/`, for example `c"net/netfilter/example"`).
    ///
    /// Fails as [`Registration::register`] does.
    ///
    /// # Safety
    ///
    /// The returned registration must be dropped before `net` is freed
    /// (typically from the namespace's exit callback) and before the values
    /// of `entries` are.
    pub(in crate::rnm) unsafe fn register(
        net: &crate::rnm::net_namespace::NetRef<'_>,
        path: &'static CStr,
        entries: &[Entry<'_>],
    ) -> Result<Self> {
        let mut table = ctl_table_of(path, entries)?;
        // SAFETY: `net`, and the data `table` points at, outlive the
        // registration (caller); `path` is a valid C string; the names are
        // `'static`; the buffer stays in place until `drop` unregisters it.
        let header = unsafe {
            bindings::register_net_sysctl_sz(
                net.as_ptr(),
                path.as_char_ptr(),
                table.as_mut_ptr(),
                table.len(),
            )
        };
        let header = NonNull::new(header).ok_or(ENOMEM)?;
        // INVARIANT: registration succeeded for `table`.
        Ok(Self {
            header,
            _table: table,
        })
    }
}

impl Drop for NetRegistration {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `header` is registered; afterwards no
        // handler runs on `table` any more.
        unsafe { bindings::unregister_net_sysctl_table(self.header.as_ptr()) };
    }
}

// SAFETY: as for `Registration`: the header is used once, from `drop`,
// on any thread; the table is only read by the kernel; the values are
// atomics.
unsafe impl Send for NetRegistration {}
// SAFETY: `&NetRegistration` gives no access to the header or the table.
unsafe impl Sync for NetRegistration {}
