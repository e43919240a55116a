// SPDX-License-Identifier: GPL-2.0

//! Sample: integer limits published through a sysctl table.
//!
//! Loading the module creates `/proc/sys/dev/rust_sysctl_sample/` with two
//! files.  Writes that are not numbers or are out of range fail with
//! `-EINVAL` and keep the old value.
//!
//! - `limit` (1..=1000, default 64)
//! - `burst` (0..=16, default 4)
//!
//! On unload the module logs the values it last saw.

use kernel::prelude::*;

#[allow(dead_code)]
#[path = "../../rust/rnm/lib.rs"]
mod rnm;

module! {
    type: sample::SysctlSample,
    name: "rust_sysctl_sample",
    authors: ["rust-netmods developers"],
    description: "Sample: validated integer sysctls",
    license: "GPL",
}

mod sample {
    #![forbid(unsafe_code)]

    use crate::rnm::sysctl::{Entry, IntValue, Registration};
    use kernel::prelude::*;

    static LIMIT: IntValue = IntValue::new(64, 1, 1000);
    static BURST: IntValue = IntValue::new(4, 0, 16);

    /// The module's state: the registered table.
    pub(crate) struct SysctlSample {
        _table: Registration,
    }

    impl kernel::Module for SysctlSample {
        fn init(_module: &'static ThisModule) -> Result<Self> {
            let table = Registration::register(
                c"dev/rust_sysctl_sample",
                &[
                    Entry::new(c"limit", &LIMIT, 0o644),
                    Entry::new(c"burst", &BURST, 0o644),
                ],
            )?;
            pr_info!(
                "registered {} sysctls: limit={} ({}..={}), burst={} ({}..={})\n",
                table.len(),
                LIMIT.get(),
                LIMIT.min(),
                LIMIT.max(),
                BURST.get(),
                BURST.min(),
                BURST.max()
            );
            Ok(Self { _table: table })
        }
    }

    impl Drop for SysctlSample {
        fn drop(&mut self) {
            pr_info!("unloading: limit={} burst={}\n", LIMIT.get(), BURST.get());
        }
    }
}
