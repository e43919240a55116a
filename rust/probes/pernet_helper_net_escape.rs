// SPDX-License-Identifier: GPL-2.0
//! Probe: the namespace state a helper's callback is given cannot be kept
//! past the callback (the namespace, or the helper's registration, may be
//! gone by then).
// probe-expect: lifetime may not live long enough
#![forbid(unsafe_code)]

use crate::rnm::net_namespace::PernetData;
use crate::rnm::netfilter::helper::HelperNet;

pub fn probe<T: PernetData>(net: HelperNet<'_, T>) -> Option<HelperNet<'static, T>> {
    let _ = net.get();
    let mut kept = None;
    kept = Some(net); // probe-misuse
    kept
}
