// SPDX-License-Identifier: GPL-2.0
//! Probe: `EthtoolOps` cannot be implemented without `#[vtable]`, which
//! sets the `HAS_*` constants: without them every operation the driver
//! wrote would be left out of `ethtool_ops`.
// probe-expect: E0046|missing: `USE_VTABLE_ATTR`
#![forbid(unsafe_code)]

use crate::rnm::net::ethtool::EthtoolOps;
use kernel::prelude::*;

pub struct Dev;

impl EthtoolOps for Dev { const DRIVER_NAME: &'static CStr = c"dev"; } // probe-misuse
