// SPDX-License-Identifier: GPL-2.0

//! The vnapi bus: creating, deleting, linking and unlinking devices
//! through `/sys/bus/vnapi/`, the per-device settings and counters, and the
//! module itself.

#![forbid(unsafe_code)]

use crate::config::{self, LIVE_DEVICES, LIVE_FRAMES};
use crate::port::{Port, TxStats};
use crate::queue::RxStats;
use crate::rnm::{
    bus::{Attr, Bus, BusRegistration, BusType, SysfsWriter},
    net::synchronize_net,
    sysctl::{self, Entry},
};
use core::{fmt::Write, sync::atomic::Ordering};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
};

/// The bus type.
pub(crate) static BUS: BusType<VnapiBus> = BusType::new();

/// The bus's state: every device, by id.
#[pin_data]
pub(crate) struct VnapiBus {
    #[pin]
    ports: Mutex<KVec<Arc<Port>>>,
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

fn find(ports: &[Arc<Port>], id: u32) -> Result<usize> {
    ports.iter().position(|p| p.id == id).ok_or(ENODEV)
}

impl VnapiBus {
    fn new_device(&self, input: &[u8]) -> Result {
        let mut v = [0, 0];
        let n = parse_numbers(input, &mut v)?;
        let queues = if n == 2 {
            v[1]
        } else {
            u32::try_from(config::DEFAULT_QUEUES.get()).map_err(|_| EINVAL)?
        };
        if queues == 0 || queues > config::QUEUES_MAX {
            return Err(EINVAL);
        }
        let mut ports = self.ports.lock();
        if find(&ports, v[0]).is_ok() {
            return Err(EEXIST);
        }
        if ports.len() >= usize::try_from(config::MAX_DEVICES.get()).unwrap_or(0) {
            return Err(ENOSPC);
        }
        ports.reserve(1, GFP_KERNEL)?;
        let port = Port::new(v[0], queues)?;
        ports.push(port, GFP_KERNEL)?;
        Ok(())
    }

    /// Unlinks `port` from its peer, if any.
    fn unlink(port: &Port) -> bool {
        match port.set_peer(None) {
            Some(peer) => {
                peer.set_peer(None);
                true
            }
            None => false,
        }
    }

    /// Drops removed devices once no transmit path can still see them.
    fn release(removed: KVec<Arc<Port>>) {
        synchronize_net();
        drop(removed);
    }

    fn del_device(&self, input: &[u8]) -> Result {
        let id = parse_one(input)?;
        let mut removed = KVec::new();
        {
            let mut ports = self.ports.lock();
            let i = find(&ports, id)?;
            removed.reserve(1, GFP_KERNEL)?;
            let port = ports.remove(i).map_err(|_| ENODEV)?;
            Self::unlink(&port);
            removed.push(port, GFP_KERNEL)?;
        }
        Self::release(removed);
        Ok(())
    }

    fn link_device(&self, input: &[u8]) -> Result {
        let mut v = [0, 0];
        if parse_numbers(input, &mut v)? != 2 || v[0] == v[1] {
            return Err(EINVAL);
        }
        let ports = self.ports.lock();
        let a = &ports[find(&ports, v[0])?];
        let b = &ports[find(&ports, v[1])?];
        if a.peer_id().is_some() || b.peer_id().is_some() {
            return Err(EBUSY);
        }
        a.set_peer(Some(b.clone()));
        b.set_peer(Some(a.clone()));
        Ok(())
    }

    fn unlink_device(&self, input: &[u8]) -> Result {
        let id = parse_one(input)?;
        {
            let ports = self.ports.lock();
            if !Self::unlink(&ports[find(&ports, id)?]) {
                return Err(EINVAL);
            }
        }
        synchronize_net();
        Ok(())
    }

    /// Deletes every device (module unload).
    pub(crate) fn delete_all(&self) {
        let removed = {
            let mut ports = self.ports.lock();
            for p in ports.iter() {
                Self::unlink(p);
            }
            core::mem::take(&mut *ports)
        };
        Self::release(removed);
    }

    fn show_queue_stats(port: &Port, out: &mut SysfsWriter<'_>) -> Result {
        let d = port.data();
        for (i, q) in d.queues().iter().enumerate() {
            write!(out, "rx{i}").map_err(|_| EINVAL)?;
            for (n, v) in RxStats::NAMES.iter().zip(q.data().stats.values()) {
                write!(out, " {n} {v}").map_err(|_| EINVAL)?;
            }
            writeln!(out, " ring {}", q.data().ring_len()).map_err(|_| EINVAL)?;
        }
        for (i, t) in d.tx().iter().enumerate() {
            write!(out, "tx{i}").map_err(|_| EINVAL)?;
            for (n, v) in TxStats::NAMES.iter().zip(t.values()) {
                write!(out, " {n} {v}").map_err(|_| EINVAL)?;
            }
            writeln!(out).map_err(|_| EINVAL)?;
        }
        Ok(())
    }

    fn show_irq_cpu(port: &Port, out: &mut SysfsWriter<'_>) -> Result {
        for (i, q) in port.data().queues().iter().enumerate() {
            match q.irq_cpu() {
                Some(cpu) => writeln!(out, "rx{i} {cpu}"),
                None => writeln!(out, "rx{i} local"),
            }
            .map_err(|_| EINVAL)?;
        }
        Ok(())
    }
}

impl Bus for VnapiBus {
    type DeviceData = u32;
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
            LIVE_FRAMES_ATTR => LIVE_FRAMES.load(Ordering::Relaxed),
            _ => return Err(EIO),
        };
        writeln!(out, "{v}").map_err(|_| EINVAL)
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

    fn device_show(&self, id: &u32, index: usize, out: &mut SysfsWriter<'_>) -> Result {
        let ports = self.ports.lock();
        let port = &ports[find(&ports, *id)?];
        let d = port.data();
        let r = match index {
            RING_SIZE => writeln!(out, "{}", d.cfg().ring_size()),
            NAPI_WEIGHT => writeln!(out, "{}", d.napi_weight()),
            RX_FRAMES => writeln!(out, "{}", d.cfg().rx_frames()),
            RX_USECS => writeln!(out, "{}", d.cfg().rx_usecs()),
            QUEUES => writeln!(out, "{}", d.queues().len()),
            PEER => match port.peer_id() {
                Some(p) => writeln!(out, "{p}"),
                None => writeln!(out, "none"),
            },
            QUEUE_STATS => return Self::show_queue_stats(port, out),
            IRQ_CPU => return Self::show_irq_cpu(port, out),
            _ => return Err(EIO),
        };
        r.map_err(|_| EINVAL)
    }

    fn device_store(&self, id: &u32, index: usize, input: &[u8]) -> Result {
        if index == IRQ_CPU {
            let (queue, cpu) = crate::logic::parse_irq_cpu(input).ok_or(EINVAL)?;
            let ports = self.ports.lock();
            let d = ports[find(&ports, *id)?].data();
            let q = usize::try_from(queue).map_err(|_| EINVAL)?;
            return d.queues().get(q).ok_or(EINVAL)?.set_irq_cpu(cpu);
        }
        let v = parse_one(input)?;
        let ports = self.ports.lock();
        let d = ports[find(&ports, *id)?].data();
        match index {
            RING_SIZE => d.set_ring_size(v),
            NAPI_WEIGHT => d.set_napi_weight(v),
            RX_FRAMES => d.cfg().set_rx_frames(v),
            RX_USECS => d.cfg().set_rx_usecs(v),
            _ => Err(EIO),
        }
    }
}

/// The module: the sysctl table and the bus with its devices.
pub(crate) struct VnapiModule {
    bus: BusRegistration<VnapiBus>,
    _sysctl: sysctl::Registration,
}

impl kernel::Module for VnapiModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
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
        let bus = BusRegistration::register(
            &BUS,
            try_pin_init!(VnapiBus {
                ports <- new_mutex!(KVec::new(), "vnapi_ports"),
            }),
        )?;
        Ok(Self {
            bus,
            _sysctl: sysctl,
        })
    }
}

impl Drop for VnapiModule {
    fn drop(&mut self) {
        self.bus.ctx().delete_all();
        pr_info!(
            "unloading: live devices {}, live frames {}\n",
            LIVE_DEVICES.load(Ordering::Relaxed),
            LIVE_FRAMES.load(Ordering::Relaxed)
        );
    }
}
