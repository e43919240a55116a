// SPDX-License-Identifier: GPL-2.0

//! Limits and defaults: the global sysctls (`/proc/sys/net/vnapi/`), the
//! per-device settings, and the live-object counters.

#![forbid(unsafe_code)]

use crate::rnm::{net::napi, percpu_counter::PerCpuCounter, sysctl::IntValue};
// Read and updated for every frame: `core`'s atomics, as for the counters
// (see `queue.rs`).
use core::sync::atomic::{AtomicI64, AtomicU32, Ordering::Relaxed};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{Mutex, MutexGuard},
};

/// Largest device id: the net device is `vnapi<id>`, whose name must be
/// shorter than `IFNAMSIZ` (16 bytes with its NUL).
pub(crate) const ID_MAX: u32 = 65535;
const _: () = assert!("vnapi65535".len() < 16);

/// Smallest rx ring.
pub(crate) const RING_MIN: u32 = 16;
/// Largest rx ring.
pub(crate) const RING_MAX: u32 = 4096;
/// Largest `rx-frames`.
pub(crate) const RX_FRAMES_MAX: u32 = 4096;
/// Largest `rx-usecs`.
pub(crate) const RX_USECS_MAX: u32 = 1_000_000;
/// Largest number of queues of a device.
pub(crate) const QUEUES_MAX: u32 = 16;

/// `max_devices`: how many devices may exist at once.
pub(crate) static MAX_DEVICES: IntValue = IntValue::new(64, 1, 1024);
/// `default_queues`: queues of a device created without a queue count.
pub(crate) static DEFAULT_QUEUES: IntValue = IntValue::new(1, 1, QUEUES_MAX as i32);
/// `default_ring_size`: rx ring size of new devices.
pub(crate) static DEFAULT_RING_SIZE: IntValue =
    IntValue::new(256, RING_MIN as i32, RING_MAX as i32);
/// `default_napi_weight`: NAPI weight of new devices.
pub(crate) static DEFAULT_NAPI_WEIGHT: IntValue = IntValue::new(64, 1, napi::MAX_WEIGHT as i32);
/// `default_rx_frames`: `rx-frames` of new devices.
pub(crate) static DEFAULT_RX_FRAMES: IntValue = IntValue::new(32, 1, RX_FRAMES_MAX as i32);
/// `default_rx_usecs`: `rx-usecs` of new devices.  0: the interrupt fires
/// with the first frame and NAPI does the batching under load; a delay
/// costs a timer per batch, which a simulated NIC pays for in CPU time.
pub(crate) static DEFAULT_RX_USECS: IntValue = IntValue::new(0, 0, RX_USECS_MAX as i32);

/// Devices allocated and not yet freed.
pub(crate) static LIVE_DEVICES: AtomicI64 = AtomicI64::new(0);
/// The count of the frames held in the rx rings of all devices (the bus's
/// `live_frames`), one for the module.  Every frame received and every
/// frame polled changes it, on the CPU that does so: a per-CPU counter,
/// not one atomic that the CPUs of the two directions of a link would
/// take turns to own.
pub(crate) type LiveFrames = PerCpuCounter;

fn positive(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn in_range(v: u32, min: u32, max: u32) -> Result<u32> {
    if v < min || v > max {
        Err(EINVAL)
    } else {
        Ok(v)
    }
}

/// The settings of one device, read by the data path without locks.
#[pin_data]
pub(crate) struct Config {
    ring_size: AtomicU32,
    rx_frames: AtomicU32,
    rx_usecs: AtomicU32,
    /// Serialises ring resizes (sysfs and ethtool), so that one resize
    /// sees the rings as it measured them.
    #[pin]
    resizing: Mutex<()>,
}

impl Config {
    /// The current global defaults.
    pub(crate) fn from_defaults() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            ring_size: AtomicU32::new(positive(DEFAULT_RING_SIZE.get())),
            rx_frames: AtomicU32::new(positive(DEFAULT_RX_FRAMES.get())),
            rx_usecs: AtomicU32::new(positive(DEFAULT_RX_USECS.get())),
            resizing <- new_mutex!(()),
        })
    }

    pub(crate) fn ring_size(&self) -> u32 {
        self.ring_size.load(Relaxed)
    }

    pub(crate) fn rx_frames(&self) -> u32 {
        self.rx_frames.load(Relaxed)
    }

    pub(crate) fn rx_usecs(&self) -> u32 {
        self.rx_usecs.load(Relaxed)
    }

    /// Checks a ring size and starts resizing the rings: the caller holds
    /// the returned guard until it has resized them all and stored the
    /// size ([`Config::store_ring_size`]).  Process context.
    pub(crate) fn start_resize(&self, v: u32) -> Result<(u32, MutexGuard<'_, ()>)> {
        let v = in_range(v, RING_MIN, RING_MAX)?;
        Ok((v, self.resizing.lock()))
    }

    /// Keeps the rings' slot counts as they are (no resize starts) while
    /// the returned guard is held: for moving frames between rings.
    /// Process context.
    pub(crate) fn hold_rings(&self) -> MutexGuard<'_, ()> {
        self.resizing.lock()
    }

    /// Records the new ring size, under the guard of
    /// [`Config::start_resize`].
    pub(crate) fn store_ring_size(&self, v: u32, _resizing: &MutexGuard<'_, ()>) {
        self.ring_size.store(v, Relaxed);
    }

    /// Sets `rx-frames`, or fails with `EINVAL` and keeps the old value.
    pub(crate) fn set_rx_frames(&self, v: u32) -> Result {
        self.rx_frames
            .store(in_range(v, 1, RX_FRAMES_MAX)?, Relaxed);
        Ok(())
    }

    /// Sets `rx-usecs`, or fails with `EINVAL` and keeps the old value.
    pub(crate) fn set_rx_usecs(&self, v: u32) -> Result {
        self.rx_usecs.store(in_range(v, 0, RX_USECS_MAX)?, Relaxed);
        Ok(())
    }
}
