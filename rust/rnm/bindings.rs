// SPDX-License-Identifier: GPL-2.0

//! Generated bindings for the C APIs in `rust/bindings/rnm_bindings.h`.
//!
//! Generated at build time by bindgen with the kernel's own flags; only the
//! abstractions in this crate use them.  Where a type also exists in
//! `kernel::bindings`, the two are distinct Rust types and every crossing
//! between them is an explicit pointer cast in the abstraction.

#![allow(
    clippy::all,
    dead_code,
    missing_docs,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    improper_ctypes,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks,
    // Bitfield accessors that bindgen emits for `net_device`, `nf_conn`
    // and other types the allowlists reach.
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr
)]

use kernel::ffi;
use pin_init::MaybeZeroable;

// Manual definitions for the types the kernel's bindgen flags blocklist.
type __kernel_size_t = usize;
type __kernel_ssize_t = isize;
type __kernel_ptrdiff_t = isize;

include!("../bindings/bindings_generated.rs");

// SAFETY: `__BindgenBitfieldUnit<Storage>` is a newtype around `Storage`
// (as in the kernel's own bindings crate).
unsafe impl<Storage> pin_init::Zeroable for __BindgenBitfieldUnit<Storage> where
    Storage: pin_init::Zeroable
{
}
