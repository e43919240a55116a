// SPDX-License-Identifier: GPL-2.0

//! Safe abstractions over kernel networking, netfilter, sysctl and sysfs
//! APIs that the `kernel` crate does not provide yet.
//!
//! Each module wraps one kernel subsystem and is shaped to go upstream into
//! `rust/kernel/`.  Every `unsafe` block of the project lives here, with its
//! `// SAFETY:` justification; the modules built on top are safe Rust.
//!
//! The crate is compiled into each module that uses it (an out-of-tree
//! build has one crate per module), so items a given module does not use
//! are not dead code, and its public items are public to the module only.

#![allow(unreachable_pub)]

/// Gives each type an empty `Drop` of this crate's own.
///
/// The crate is compiled into the crate of the module that uses it, where
/// the orphan rule does not keep the module from implementing `Drop` or
/// `Copy` for its types.  For a proof or a callback's context, either
/// would let it outlive what it proves (a `Copy`, or code of the module
/// run when the value is dropped after the proof no longer holds); this
/// implementation rules out both (E0119, E0184).
macro_rules! no_module_drop_or_copy {
    ($($t:ty),* $(,)?) => {
        $(
            impl Drop for $t {
                #[inline(always)]
                fn drop(&mut self) {}
            }
        )*
    };
}

mod bindings;
pub mod sysctl;

// The NAPI virtual NIC's abstractions: bus and sysfs, bottom halves,
// network devices, NAPI, socket buffers, ethtool.
pub mod bh;
pub mod bus;
pub mod net;
// netfilter: conntrack helpers and expectations.
pub mod netfilter;
// Network namespaces: per-namespace data.
pub mod net_namespace;
// Per-CPU counters.
pub mod percpu_counter;
// RCU: an optional Arc published to lock-free readers.
pub mod rcu;
// sysfs: directories of counters and validated values.
pub mod sysfs;
