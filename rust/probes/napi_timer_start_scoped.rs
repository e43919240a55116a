// SPDX-License-Identifier: GPL-2.0
//! Probe: the interrupt line's timer of a NAPI context is started only by
//! `Napi::arm_irq` and cancelled only by its teardown.  The kernel crate
//! gives the owner of a timer a safe `start_scoped`, which would cancel
//! an armed delayed interrupt behind the context's back (none would be
//! armed again), or wait for itself from the timer's own callback; the
//! owner is a private view, so a `Pin<&Napi>` has no such method.
// probe-expect: E0599.*start_scoped
#![forbid(unsafe_code)]

use crate::rnm::net::napi::{Napi, Poller};
use core::pin::Pin;
use kernel::time::{hrtimer::ScopedHrTimerPointer, Delta};

pub fn probe<P: Poller>(napi: Pin<&Napi<P>>) {
    let _ = napi;
    let _ = napi.start_scoped(Delta::from_micros(1), || ()); // probe-misuse
    let _ = Delta::from_micros(1);
}
