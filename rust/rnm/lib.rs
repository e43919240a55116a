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
