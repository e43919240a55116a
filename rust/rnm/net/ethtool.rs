// SPDX-License-Identifier: GPL-2.0

//! ethtool operations: statistics, ring sizes, interrupt coalescing,
//! channels.
//!
//! C header: [`include/linux/ethtool.h`](srctree/include/linux/ethtool.h)
//!
//! [`EthtoolOps`] is a `#[vtable]` trait: a driver implements only what it
//! has, and for every method it leaves out the C pointer in `ethtool_ops`
//! stays `NULL`, so that the core itself answers `EOPNOTSUPP` ("Operation
//! not supported").  The core validates requests against what the getters
//! report (for example a ring size above the reported maximum never
//! reaches [`EthtoolOps::set_ring`]).
//!
//! Every device has the driver information (`ethtool -i`), the link state
//! and software timestamping (`ethtool -T`: transmit timestamps are taken
//! by the transmit adapter, see [`DeviceOps::start_xmit`]; no hardware
//! clock).
//!
//! Statistics (`ethtool -S`) are reported by one method,
//! [`EthtoolOps::stats`], which hands each name with its value to a
//! [`Stats`] writer: the number of statistics, their names and their values
//! come from the same calls, and names and values of a group are arrays of
//! one length.  The writer never writes past the buffer the core allocated
//! (sized by the count the core got), whatever the driver reports.

use crate::rnm::{
    bindings,
    net::device::{Device, DeviceOps},
};
use core::{
    fmt,
    marker::PhantomData,
    sync::atomic::{AtomicPtr, AtomicUsize, Ordering},
};
use kernel::{build_error, error::VTABLE_DEFAULT_ERROR, prelude::*};

/// Ring sizes (`ethtool -g` / `-G`), in frames.
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

/// Coalescing parameter: `rx-usecs` (`ETHTOOL_COALESCE_RX_USECS`).
pub const COALESCE_RX_USECS: u32 = 1 << 0;
/// Coalescing parameter: `rx-frames` (`ETHTOOL_COALESCE_RX_MAX_FRAMES`).
pub const COALESCE_RX_MAX_FRAMES: u32 = 1 << 1;

/// `ETHTOOL_OP_NEEDS_RTNL_SCHANNELS` (`BIT(3)`, which bindgen does not
/// evaluate; `rust/helpers/net.c` asserts the value at build time).
const OP_NEEDS_RTNL_SCHANNELS: u32 = 1 << 3;

/// Length of a statistic's name in the core's buffer, NUL included: names
/// are truncated to 31 bytes.
const NAME_LEN: usize = bindings::ETH_GSTRING_LEN as usize;

/// What a [`Stats`] writer does with what the driver reports.
enum Sink<'a> {
    /// Counts the statistics (`get_sset_count`).
    Count,
    /// Writes the names into the core's buffer (`get_strings`).
    Names(&'a mut [[u8; NAME_LEN]]),
    /// Writes the values into the core's buffer (`get_ethtool_stats`).
    Values(&'a mut [u64]),
}

/// The writer a driver reports its statistics to, in
/// [`EthtoolOps::stats`]: each call adds statistics after those already
/// reported.
///
/// The same method counts, names and reads the statistics; the writer
/// holds the buffer the core allocated for the count it got, and drops
/// what does not fit (a count that changed in between): it never writes
/// past the buffer, and statistics not reported read as 0.
pub struct Stats<'a> {
    sink: Sink<'a>,
    /// Statistics reported so far.
    n: usize,
}

impl Stats<'_> {
    /// Reports `N` statistics, named `prefix` followed by `names[i]`, with
    /// values `values[i]`.  Names are truncated to 31 bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use crate::rnm::net::ethtool::Stats;
    ///
    /// /// Reports the counters of receive queue `i`: `rx{i}_frames`,
    /// /// `rx{i}_bytes`.
    /// fn report(out: &mut Stats<'_>, i: usize, frames: u64, bytes: u64) {
    ///     out.group(format_args!("rx{i}_"), &["frames", "bytes"], [frames, bytes]);
    /// }
    /// # Ok::<(), Error>(())
    /// ```
    pub fn group<const N: usize>(
        &mut self,
        prefix: fmt::Arguments<'_>,
        names: &[&str; N],
        values: [u64; N],
    ) {
        let first = self.n;
        self.n = self.n.saturating_add(N);
        match &mut self.sink {
            Sink::Count => {}
            Sink::Names(slots) => {
                for (slot, name) in slots.iter_mut().skip(first).zip(names) {
                    write_name(slot, format_args!("{prefix}{name}"));
                }
            }
            Sink::Values(out) => {
                for (o, v) in out.iter_mut().skip(first).zip(values) {
                    *o = v;
                }
            }
        }
    }

    /// Reports one statistic.
    ///
    /// # Examples
    ///
    /// ```
    /// use crate::rnm::net::ethtool::Stats;
    ///
    /// fn report(out: &mut Stats<'_>, drops: u64) {
    ///     out.stat(format_args!("drops"), drops);
    /// }
    /// # Ok::<(), Error>(())
    /// ```
    pub fn stat(&mut self, name: fmt::Arguments<'_>, value: u64) {
        self.group(name, &[""], [value]);
    }
}

/// Writes `name` into `slot`, truncated, NUL-terminated and NUL-padded.
fn write_name(slot: &mut [u8; NAME_LEN], name: fmt::Arguments<'_>) {
    struct SlotWriter<'a> {
        slot: &'a mut [u8],
        len: usize,
    }

    impl fmt::Write for SlotWriter<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let room = self.slot.len().saturating_sub(self.len);
            let n = s.len().min(room);
            if let Some(dst) = self.slot.get_mut(self.len..self.len + n) {
                dst.copy_from_slice(&s.as_bytes()[..n]);
                self.len += n;
            }
            Ok(())
        }
    }

    slot.fill(0);
    let mut w = SlotWriter {
        slot: &mut slot[..NAME_LEN - 1],
        len: 0,
    };
    let _ = fmt::write(&mut w, name);
}

/// The ethtool operations of a driver; `Self` is the device's private data.
///
/// Every method is called by the ethtool core in process context, under
/// RTNL, on a registered device; it may sleep.  A method the driver does
/// not implement is not installed: the core answers `EOPNOTSUPP`.
///
/// # Examples
///
/// A driver with one statistic and its ring size.  (`DeviceOps`, which
/// requires this trait, is implemented alongside.)
///
/// ```
/// use crate::rnm::net::device::Device;
/// use crate::rnm::net::ethtool::{EthtoolOps, Ring, Stats};
/// use core::sync::atomic::{AtomicU64, Ordering};
///
/// struct MyDev {
///     drops: AtomicU64,
/// }
///
/// #[vtable]
/// impl EthtoolOps for MyDev {
///     const DRIVER_NAME: &'static CStr = c"mydev";
///
///     fn stats(_dev: &Device, data: &Self, out: &mut Stats<'_>) {
///         out.stat(format_args!("drops"), data.drops.load(Ordering::Relaxed));
///     }
///
///     fn ring(_dev: &Device, _data: &Self) -> Ring {
///         Ring { rx_max: 4096, rx: 256, tx_max: 0, tx: 0 }
///     }
/// }
/// # Ok::<(), Error>(())
/// ```
#[vtable]
pub trait EthtoolOps: Sized + 'static {
    /// The driver's name (`ethtool -i`), truncated to 31 bytes.
    const DRIVER_NAME: &'static CStr;

    /// The coalescing parameters [`EthtoolOps::set_coalesce`] accepts
    /// ([`COALESCE_RX_USECS`], ...); the core rejects requests that change
    /// others with `EOPNOTSUPP`.  Must not be 0 if `set_coalesce` is
    /// implemented (the build fails otherwise).
    const COALESCE_PARAMS: u32 = 0;

    /// Reports the statistics (`ethtool -S`, `get_sset_count`,
    /// `get_strings` and `get_ethtool_stats`) to `out`, in the same order
    /// on every call.  Reporting none makes `ethtool -S` fail with
    /// `EOPNOTSUPP`.
    fn stats(_dev: &Device, _data: &Self, _out: &mut Stats<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The ring sizes (`get_ringparam`).
    fn ring(_dev: &Device, _data: &Self) -> Ring {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Sets the ring sizes (`set_ringparam`), already checked by the core
    /// against the maxima [`EthtoolOps::ring`] reports (which must be
    /// implemented too).  On error nothing may have changed.
    fn set_ring(_dev: &Device, _data: &Self, _ring: Ring) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The coalescing parameters (`get_coalesce`).
    fn coalesce(_dev: &Device, _data: &Self) -> Result<Coalesce> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Sets the coalescing parameters (`set_coalesce`; only those in
    /// [`EthtoolOps::COALESCE_PARAMS`] can differ from what
    /// [`EthtoolOps::coalesce`], which must be implemented too, reports).
    /// Bad values: `EINVAL`, and nothing changed.
    fn set_coalesce(_dev: &Device, _data: &Self, _c: Coalesce) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The channel counts (`get_channels`).  The core gets at most the
    /// queues the device was allocated with as `max_combined`, and at most
    /// that as `combined`.
    fn channels(_dev: &Device, _data: &Self) -> Channels {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The number of statistics the core last got from `get_sset_count`, and
/// the device it got it for.
///
/// `get_strings` gets no length: the core sized its buffer by the count it
/// got from `get_sset_count` just before, under the same hold of RTNL (the
/// ioctl `ETHTOOL_GSTRINGS` and the netlink string sets both do; these
/// devices have no instance lock that would let the core call them without
/// RTNL).  Both are written and read only under RTNL: for one device, the
/// count read by `get_strings` is the size of the buffer it is given.
struct LastCount {
    dev: AtomicPtr<bindings::net_device>,
    count: AtomicUsize,
}

static LAST_COUNT: LastCount = LastCount {
    dev: AtomicPtr::new(core::ptr::null_mut()),
    count: AtomicUsize::new(0),
};

/// The `ethtool_ops` callbacks of a driver `T`, for the devices of a
/// [`Registration`](super::device::Registration) for `T`.
pub(in crate::rnm) struct Adapter<T: DeviceOps>(PhantomData<T>);

impl<T: DeviceOps> Adapter<T> {
    /// # Safety
    ///
    /// `dev` must be a device of a [`super::device::Registration`] for `T`.
    unsafe fn parts<'a>(dev: *mut bindings::net_device) -> (&'a Device, &'a T) {
        // SAFETY: by the safety requirements the device is one of a
        // registration for `T`, registered while ethtool callbacks run, so
        // its private data is initialised.
        let (d, p) = unsafe { super::device::Adapter::<T>::parts(dev) };
        (d, p.data())
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
        let mut out = Stats {
            sink: Sink::Count,
            n: 0,
        };
        T::stats(d, t, &mut out);
        // The core warns on an empty set: report none as unsupported.
        // Larger than the core accepts: as the core would answer.
        let count = match c_int::try_from(out.n) {
            Ok(0) => return EOPNOTSUPP.to_errno(),
            Ok(n) if out.n <= i32::MAX as usize / NAME_LEN => n,
            _ => return ENOMEM.to_errno(),
        };
        // Under RTNL (see `LastCount`).
        LAST_COUNT.dev.store(dev, Ordering::Relaxed);
        LAST_COUNT.count.store(out.n, Ordering::Relaxed);
        count
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn get_strings(dev: *mut bindings::net_device, sset: u32, data: *mut u8) {
        if sset != bindings::ethtool_stringset_ETH_SS_STATS {
            return;
        }
        // SAFETY: `rtnl_is_locked` only reads the state of the mutex.
        let rtnl = unsafe { bindings::rtnl_is_locked() } != 0;
        if !rtnl || LAST_COUNT.dev.load(Ordering::Relaxed) != dev {
            // Not right after our `get_sset_count`: size unknown.
            return;
        }
        let count = LAST_COUNT.count.load(Ordering::Relaxed);
        // SAFETY: called by the ethtool core on a device of `T`.
        let (d, t) = unsafe { Self::parts(dev) };
        // `count` is what `get_sset_count` reported for this device just
        // before, under RTNL (see `LastCount`).
        let slots = data.cast::<[u8; NAME_LEN]>();
        // SAFETY: the core passes `ETH_GSTRING_LEN` bytes for each of the
        // `count` strings; byte arrays have no alignment requirement.
        let slots = unsafe { core::slice::from_raw_parts_mut(slots, count) };
        let mut out = Stats {
            sink: Sink::Names(slots),
            n: 0,
        };
        T::stats(d, t, &mut out);
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn get_ethtool_stats(
        dev: *mut bindings::net_device,
        stats: *mut bindings::ethtool_stats,
        data: *mut u64,
    ) {
        // SAFETY: called by the ethtool core on a device of `T`.
        let (d, t) = unsafe { Self::parts(dev) };
        // SAFETY: `stats` points to the core's `ethtool_stats`, whose
        // `n_stats` is the number of values the core allocated at `data`.
        let n = unsafe { (*stats).n_stats } as usize;
        // SAFETY: the core passes room for `n_stats` values at `data`.
        let values = unsafe { core::slice::from_raw_parts_mut(data, n) };
        values.fill(0);
        let mut out = Stats {
            sink: Sink::Values(values),
            n: 0,
        };
        T::stats(d, t, &mut out);
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
        let r = T::ring(d, t);
        // SAFETY: `ring` points to a writable `ethtool_ringparam`.
        let ring = unsafe { &mut *ring };
        ring.rx_max_pending = r.rx_max;
        ring.rx_pending = r.rx;
        ring.tx_max_pending = r.tx_max;
        ring.tx_pending = r.tx;
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
        let c = T::channels(d, t);
        // SAFETY: `dev` is valid (the core's callback); the counts it was
        // allocated with are fixed.
        let queues = unsafe { (*dev).num_rx_queues.min((*dev).num_tx_queues) };
        // SAFETY: `ch` points to a writable `ethtool_channels`.
        let ch = unsafe { &mut *ch };
        // At most the queues the device has: `ethtool -L` loops from the
        // new count to the current one under RTNL, without rescheduling.
        ch.max_combined = c.max_combined.min(queues);
        ch.combined_count = c.combined.min(ch.max_combined);
    }

    const OPS: bindings::ethtool_ops = {
        // Setters the core would never call (it reads the current values
        // first), or refuse to register (no coalescing parameter).
        assert!(!T::HAS_SET_RING || T::HAS_RING, "set_ring needs ring");
        assert!(
            !T::HAS_SET_COALESCE || T::HAS_COALESCE,
            "set_coalesce needs coalesce"
        );
        assert!(
            !T::HAS_SET_COALESCE || T::COALESCE_PARAMS != 0,
            "set_coalesce needs COALESCE_PARAMS"
        );
        assert!(
            !T::HAS_SET_CHANNELS || T::HAS_CHANNELS,
            "set_channels needs channels"
        );
        bindings::ethtool_ops {
            supported_coalesce_params: T::COALESCE_PARAMS,
            // The callbacks that take an `Rtnl` token: RTNL held even if
            // the device ever had the instance lock.
            op_needs_rtnl: OP_NEEDS_RTNL_SCHANNELS,
            get_drvinfo: Some(Self::get_drvinfo),
            get_link: Some(bindings::ethtool_op_get_link),
            // Software timestamps, transmit ones included: the transmit
            // adapter takes them for every frame (`ethtool -T`).
            get_ts_info: Some(bindings::ethtool_op_get_ts_info),
            get_sset_count: if T::HAS_STATS {
                Some(Self::get_sset_count)
            } else {
                None
            },
            get_strings: if T::HAS_STATS {
                Some(Self::get_strings)
            } else {
                None
            },
            get_ethtool_stats: if T::HAS_STATS {
                Some(Self::get_ethtool_stats)
            } else {
                None
            },
            get_ringparam: if T::HAS_RING {
                Some(Self::get_ringparam)
            } else {
                None
            },
            set_ringparam: if T::HAS_SET_RING {
                Some(Self::set_ringparam)
            } else {
                None
            },
            get_coalesce: if T::HAS_COALESCE {
                Some(Self::get_coalesce)
            } else {
                None
            },
            set_coalesce: if T::HAS_SET_COALESCE {
                Some(Self::set_coalesce)
            } else {
                None
            },
            get_channels: if T::HAS_CHANNELS {
                Some(Self::get_channels)
            } else {
                None
            },
            // The core calls it only with `get_channels`.
            set_channels: if T::HAS_SET_CHANNELS {
                Some(super::device::Adapter::<T>::set_channels)
            } else {
                None
            },
            ..pin_init::zeroed()
        }
    };

    /// The ethtool operations of `T`: those it implements.
    pub(in crate::rnm) const fn ops() -> &'static bindings::ethtool_ops {
        &Self::OPS
    }
}
