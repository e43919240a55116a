// SPDX-License-Identifier: GPL-2.0

//! Sysfs directories of attribute files (`struct kobject`,
//! `struct kobj_attribute`).
//!
//! C headers: [`include/linux/kobject.h`](srctree/include/linux/kobject.h),
//! [`include/linux/sysfs.h`](srctree/include/linux/sysfs.h)
//!
//! A [`Directory`] is a kobject under `/sys/kernel/` with one file per
//! [`File`]: read-only counters ([`File::counter`]) and validated integers
//! that root may write ([`File::int`], the same [`IntValue`] the sysctl
//! tables use; a write that is not a number in range fails with `-EINVAL`
//! and keeps the old value).  Dropping the directory removes it; the
//! kernel waits for running reads and writes first.
//!
//! # Examples
//!
//! ```ignore
//! static PACKETS: AtomicU64 = AtomicU64::new(0);
//!
//! let dir = Directory::create(c"example", &[File::counter(c"packets", &PACKETS)])?;
//! // /sys/kernel/example/packets reads "0".
//! ```

use crate::rnm::{bindings, sysctl::IntValue};
use core::{
    fmt::Write,
    ptr::{self, NonNull},
    sync::atomic::{AtomicU64, Ordering},
};
use kernel::{error::to_result, ffi::c_char, prelude::*};

/// What a file shows.
#[derive(Clone, Copy)]
enum Source {
    Counter(&'static AtomicU64),
    Int(&'static IntValue),
}

/// One file of a [`Directory`].
#[derive(Clone, Copy)]
pub struct File {
    name: &'static CStr,
    source: Source,
}

impl File {
    /// A read-only file (mode 0444) showing `counter` in decimal.
    pub const fn counter(name: &'static CStr, counter: &'static AtomicU64) -> Self {
        Self {
            name,
            source: Source::Counter(counter),
        }
    }

    /// A file showing `value` that root may write (mode 0644); writes out
    /// of the value's range fail with `EINVAL`.
    pub const fn int(name: &'static CStr, value: &'static IntValue) -> Self {
        Self {
            name,
            source: Source::Int(value),
        }
    }
}

/// A `kobj_attribute` with what it shows; `show`/`store` find `source`
/// from the attribute pointer (the attribute is the first field).
#[repr(C)]
struct Attr {
    kattr: bindings::kobj_attribute,
    source: Source,
}

/// Writes formatted text into the sysfs page buffer.
struct PageWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Write for PageWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Size of the buffer sysfs hands to `show` (`PAGE_SIZE`).
const SHOW_BUF_SIZE: usize = kernel::page::PAGE_SIZE;

/// # Safety
///
/// Called by sysfs with an attribute created by [`Directory::create`] and a
/// buffer of `PAGE_SIZE` bytes.
unsafe extern "C" fn show_callback(
    _kobj: *mut bindings::kobject,
    attr: *mut bindings::kobj_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: `attr` is the first field of an `Attr` that lives as long as
    // the directory, which outlives every callback.
    let attr = unsafe { &*attr.cast::<Attr>() };
    // SAFETY: sysfs passes a writable page.
    let buf = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), SHOW_BUF_SIZE) };
    let mut w = PageWriter { buf, len: 0 };
    let res = match attr.source {
        Source::Counter(c) => writeln!(w, "{}", c.load(Ordering::Relaxed)),
        Source::Int(v) => writeln!(w, "{}", v.get()),
    };
    match res {
        Ok(()) => w.len as isize,
        Err(_) => EINVAL.to_errno() as isize,
    }
}

/// # Safety
///
/// Called by sysfs with an attribute created by [`Directory::create`] and
/// `count` readable bytes at `buf`.
unsafe extern "C" fn store_callback(
    _kobj: *mut bindings::kobject,
    attr: *mut bindings::kobj_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: as in `show_callback`.
    let attr = unsafe { &*attr.cast::<Attr>() };
    // SAFETY: sysfs passes `count` readable bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    let Source::Int(value) = attr.source else {
        return EPERM.to_errno() as isize;
    };
    let parsed = core::str::from_utf8(input)
        .ok()
        .map(|s| s.strip_suffix('\n').unwrap_or(s))
        .and_then(|s| s.parse::<i32>().ok());
    match parsed.map(|v| value.set(v)) {
        Some(Ok(())) => count as isize,
        _ => EINVAL.to_errno() as isize,
    }
}

/// A directory `/sys/kernel/<name>/` of attribute files; removed on drop.
///
/// # Invariants
///
/// `kobj` is a kobject created by `kobject_create_and_add` that we hold
/// the only reference on, with the files of `attrs` created in it; `attrs`
/// and `ptrs` do not move (boxed) until the kobject is released in `drop`.
pub struct Directory {
    kobj: NonNull<bindings::kobject>,
    attrs: KVec<Attr>,
    _ptrs: KVec<*const bindings::attribute>,
}

impl Directory {
    /// Creates `/sys/kernel/<name>/` with `files`.
    ///
    /// Fails with `EEXIST` if the directory exists already.
    pub fn create(name: &'static CStr, files: &[File]) -> Result<Self> {
        let mut attrs = KVec::with_capacity(files.len(), GFP_KERNEL)?;
        for f in files {
            // SAFETY: all-zero is a valid `kobj_attribute` (null name and
            // callbacks), completed below.
            let mut kattr: bindings::kobj_attribute = unsafe { core::mem::zeroed() };
            kattr.attr.name = f.name.as_char_ptr().cast();
            match f.source {
                Source::Counter(_) => kattr.attr.mode = 0o444,
                Source::Int(_) => {
                    kattr.attr.mode = 0o644;
                    kattr.__bindgen_anon_2.store = Some(store_callback);
                }
            }
            kattr.__bindgen_anon_1.show = Some(show_callback);
            attrs.push(
                Attr {
                    kattr,
                    source: f.source,
                },
                GFP_KERNEL,
            )?;
        }
        let mut ptrs = KVec::with_capacity(files.len() + 1, GFP_KERNEL)?;
        for a in attrs.iter() {
            ptrs.push(ptr::from_ref(&a.kattr.attr), GFP_KERNEL)?;
        }
        ptrs.push(ptr::null(), GFP_KERNEL)?;

        // SAFETY: `name` is a valid C string (copied); `kernel_kobj` is the
        // kernel's `/sys/kernel` kobject, set up at boot.
        let kobj = unsafe {
            bindings::kobject_create_and_add(name.as_char_ptr().cast(), bindings::kernel_kobj)
        };
        let kobj = NonNull::new(kobj).ok_or(EEXIST)?;
        // SAFETY: `kobj` is valid; `ptrs` is a null-terminated array of
        // attributes that stay in place (their vectors are not touched
        // again) until `drop` removes the kobject.
        let ret = unsafe { bindings::sysfs_create_files(kobj.as_ptr(), ptrs.as_ptr()) };
        if let Err(e) = to_result(ret) {
            // SAFETY: our reference from `kobject_create_and_add`.
            unsafe { bindings::kobject_put(kobj.as_ptr()) };
            return Err(e);
        }
        // INVARIANT: created above with the files of `attrs`.
        Ok(Self {
            kobj,
            attrs,
            _ptrs: ptrs,
        })
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.attrs.len()
    }

    /// Whether the directory has no files.
    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }
}

impl Drop for Directory {
    fn drop(&mut self) {
        // SAFETY: our only reference (type invariant): this removes the
        // directory and its files, waiting for running `show`/`store`
        // callbacks, before `attrs` is freed.
        unsafe { bindings::kobject_put(self.kobj.as_ptr()) };
    }
}

// SAFETY: a handle used from `drop` only; the attributes point at atomics
// and `IntValue`s, which are `Sync`.
unsafe impl Send for Directory {}
// SAFETY: `&Directory` gives access to the file count only.
unsafe impl Sync for Directory {}
