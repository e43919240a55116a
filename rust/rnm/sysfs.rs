// SPDX-License-Identifier: GPL-2.0

//! Sysfs attribute output, and directories of read-only counters
//! (`struct kobject`, `struct kobj_attribute`).
//!
//! C headers: [`include/linux/kobject.h`](srctree/include/linux/kobject.h),
//! [`include/linux/sysfs.h`](srctree/include/linux/sysfs.h)
//!
//! A [`SysfsWriter`] is the page a `show` callback fills; every `write!`
//! into it is all or nothing, so that output that does not fit can end
//! cleanly at a line boundary.
//!
//! A [`Directory`] is a kobject under `/sys/kernel/` with one read-only
//! file (mode 0444) per [`File`], each showing a counter in decimal.
//! Dropping the directory removes it; the kernel waits for running reads
//! first.
//!
//! # Examples
//!
//! ```
//! # use kernel::prelude::*;
//! use crate::rnm::sysfs::{Directory, File};
//! use kernel::sync::atomic::Atomic;
//!
//! static PACKETS: Atomic<u64> = Atomic::new(0);
//!
//! let dir = Directory::create(c"rnm_example", &[File::counter(c"packets", &PACKETS)])?;
//! // /sys/kernel/rnm_example/packets reads "0".
//! assert_eq!(dir.len(), 1);
//! ```

use crate::rnm::bindings;
use core::{
    fmt,
    ptr::{self, NonNull},
};
use kernel::{
    error::from_result,
    ffi::c_char,
    prelude::*,
    str::Formatter,
    sync::atomic::{Atomic, Relaxed},
};

/// The output of a sysfs `show` callback: a page, of which it fills at most
/// `PAGE_SIZE - 1` bytes.
///
/// Each `write!`/`writeln!` into it (an inherent `write_fmt`) appends the
/// whole formatted text, or nothing and fails with `EFBIG` if the page has
/// no room left for it.  So a caller that writes one line per `writeln!`
/// can stop at the first failure and show every line that fitted.
///
/// # Invariants
///
/// `len <= buf.len()`; `buf[..len]` is the output.
pub struct SysfsWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SysfsWriter<'a> {
    /// An empty output in `buf`.
    pub(in crate::rnm) fn new(buf: &'a mut [u8]) -> Self {
        // INVARIANT: nothing written.
        Self { buf, len: 0 }
    }

    /// An empty output in the page sysfs hands to a `show` callback, of
    /// which it uses `PAGE_SIZE - 1` bytes: sysfs warns about a `show`
    /// that returns `PAGE_SIZE` or more (`sysfs_kf_seq_show()`).
    ///
    /// # Safety
    ///
    /// `page` must be valid for writes of `PAGE_SIZE` bytes for `'a`, and
    /// not be accessed otherwise during `'a`.
    pub(in crate::rnm) unsafe fn from_page(page: *mut c_char) -> Self {
        // SAFETY: as required by the caller; a prefix of it.
        Self::new(unsafe {
            core::slice::from_raw_parts_mut(page.cast::<u8>(), kernel::page::PAGE_SIZE - 1)
        })
    }

    /// Bytes written so far (at most `PAGE_SIZE - 1` in a `show` page).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `args` whole, or nothing: fails with `EFBIG` (and leaves
    /// the output as it was) if it does not fit in the rest of the page.
    /// This is what `write!` and `writeln!` call.
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> Result {
        let rest = self.buf.get_mut(self.len..).ok_or(EFBIG)?;
        let room = rest.len();
        let mut f = Formatter::new(rest);
        fmt::Write::write_fmt(&mut f, args).map_err(|_| EFBIG)?;
        // `Formatter` writes nothing past `rest`, but it counts what did not
        // fit, and a `Display` that ignores the error it got makes the
        // whole call succeed all the same.
        let n = f.bytes_written();
        if n > room {
            return Err(EFBIG);
        }
        // INVARIANT: at most `buf.len()`.
        self.len += n;
        Ok(())
    }
}

/// One file of a [`Directory`]: a name and the counter it shows.
#[derive(Clone, Copy)]
pub struct File {
    name: &'static CStr,
    counter: &'static Atomic<u64>,
}

impl File {
    /// A read-only file (mode 0444) showing `counter` in decimal.
    pub const fn counter(name: &'static CStr, counter: &'static Atomic<u64>) -> Self {
        Self { name, counter }
    }
}

/// A `kobj_attribute` with the counter it shows; `show_callback` finds
/// `counter` from the attribute pointer (the attribute is the first field).
#[repr(C)]
struct Attr {
    kattr: bindings::kobj_attribute,
    counter: &'static Atomic<u64>,
}

/// # Safety
///
/// Called by sysfs with an attribute created by [`Directory::create`] and a
/// buffer of `PAGE_SIZE` bytes.
unsafe extern "C" fn show_callback(
    _kobj: *mut bindings::kobject,
    attr: *mut bindings::kobj_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: `attr` is the first field of an `Attr` of a `Directory`,
    // which removes its files (waiting for running callbacks) before the
    // `Attr`s are freed.
    let attr = unsafe { &*attr.cast::<Attr>() };
    // SAFETY: sysfs passes a page it gives us alone for this call.
    let mut out = unsafe { SysfsWriter::from_page(buf) };
    from_result(|| {
        writeln!(out, "{}", attr.counter.load(Relaxed))?;
        Ok(out.len() as isize)
    })
}

/// A directory `/sys/kernel/<name>/` of read-only counter files; removed
/// on drop.
///
/// # Invariants
///
/// `kobj` is a kobject created by `kobject_create_and_add`, added to sysfs
/// and not deleted, that we hold the only reference on, with the files of
/// `attrs` created in it; the heap buffers of `attrs` and `_ptrs` are not
/// touched (so they neither move nor are freed) until `drop` has deleted
/// the kobject.
pub struct Directory {
    kobj: NonNull<bindings::kobject>,
    attrs: KVec<Attr>,
    _ptrs: KVec<*const bindings::attribute>,
}

/// Whether `name` can be a file or directory name: not empty, `.` or
/// `..`, no `/`, at most 255 bytes (`NAME_MAX`).  sysfs (and `/proc/sys`)
/// creates an entry of any name, and then fails to list its directory if
/// its name is empty or has a `/` (`EIO` from `readdir`, for every entry
/// of the directory, which may be a shared one such as `/sys/kernel` or
/// `net/netfilter`); `.`, `..` and longer names have no path to them.
pub(in crate::rnm) fn valid_name(name: &[u8]) -> bool {
    !matches!(name, b"" | b"." | b"..") && !name.contains(&b'/') && name.len() <= 255
}

impl Directory {
    /// Creates `/sys/kernel/<name>/` with `files`.  Process context.
    ///
    /// Fails with `EINVAL` if a name (of the directory or of a file) is
    /// empty, `.` or `..`, longer than 255 bytes or has a `/`, or two files
    /// have the same name; with `EEXIST` if the directory exists already
    /// (or `ENOMEM`, which the kernel does not tell apart); or with the
    /// error of creating the files.
    pub fn create(name: &'static CStr, files: &[File]) -> Result<Self> {
        if !valid_name(name.to_bytes()) {
            return Err(EINVAL);
        }
        for (i, f) in files.iter().enumerate() {
            if !valid_name(f.name.to_bytes()) || files[..i].iter().any(|g| g.name == f.name) {
                return Err(EINVAL);
            }
        }
        let mut attrs = KVec::with_capacity(files.len(), GFP_KERNEL)?;
        for f in files {
            let mut kattr: bindings::kobj_attribute = pin_init::zeroed();
            kattr.attr.name = f.name.as_char_ptr().cast();
            kattr.attr.mode = 0o444;
            kattr.__bindgen_anon_1.show = Some(show_callback);
            // SAFETY: `kattr.attr` is a valid attribute, not yet in sysfs.
            // With lockdep, it gets a lock class key in static memory: its
            // own `skey` (the default) is on the heap, which lockdep refuses
            // (and turns itself off).
            unsafe { bindings::rnm_sysfs_attr_init(&mut kattr.attr) };
            attrs.push(
                Attr {
                    kattr,
                    counter: f.counter,
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
        // attributes whose buffers stay in place until the kobject is
        // deleted (on the error path below, or in `drop`).
        let ret = unsafe { bindings::sysfs_create_files(kobj.as_ptr(), ptrs.as_ptr()) };
        if let Err(e) = kernel::error::to_result(ret) {
            // SAFETY: added above and not deleted; our only reference.
            unsafe { Self::delete(kobj) };
            return Err(e);
        }
        // INVARIANT: created and added above, with the files of `attrs`.
        Ok(Self {
            kobj,
            attrs,
            _ptrs: ptrs,
        })
    }

    /// Removes `kobj` from sysfs (`kobject_del`, which waits for running
    /// callbacks of its files) and drops our reference (`kobject_put`), as
    /// `include/linux/kobject.h` asks of the creator.
    ///
    /// # Safety
    ///
    /// `kobj` must be added to sysfs and not deleted yet, and the caller
    /// must own a reference, which this consumes.
    unsafe fn delete(kobj: NonNull<bindings::kobject>) {
        // SAFETY: as required by the caller.
        unsafe {
            bindings::kobject_del(kobj.as_ptr());
            bindings::kobject_put(kobj.as_ptr());
        }
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
        // SAFETY: added and not deleted, our only reference (type
        // invariant).  Once `kobject_del` returns no `show` callback runs
        // any more, so `attrs` may be freed after this.
        unsafe { Self::delete(self.kobj) };
    }
}

// SAFETY: `Directory` owns a kobject reference, dropped with
// `kobject_del`/`kobject_put`, which any thread in process context may do,
// and attributes that point at `&'static Atomic<u64>`s, which are `Sync`.
unsafe impl Send for Directory {}
// SAFETY: `&Directory` gives the file count only (plain reads of data
// nothing writes after `create`).
unsafe impl Sync for Directory {}
