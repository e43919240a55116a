// SPDX-License-Identifier: GPL-2.0

//! The vnapi bus: creating, deleting, linking and unlinking devices
//! through `/sys/bus/vnapi/`, the per-device settings and counters, and the
//! module itself.

#![forbid(unsafe_code)]

use crate::config::{self, LiveFrames, LIVE_DEVICES};
use crate::port::{Port, TxStats};
use crate::queue::{RxQueue, RxStats};
use crate::rnm::{
    bus::{
        Attr, Bus, BusRegistration, BusType, Device, DeviceRegistration, Driver,
        DriverRegistration, SysfsWriter,
    },
    net::{napi::Napi, synchronize_net},
    sysctl::{self, Entry},
};
use core::{fmt, sync::atomic::Ordering};
use kernel::{
    alloc::kvec::PushError,
    new_mutex,
    prelude::*,
    str::CString,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc, Mutex,
    },
};

/// The bus type.
pub(crate) static BUS: BusType<VnapiBus> = BusType::new();

/// The data of a device on the bus, which its attribute files and its
/// driver reach through the device itself.
#[pin_data]
pub(crate) struct BusDev {
    id: u32,
    /// The number of queue pairs of its port.
    queues: u32,
    /// The bus's lock of the links between ports (see [`VnapiBus::links`]).
    links: Arc<Mutex<()>>,
    /// The module's count of frames in rx rings, for the port's rings.
    pub(crate) live_frames: Arc<LiveFrames>,
    /// The port, while the driver is bound.  Held by the attribute
    /// functions and the linking of ports while they use it; the device is
    /// never unregistered, nor the driver unbound, under this lock.
    #[pin]
    port: Mutex<Option<Arc<Port>>>,
    /// The error of the last failed probe, until `new_device` takes it.
    probe_err: Atomic<i32>,
}

/// The vnapi driver: it makes a bound device's port (net device), as a
/// NIC's driver makes the net device of the hardware it binds to, and
/// unregisters it when it unbinds.
pub(crate) struct VnapiDriver;

impl Driver for VnapiDriver {
    type Bus = VnapiBus;
    /// The port; another reference is in [`BusDev::port`] for the
    /// attribute files, and one in its peer while linked.
    type Data = Arc<Port>;
    const NAME: &'static CStr = c"vnapi";

    fn probe(dev: &Device<VnapiBus>) -> Result<Pin<KBox<Arc<Port>>>> {
        let d = dev.data();
        let bound = Port::new(d.id, d.queues, dev)
            .and_then(|port| Ok((KBox::pin(port.clone(), GFP_KERNEL)?, port)));
        match bound {
            Ok((bound, port)) => {
                // Published last: a failed probe leaves no port behind (it
                // would keep its parent, this device, alive forever).
                *d.port.lock() = Some(port);
                Ok(bound)
            }
            Err(e) => {
                // For `new_device`, which fails with it.
                d.probe_err.store(e.to_errno(), Relaxed);
                Err(e)
            }
        }
    }

    fn remove(dev: &Device<VnapiBus>, port: Pin<KBox<Arc<Port>>>) {
        let d = dev.data();
        // The attribute files and `link_device` cannot reach the port any
        // more (this waits for one that uses it now); they fail with
        // `ENODEV` until it is bound again.
        drop(d.port.lock().take());
        // Then no transmit path can reach it from its peer.  Under the
        // links lock: a `link_device` or `unlink_device` that took the
        // port before is done with it, and took no reference away.
        let linked = {
            let _links = d.links.lock();
            VnapiBus::unlink(&port)
        };
        if linked {
            synchronize_net();
        }
        // Now `port` is the last reference: its net device goes with it.
    }
}

/// The devices, and the ids of those being created or deleted.
struct Devices {
    list: KVec<DeviceRegistration<VnapiBus>>,
    /// Ids whose bus device may exist outside `list` (being created, or
    /// deleted): not free for a new device (its bus device's name would
    /// be taken).
    busy: KVec<u32>,
}

impl Devices {
    fn find(&self, id: u32) -> Result<usize> {
        self.list
            .iter()
            .position(|d| d.data().id == id)
            .ok_or(ENODEV)
    }
}

/// The bus's state: every device.  Dropped (with the devices) after the
/// bus files are gone, before the bus itself.
#[pin_data]
pub(crate) struct VnapiBus {
    /// Taken by the bus attribute methods only, never by the device
    /// attribute functions.
    #[pin]
    devices: Mutex<Devices>,
    /// Serialises linking and unlinking ports: taken (after `devices`) by
    /// `link_device` and `unlink_device` while they use the ports they
    /// took, and by the driver's `remove` to unlink the port it removes.
    /// Shared with every device ([`BusDev::links`]), which the driver
    /// reaches.
    links: Arc<Mutex<()>>,
    /// The frames in the rx rings of every port (`live_frames`).
    live_frames: Arc<LiveFrames>,
}

// Bus attributes, in `Bus::BUS_ATTRS` order.
const NEW_DEVICE: usize = 0;
const DEL_DEVICE: usize = 1;
const LINK_DEVICE: usize = 2;
const UNLINK_DEVICE: usize = 3;
const LIVE_DEVICES_ATTR: usize = 4;
const LIVE_FRAMES_ATTR: usize = 5;

// Device attributes, in `Bus::DEVICE_ATTRS` order.
const RING_SIZE: usize = 0;
const NAPI_WEIGHT: usize = 1;
const RX_FRAMES: usize = 2;
const RX_USECS: usize = 3;
const QUEUES: usize = 4;
const PEER: usize = 5;
const QUEUE_STATS: usize = 6;
const IRQ_CPU: usize = 7;

/// Parses a sysfs write of at most `N` numbers (see
/// [`crate::logic::parse_numbers`]); returns how many there were.
fn parse_numbers<const N: usize>(input: &[u8], out: &mut [u32; N]) -> Result<usize> {
    crate::logic::parse_numbers(input, out).ok_or(EINVAL)
}

fn parse_one(input: &[u8]) -> Result<u32> {
    let mut v = [0];
    parse_numbers(input, &mut v)?;
    Ok(v[0])
}

/// One line of `queue_stats` for receive queue `.0`.
struct RxLine<'a>(usize, &'a Napi<RxQueue>);

impl fmt::Display for RxLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = self.1.data();
        write!(f, "rx{}", self.0)?;
        for (n, v) in RxStats::NAMES.iter().zip(q.stats.values()) {
            write!(f, " {n} {v}")?;
        }
        write!(f, " ring {}", q.ring_len())
    }
}

/// One line of `queue_stats` for transmit queue `.0`.
struct TxLine<'a>(usize, &'a TxStats);

impl fmt::Display for TxLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tx{}", self.0)?;
        // The counters the line had before `stop` and `wake` (which
        // `ethtool -S` and the netdev family have), so that the lines of
        // 16 queues stay within the page the file is.
        let n = TxStats::QUEUE_STATS;
        for (n, v) in TxStats::NAMES[..n].iter().zip(self.1.values()) {
            write!(f, " {n} {v}")?;
        }
        Ok(())
    }
}

impl VnapiBus {
    /// Reserves `id` for a device being created, and room for it.
    fn reserve(&self, id: u32) -> Result {
        let mut d = self.devices.lock();
        if d.find(id).is_ok() || d.busy.contains(&id) {
            return Err(EEXIST);
        }
        let max = usize::try_from(config::MAX_DEVICES.get()).unwrap_or(0);
        if d.list.len() + d.busy.len() >= max {
            return Err(ENOSPC);
        }
        // Room for every device being created: adding one never allocates.
        let busy = d.busy.len();
        d.list.reserve(busy + 1, GFP_KERNEL)?;
        d.busy.push(id, GFP_KERNEL)?;
        Ok(())
    }

    fn new_device(&self, input: &[u8]) -> Result {
        let mut v = [0, 0];
        let n = parse_numbers(input, &mut v)?;
        let id = v[0];
        let queues = if n == 2 {
            v[1]
        } else {
            u32::try_from(config::DEFAULT_QUEUES.get()).map_err(|_| EINVAL)?
        };
        if id > config::ID_MAX || queues == 0 || queues > config::QUEUES_MAX {
            return Err(EINVAL);
        }
        self.reserve(id)?;
        // No lock held: a failure after the bus device appeared
        // unregisters it, which waits for readers of its files.
        let dev = self.create(id, queues);
        let mut d = self.devices.lock();
        d.busy.retain(|b| *b != id);
        let dev = dev?;
        match d.list.push_within_capacity(dev) {
            Ok(()) => Ok(()),
            Err(PushError(dev)) => {
                // Not reached (room was reserved); not dropped under the lock.
                drop(d);
                drop(dev);
                Err(ENOMEM)
            }
        }
    }

    /// Creates bus device `id` with `queues` queue pairs, which the driver
    /// binds to at once (unless `drivers_autoprobe` is 0).  Fails if the
    /// bus device cannot be created, or with the error of the driver's
    /// probe: the device is then deleted again.
    fn create(&self, id: u32, queues: u32) -> Result<DeviceRegistration<VnapiBus>> {
        let name = CString::try_from_fmt(fmt!("vnapi{id}"))?;
        let dev = DeviceRegistration::new(
            &BUS,
            &name,
            try_pin_init!(BusDev {
                id,
                queues,
                links: self.links.clone(),
                live_frames: self.live_frames.clone(),
                port <- new_mutex!(None, "vnapi_busdev_port"),
                probe_err: Atomic::new(0),
            }),
        )?;
        match dev.data().probe_err.xchg(0, Relaxed) {
            0 => Ok(dev),
            e => Err(Error::from_errno(e)),
        }
    }

    /// Unlinks `port` from its peer, if any; returns whether it was linked.
    /// The caller waits for a grace period before the port goes.
    fn unlink(port: &Port) -> bool {
        match port.set_peer(None) {
            Some(peer) => {
                peer.set_peer(None);
                true
            }
            None => false,
        }
    }

    fn del_device(&self, input: &[u8]) -> Result {
        let id = parse_one(input)?;
        let dev = {
            let mut d = self.devices.lock();
            let i = d.find(id)?;
            // The id stays taken until the bus device is gone.
            d.busy.push(id, GFP_KERNEL)?;
            let Ok(dev) = d.list.remove(i) else {
                d.busy.retain(|b| *b != id);
                return Err(ENODEV);
            };
            dev
        };
        // Without the bus lock: unbinds the driver (which unlinks the port
        // and waits until no transmit path sees it), then deletes the bus
        // device.
        drop(dev);
        self.devices.lock().busy.retain(|b| *b != id);
        Ok(())
    }

    fn link_device(&self, input: &[u8]) -> Result {
        let mut v = [0, 0];
        if parse_numbers(input, &mut v)? != 2 || v[0] == v[1] {
            return Err(EINVAL);
        }
        let d = self.devices.lock();
        let a = d.list[d.find(v[0])?].data();
        let b = d.list[d.find(v[1])?].data();
        // A driver's `remove` that takes a port out after this unlinks it
        // only once this is done (it waits for the links lock).
        let _links = self.links.lock();
        let pa = a.port.lock().clone().ok_or(ENODEV)?;
        let pb = b.port.lock().clone().ok_or(ENODEV)?;
        if pa.peer_id().is_some() || pb.peer_id().is_some() {
            return Err(EBUSY);
        }
        pa.set_peer(Some(pb.clone()));
        pb.set_peer(Some(pa.clone()));
        // Between the two, `pa` may have filled `pb`'s ring and stopped a
        // queue, and `pb`'s poll, without a peer yet, woken nothing.
        pa.wake_tx_queues();
        Ok(())
    }

    fn unlink_device(&self, input: &[u8]) -> Result {
        let id = parse_one(input)?;
        {
            let d = self.devices.lock();
            let a = d.list[d.find(id)?].data();
            // As in `link_device`; the peer's `remove`, if it runs now,
            // still holds its own reference when this drops the one it
            // gets back.
            let _links = self.links.lock();
            let port = a.port.lock().clone().ok_or(ENODEV)?;
            if !Self::unlink(&port) {
                return Err(EINVAL);
            }
        }
        synchronize_net();
        Ok(())
    }

    /// `queue_stats`: a line per queue.  If they do not all fit in the
    /// page (16 queues with very large counters), the output ends after
    /// the last whole line that fits.
    fn show_queue_stats(port: &Port, out: &mut SysfsWriter<'_>) -> Result {
        let d = port.data();
        let rx = d.queues().iter().enumerate();
        let tx = d.tx().iter().enumerate();
        for (i, q) in rx {
            if writeln!(out, "{}", RxLine(i, q)).is_err() {
                return Ok(());
            }
        }
        for (i, t) in tx {
            if writeln!(out, "{}", TxLine(i, t)).is_err() {
                return Ok(());
            }
        }
        Ok(())
    }

    fn show_irq_cpu(port: &Port, out: &mut SysfsWriter<'_>) -> Result {
        for (i, q) in port.data().queues().iter().enumerate() {
            match q.irq_cpu() {
                Some(cpu) => writeln!(out, "rx{i} {cpu}")?,
                None => writeln!(out, "rx{i} local")?,
            }
        }
        Ok(())
    }
}

impl Bus for VnapiBus {
    type DeviceData = BusDev;
    const NAME: &'static CStr = c"vnapi";
    const BUS_ATTRS: &'static [Attr] = &[
        Attr::write_only(c"new_device"),
        Attr::write_only(c"del_device"),
        Attr::write_only(c"link_device"),
        Attr::write_only(c"unlink_device"),
        Attr::read_only(c"live_devices"),
        Attr::read_only(c"live_frames"),
    ];
    const DEVICE_ATTRS: &'static [Attr] = &[
        Attr::read_write(c"ring_size"),
        Attr::read_write(c"napi_weight"),
        Attr::read_write(c"rx_frames"),
        Attr::read_write(c"rx_usecs"),
        Attr::read_only(c"queues"),
        Attr::read_only(c"peer"),
        Attr::read_only(c"queue_stats"),
        Attr::read_write(c"irq_cpu"),
    ];

    fn bus_show(&self, index: usize, out: &mut SysfsWriter<'_>) -> Result {
        let v = match index {
            LIVE_DEVICES_ATTR => LIVE_DEVICES.load(Ordering::Relaxed),
            LIVE_FRAMES_ATTR => self.live_frames.sum(),
            _ => return Err(EIO),
        };
        writeln!(out, "{v}")
    }

    fn bus_store(&self, index: usize, input: &[u8]) -> Result {
        match index {
            NEW_DEVICE => self.new_device(input),
            DEL_DEVICE => self.del_device(input),
            LINK_DEVICE => self.link_device(input),
            UNLINK_DEVICE => self.unlink_device(input),
            _ => Err(EIO),
        }
    }

    fn device_show(dev: &BusDev, index: usize, out: &mut SysfsWriter<'_>) -> Result {
        let port = dev.port.lock();
        let port = port.as_deref().ok_or(ENODEV)?;
        let d = port.data();
        match index {
            RING_SIZE => writeln!(out, "{}", d.cfg().ring_size()),
            NAPI_WEIGHT => writeln!(out, "{}", d.napi_weight()),
            RX_FRAMES => writeln!(out, "{}", d.cfg().rx_frames()),
            RX_USECS => writeln!(out, "{}", d.cfg().rx_usecs()),
            QUEUES => writeln!(out, "{}", d.queues().len()),
            PEER => match port.peer_id() {
                Some(p) => writeln!(out, "{p}"),
                None => writeln!(out, "none"),
            },
            QUEUE_STATS => Self::show_queue_stats(port, out),
            IRQ_CPU => Self::show_irq_cpu(port, out),
            _ => Err(EIO),
        }
    }

    /// Every device is for the vnapi driver: `MODALIAS=vnapi:vnapi`, the
    /// module's alias.
    fn modalias(_dev: &BusDev) -> Option<&CStr> {
        Some(VnapiDriver::NAME)
    }

    fn device_store(dev: &BusDev, index: usize, input: &[u8]) -> Result {
        let port = dev.port.lock();
        let d = port.as_deref().ok_or(ENODEV)?.data();
        if index == IRQ_CPU {
            let (queue, cpu) = crate::logic::parse_irq_cpu(input).ok_or(EINVAL)?;
            let q = usize::try_from(queue).map_err(|_| EINVAL)?;
            return d.queues().get(q).ok_or(EINVAL)?.set_irq_cpu(cpu);
        }
        let v = parse_one(input)?;
        match index {
            RING_SIZE => d.set_ring_size(v),
            NAPI_WEIGHT => d.set_napi_weight(v),
            RX_FRAMES => d.cfg().set_rx_frames(v),
            RX_USECS => d.cfg().set_rx_usecs(v),
            _ => Err(EIO),
        }
    }
}

/// The module: the sysctl table, the bus with its devices, and the driver
/// bound to them.
pub(crate) struct VnapiModule {
    /// Taken in `drop` to unbind the devices first.
    driver: Option<DriverRegistration<VnapiDriver>>,
    /// Taken in `drop` to unregister the bus and its devices next.
    bus: Option<BusRegistration<VnapiBus>>,
    /// The bus's count of frames in rx rings, for the report at unload.
    live_frames: Arc<LiveFrames>,
    _sysctl: sysctl::Registration,
}

impl kernel::Module for VnapiModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let sysctl = sysctl::Registration::register(
            c"net/vnapi",
            &[
                Entry::new(c"max_devices", &config::MAX_DEVICES, 0o644),
                Entry::new(c"default_queues", &config::DEFAULT_QUEUES, 0o644),
                Entry::new(c"default_ring_size", &config::DEFAULT_RING_SIZE, 0o644),
                Entry::new(c"default_napi_weight", &config::DEFAULT_NAPI_WEIGHT, 0o644),
                Entry::new(c"default_rx_frames", &config::DEFAULT_RX_FRAMES, 0o644),
                Entry::new(c"default_rx_usecs", &config::DEFAULT_RX_USECS, 0o644),
            ],
        )?;
        let links = Arc::pin_init(new_mutex!((), "vnapi_links"), GFP_KERNEL)?;
        let live = Arc::new(LiveFrames::new(0)?, GFP_KERNEL)?;
        let live_frames = live.clone();
        let bus = BusRegistration::register(
            &BUS,
            try_pin_init!(VnapiBus {
                links,
                live_frames,
                devices <- new_mutex!(
                    Devices {
                        list: KVec::new(),
                        busy: KVec::new(),
                    },
                    "vnapi_devices"
                ),
            }),
        )?;
        // Binds to the devices created meanwhile, if any.
        let driver = DriverRegistration::register(&BUS, module)?;
        Ok(Self {
            driver: Some(driver),
            bus: Some(bus),
            live_frames: live,
            _sysctl: sysctl,
        })
    }
}

impl Drop for VnapiModule {
    fn drop(&mut self) {
        // The driver goes first, unbinding every device (their ports go);
        // then the bus files (no write to them runs or starts after that),
        // the bus devices and the bus.  A device created in between is
        // deleted unbound.
        drop(self.driver.take());
        drop(self.bus.take());
        pr_info!(
            "unloading: live devices {}, live frames {}\n",
            LIVE_DEVICES.load(Ordering::Relaxed),
            self.live_frames.sum()
        );
    }
}
