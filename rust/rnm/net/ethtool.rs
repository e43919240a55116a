// SPDX-License-Identifier: GPL-2.0

//! ethtool operations: statistics, ring sizes, interrupt coalescing,
//! channels.
//!
//! C header: [`include/linux/ethtool.h`](srctree/include/linux/ethtool.h)
//!
//! Every method has a default that reports "not supported", so a driver
//! implements only what it has.  The core validates requests against what
//! the getters report (for example a ring size above the reported maximum
//! never reaches [`EthtoolOps::set_ring`]).

use crate::rnm::{
    bindings,
    net::device::{Device, DeviceOps},
};
use core::{fmt, marker::PhantomData};
use kernel::prelude::*;

/// Ring sizes (`ethtool -g` / `-G`).
#[derive(Default, Clone, Copy)]
pub struct Ring {
    /// Largest receive ring size.
    pub rx_max: u32,
    /// Current receive ring size.
    pub rx: u32,
    /// Largest transmit ring size (0: no transmit ring).
    pub tx_max: u32,
    /// Current transmit ring size.
    pub tx: u32,
}

/// Receive interrupt coalescing (`ethtool -c` / `-C`).
#[derive(Default, Clone, Copy)]
pub struct Coalesce {
    /// Microseconds after the first frame before an interrupt (`rx-usecs`).
    pub rx_usecs: u32,
    /// Frames before an interrupt (`rx-frames`).
    pub rx_max_frames: u32,
}

/// Channel counts (`ethtool -l`).
#[derive(Default, Clone, Copy)]
pub struct Channels {
    /// Largest number of combined channels.
    pub max_combined: u32,
    /// Current number of combined channels.
    pub combined: u32,
}

/// Coalescing parameter: `rx-usecs`.
pub const COALESCE_RX_USECS: u32 = 1 << 0; // ETHTOOL_COALESCE_RX_USECS, a BIT() macro
/// Coalescing parameter: `rx-frames`.
pub const COALESCE_RX_MAX_FRAMES: u32 = 1 << 1; // ETHTOOL_COALESCE_RX_MAX_FRAMES

/// Writes the names of the statistics (`ethtool -S`), one per
/// [`StatNames::push`], truncated to the 31 characters ethtool allows.
pub struct StatNames<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl StatNames<'_> {
    /// Appends the next name.  Names beyond the announced count are
    /// ignored.
    pub fn push(&mut self, name: fmt::Arguments<'_>) {
        const LEN: usize = bindings::ETH_GSTRING_LEN as usize;
        let Some(slot) = self.buf.get_mut(self.pos..self.pos + LEN) else {
            return;
        };
        slot.fill(0);
        let mut w = SlotWriter {
            slot: &mut slot[..LEN - 1],
            len: 0,
        };
        let _ = fmt::write(&mut w, name);
        self.pos += LEN;
    }
}

struct SlotWriter<'a> {
    slot: &'a mut [u8],
    len: usize,
}

impl fmt::Write for SlotWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.slot.len() - self.len;
        let n = s.len().min(room);
        self.slot[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// The ethtool operations of a driver; `Self` is the device's private data.
pub trait EthtoolOps: Sized {
    /// The driver's name (`ethtool -i`).
    const DRIVER_NAME: &'static CStr;

    /// The coalescing parameters [`EthtoolOps::set_coalesce`] accepts
    /// ([`COALESCE_RX_USECS`], ...).
    const COALESCE_PARAMS: u32 = 0;

    /// Number of statistics.
    fn stats_count(_dev: &Device, _data: &Self) -> usize {
        0
    }

    /// Writes the names of the statistics, [`EthtoolOps::stats_count`] of
    /// them.
    fn stats_names(_dev: &Device, _data: &Self, _names: &mut StatNames<'_>) {}

    /// Writes the values of the statistics into `values`, which has
    /// [`EthtoolOps::stats_count`] entries.
    fn stats(_dev: &Device, _data: &Self, _values: &mut [u64]) {}

    /// The ring sizes.
    fn ring(_dev: &Device, _data: &Self) -> Result<Ring> {
        Err(EOPNOTSUPP)
    }

    /// Sets the ring sizes.
    fn set_ring(_dev: &Device, _data: &Self, _ring: Ring) -> Result {
        Err(EOPNOTSUPP)
    }

    /// The coalescing parameters.
    fn coalesce(_dev: &Device, _data: &Self) -> Result<Coalesce> {
        Err(EOPNOTSUPP)
    }

    /// Sets the coalescing parameters.
    fn set_coalesce(_dev: &Device, _data: &Self, _c: Coalesce) -> Result {
        Err(EOPNOTSUPP)
    }

    /// The channel counts.
    fn channels(_dev: &Device, _data: &Self) -> Result<Channels> {
        Err(EOPNOTSUPP)
    }
}

pub(in crate::rnm) struct Adapter<T: DeviceOps>(PhantomData<T>);

impl<T: DeviceOps> Adapter<T> {
    /// # Safety
    ///
    /// `dev` must be a device of a [`super::device::Registration`] for `T`.
    unsafe fn parts<'a>(dev: *mut bindings::net_device) -> (&'a Device, &'a T) {
        // SAFETY: by the safety requirements the device is valid and its
        // private area holds a `T` while ethtool callbacks run (under RTNL,
        // on a registered device).
        unsafe {
            (
                Device::from_raw(dev),
                &*bindings::rnm_net_netdev_priv(dev).cast::<T>(),
            )
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn get_drvinfo(
        _dev: *mut bindings::net_device,
        info: *mut bindings::ethtool_drvinfo,
    ) {
        // SAFETY: `info` points to a writable `ethtool_drvinfo`.
        let info = unsafe { &mut *info };
        let name = T::DRIVER_NAME.to_bytes();
        let n = name.len().min(info.driver.len() - 1);
        for (d, s) in info.driver.iter_mut().zip(&name[..n]) {
            *d = *s;
        }
        info.driver[n] = 0;
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn get_sset_count(dev: *mut bindings::net_device, sset: c_int) -> c_int {
        if sset != bindings::ethtool_stringset_ETH_SS_STATS as c_int {
            return EOPNOTSUPP.to_errno();
        }
        // SAFETY: called by the ethtool core on a device of `T`.
        let (d, t) = unsafe { Self::parts(dev) };
        c_int::try_from(T::stats_count(d, t)).unwrap_or(0)
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn get_strings(dev: *mut bindings::net_device, sset: u32, data: *mut u8) {
        if sset != bindings::ethtool_stringset_ETH_SS_STATS {
            return;
        }
        // SAFETY: called by the ethtool core on a device of `T`.
        let (d, t) = unsafe { Self::parts(dev) };
        let len = T::stats_count(d, t) * bindings::ETH_GSTRING_LEN as usize;
        // SAFETY: the core passes a buffer of `ETH_GSTRING_LEN` bytes for
        // each of the `get_sset_count` strings, which is `stats_count`.
        let buf = unsafe { core::slice::from_raw_parts_mut(data, len) };
        T::stats_names(d, t, &mut StatNames { buf, pos: 0 });
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn get_ethtool_stats(
        dev: *mut bindings::net_device,
        _stats: *mut bindings::ethtool_stats,
        data: *mut u64,
    ) {
        // SAFETY: called by the ethtool core on a device of `T`.
        let (d, t) = unsafe { Self::parts(dev) };
        // SAFETY: the core passes room for `get_sset_count` values.
        let values = unsafe { core::slice::from_raw_parts_mut(data, T::stats_count(d, t)) };
        values.fill(0);
        T::stats(d, t, values);
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn get_ringparam(
        dev: *mut bindings::net_device,
        ring: *mut bindings::ethtool_ringparam,
        _kring: *mut bindings::kernel_ethtool_ringparam,
        _extack: *mut bindings::netlink_ext_ack,
    ) {
        // SAFETY: called by the ethtool core on a device of `T`.
        let (d, t) = unsafe { Self::parts(dev) };
        if let Ok(r) = T::ring(d, t) {
            // SAFETY: `ring` points to a writable `ethtool_ringparam`.
            let ring = unsafe { &mut *ring };
            ring.rx_max_pending = r.rx_max;
            ring.rx_pending = r.rx;
            ring.tx_max_pending = r.tx_max;
            ring.tx_pending = r.tx;
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn set_ringparam(
        dev: *mut bindings::net_device,
        ring: *mut bindings::ethtool_ringparam,
        _kring: *mut bindings::kernel_ethtool_ringparam,
        _extack: *mut bindings::netlink_ext_ack,
    ) -> c_int {
        // SAFETY: called by the ethtool core on a device of `T`.
        let (d, t) = unsafe { Self::parts(dev) };
        // SAFETY: `ring` points to a valid `ethtool_ringparam`.
        let ring = unsafe { &*ring };
        let r = Ring {
            rx_max: ring.rx_max_pending,
            rx: ring.rx_pending,
            tx_max: ring.tx_max_pending,
            tx: ring.tx_pending,
        };
        match T::set_ring(d, t, r) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn get_coalesce(
        dev: *mut bindings::net_device,
        ec: *mut bindings::ethtool_coalesce,
        _kec: *mut bindings::kernel_ethtool_coalesce,
        _extack: *mut bindings::netlink_ext_ack,
    ) -> c_int {
        // SAFETY: called by the ethtool core on a device of `T`.
        let (d, t) = unsafe { Self::parts(dev) };
        match T::coalesce(d, t) {
            Ok(c) => {
                // SAFETY: `ec` points to a writable `ethtool_coalesce`.
                let ec = unsafe { &mut *ec };
                ec.rx_coalesce_usecs = c.rx_usecs;
                ec.rx_max_coalesced_frames = c.rx_max_frames;
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn set_coalesce(
        dev: *mut bindings::net_device,
        ec: *mut bindings::ethtool_coalesce,
        _kec: *mut bindings::kernel_ethtool_coalesce,
        _extack: *mut bindings::netlink_ext_ack,
    ) -> c_int {
        // SAFETY: called by the ethtool core on a device of `T`.
        let (d, t) = unsafe { Self::parts(dev) };
        // SAFETY: `ec` points to a valid `ethtool_coalesce`.
        let ec = unsafe { &*ec };
        let c = Coalesce {
            rx_usecs: ec.rx_coalesce_usecs,
            rx_max_frames: ec.rx_max_coalesced_frames,
        };
        match T::set_coalesce(d, t, c) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn get_channels(
        dev: *mut bindings::net_device,
        ch: *mut bindings::ethtool_channels,
    ) {
        // SAFETY: called by the ethtool core on a device of `T`.
        let (d, t) = unsafe { Self::parts(dev) };
        if let Ok(c) = T::channels(d, t) {
            // SAFETY: `ch` points to a writable `ethtool_channels`.
            let ch = unsafe { &mut *ch };
            ch.max_combined = c.max_combined;
            ch.combined_count = c.combined;
        }
    }

    const OPS: bindings::ethtool_ops = bindings::ethtool_ops {
        supported_coalesce_params: T::COALESCE_PARAMS,
        get_drvinfo: Some(Self::get_drvinfo),
        get_link: Some(bindings::ethtool_op_get_link),
        get_sset_count: Some(Self::get_sset_count),
        get_strings: Some(Self::get_strings),
        get_ethtool_stats: Some(Self::get_ethtool_stats),
        get_ringparam: Some(Self::get_ringparam),
        set_ringparam: Some(Self::set_ringparam),
        get_coalesce: Some(Self::get_coalesce),
        set_coalesce: Some(Self::set_coalesce),
        get_channels: Some(Self::get_channels),
        ..pin_init::zeroed()
    };

    pub(in crate::rnm) const fn ops() -> &'static bindings::ethtool_ops {
        &Self::OPS
    }
}
