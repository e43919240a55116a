// SPDX-License-Identifier: GPL-2.0

//! Network devices (`struct net_device`) with typed private data.
//!
//! C header: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h)
//!
//! A driver describes its device with a type `T` implementing
//! [`DeviceOps`] (the `net_device_ops` callbacks) and
//! [`EthtoolOps`](super::ethtool::EthtoolOps).  [`Registration::new`]
//! allocates the `net_device` with `T` as its private data, built by a
//! closure that already sees the device (to add NAPI contexts to it);
//! [`Registration::register`] publishes it; dropping the registration
//! unregisters the device, drops `T` and frees the device.
//!
//! Moving a device into another network namespace (`ip link set DEV netns
//! NS`) needs nothing from the driver: the device is not namespace-local,
//! and when its namespace goes away the core moves it back to the initial
//! namespace (the device has no `rtnl_link_ops`).

use crate::rnm::{
    bindings, bus,
    net::{ethtool, skb::SkBuff},
};
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{error::to_result, prelude::*, types::Opaque};

/// A network device, borrowed.
///
/// # Invariants
///
/// The wrapped `net_device` is valid (allocated, not yet freed) for the
/// lifetime of the reference.
#[repr(transparent)]
pub struct Device(Opaque<bindings::net_device>);

impl Device {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `net_device` that outlives `'a`.
    pub(in crate::rnm) unsafe fn from_raw<'a>(ptr: *mut bindings::net_device) -> &'a Self {
        // SAFETY: `Device` is a transparent wrapper of `net_device`; the
        // caller guarantees validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    pub(in crate::rnm) fn as_raw(&self) -> *mut bindings::net_device {
        self.0.get()
    }

    /// The interface name (`dev->name`).
    pub fn name(&self) -> &CStr {
        // SAFETY: by the type invariant the device is valid; `dev->name` is
        // a NUL-terminated array inside it.  A rename rewrites it under
        // RTNL; the result is for messages only.
        unsafe { CStr::from_char_ptr(bindings::rnm_net_name(self.as_raw()).cast()) }
    }

    /// Whether the interface is up (`netif_running`).
    pub fn is_running(&self) -> bool {
        // SAFETY: the device is valid by the type invariant.
        unsafe { bindings::rnm_net_running(self.as_raw()) }
    }

    /// Whether the carrier is on (`netif_carrier_ok`).
    pub fn carrier_ok(&self) -> bool {
        // SAFETY: the device is valid by the type invariant.
        unsafe { bindings::rnm_net_carrier_ok(self.as_raw()) }
    }

    /// Turns the carrier on (`netif_carrier_on`).
    pub fn carrier_on(&self) {
        // SAFETY: the device is valid by the type invariant.
        unsafe { bindings::netif_carrier_on(self.as_raw()) };
    }

    /// Turns the carrier off (`netif_carrier_off`).
    pub fn carrier_off(&self) {
        // SAFETY: the device is valid by the type invariant.
        unsafe { bindings::netif_carrier_off(self.as_raw()) };
    }

    /// The MTU.
    pub fn mtu(&self) -> u32 {
        // SAFETY: the device is valid by the type invariant.
        unsafe { bindings::rnm_net_mtu(self.as_raw()) }
    }

    /// Number of receive queues the device was allocated with.
    pub fn num_rx_queues(&self) -> u32 {
        // SAFETY: the device is valid by the type invariant.
        unsafe { bindings::rnm_net_num_rx_queues(self.as_raw()) }
    }

    /// Prepares a frame transmitted elsewhere to be received on this
    /// device, as `__dev_forward_skb` does: checks that the device can take
    /// it (up, frame within its MTU), scrubs it (crossing namespaces drops
    /// the socket and marks), sets `skb->dev` and the protocol
    /// (`eth_type_trans`).
    ///
    /// Returns the frame, or `None` if it was dropped (counted in the
    /// device's core `rx_dropped`).
    pub fn forward(&self, skb: SkBuff) -> Option<SkBuff> {
        let raw = skb.into_raw();
        // SAFETY: the device is valid by the type invariant; `raw` is an
        // owned buffer, which `__dev_forward_skb` frees on failure and
        // leaves to us on success.
        let ret = unsafe { bindings::__dev_forward_skb(self.as_raw(), raw) };
        if ret == 0 {
            // SAFETY: on success the reference is still ours.
            unsafe { SkBuff::from_raw(raw) }
        } else {
            None
        }
    }
}

/// Interface counters reported by [`DeviceOps::get_stats64`].
#[derive(Default, Clone, Copy)]
pub struct Stats64 {
    /// Frames received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames dropped on receive.
    pub rx_dropped: u64,
    /// Frames transmitted.
    pub tx_packets: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Frames dropped on transmit.
    pub tx_dropped: u64,
}

/// The `net_device_ops` of a driver; `Self` is the device's private data.
pub trait DeviceOps: ethtool::EthtoolOps + Send + Sync + Sized {
    /// The interface is brought up (`ndo_open`).
    fn open(_dev: &Device, _data: &Self) -> Result {
        Ok(())
    }

    /// The interface is brought down (`ndo_stop`).
    fn stop(_dev: &Device, _data: &Self) -> Result {
        Ok(())
    }

    /// Transmits `skb` (`ndo_start_xmit`).  The frame is consumed: handed
    /// on or dropped (and counted) by the driver.  Called in softirq or
    /// process context with bottom halves disabled, under the RCU read
    /// lock; calls for one transmit queue are serialised by the queue's
    /// transmit lock (the device is not `lltx`).  Never with interrupts
    /// disabled: the device has `IFF_DISABLE_NETPOLL`, so netpoll
    /// (netconsole), which transmits so from any context, refuses it.
    fn start_xmit(dev: &Device, data: &Self, skb: SkBuff);

    /// Reports the interface counters (`ndo_get_stats64`).
    fn get_stats64(_dev: &Device, _data: &Self) -> Stats64 {
        Stats64::default()
    }

    /// Validates a new MTU (`ndo_change_mtu`); on success the MTU is set.
    /// The core has already checked it against the device's limits.
    fn change_mtu(_dev: &Device, _data: &Self, _new_mtu: u32) -> Result {
        Ok(())
    }
}

struct Adapter<T: DeviceOps>(PhantomData<T>);

impl<T: DeviceOps> Adapter<T> {
    /// # Safety
    ///
    /// `dev` must be a device allocated by [`Registration::new`] for `T`
    /// whose private data is initialised (true for every callback).
    unsafe fn parts<'a>(dev: *mut bindings::net_device) -> (&'a Device, &'a T) {
        // SAFETY: by the safety requirements `dev` is valid and its private
        // area holds an initialised `T`, both for as long as callbacks run.
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
    unsafe extern "C" fn open(dev: *mut bindings::net_device) -> c_int {
        // SAFETY: the core calls `ndo_open` on a live, registered device.
        let (d, t) = unsafe { Self::parts(dev) };
        match T::open(d, t) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn stop(dev: *mut bindings::net_device) -> c_int {
        // SAFETY: the core calls `ndo_stop` on a live, registered device.
        let (d, t) = unsafe { Self::parts(dev) };
        match T::stop(d, t) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn start_xmit(
        skb: *mut bindings::sk_buff,
        dev: *mut bindings::net_device,
    ) -> bindings::netdev_tx_t {
        // SAFETY: the core calls `ndo_start_xmit` on a live device.
        let (d, t) = unsafe { Self::parts(dev) };
        // SAFETY: the core hands us its reference to `skb`.
        if let Some(skb) = unsafe { SkBuff::from_raw(skb) } {
            T::start_xmit(d, t, skb);
        }
        bindings::netdev_tx_NETDEV_TX_OK
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn get_stats64(
        dev: *mut bindings::net_device,
        storage: *mut bindings::rtnl_link_stats64,
    ) {
        // SAFETY: the core calls `ndo_get_stats64` on a live device.
        let (d, t) = unsafe { Self::parts(dev) };
        let s = T::get_stats64(d, t);
        // SAFETY: `storage` points to a writable `rtnl_link_stats64`.
        let st = unsafe { &mut *storage };
        st.rx_packets = s.rx_packets;
        st.rx_bytes = s.rx_bytes;
        st.rx_dropped = s.rx_dropped;
        st.tx_packets = s.tx_packets;
        st.tx_bytes = s.tx_bytes;
        st.tx_dropped = s.tx_dropped;
    }

    /// # Safety
    ///
    /// Only called by the C side, as the callback this function is
    /// installed as, with the arguments that callback gets.
    unsafe extern "C" fn change_mtu(dev: *mut bindings::net_device, new_mtu: c_int) -> c_int {
        // SAFETY: the core calls `ndo_change_mtu` under RTNL on a live device.
        let (d, t) = unsafe { Self::parts(dev) };
        let Ok(mtu) = u32::try_from(new_mtu) else {
            return EINVAL.to_errno();
        };
        match T::change_mtu(d, t, mtu) {
            Ok(()) => {
                // SAFETY: `dev` is valid; the core expects the driver to
                // store the new MTU.
                unsafe { bindings::rnm_net_set_mtu(dev, mtu) };
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    const OPS: bindings::net_device_ops = bindings::net_device_ops {
        ndo_open: Some(Self::open),
        ndo_stop: Some(Self::stop),
        ndo_start_xmit: Some(Self::start_xmit),
        ndo_get_stats64: Some(Self::get_stats64),
        ndo_change_mtu: Some(Self::change_mtu),
        ..pin_init::zeroed()
    };

    const fn ops() -> &'static bindings::net_device_ops {
        &Self::OPS
    }
}

/// A network device owned by its driver, with private data `T`.
///
/// # Invariants
///
/// `dev` was allocated by `alloc_netdev_mqs` with room for a `T` in its
/// private area, which holds an initialised `T` until `drop`.  If
/// `registered`, the device is registered.
pub struct Registration<T: DeviceOps> {
    dev: NonNull<bindings::net_device>,
    registered: bool,
    _p: PhantomData<T>,
}

// SAFETY: the registration can be dropped from any thread (in process
// context); `T` is `Send`.
unsafe impl<T: DeviceOps> Send for Registration<T> {}
// SAFETY: `&Registration` gives `&Device` (thread safe by the core's
// locking) and `&T`, which is `Sync`.
unsafe impl<T: DeviceOps> Sync for Registration<T> {}

impl<T: DeviceOps> Registration<T> {
    /// Allocates an Ethernet device named `name` (a `%d` pattern or a
    /// fixed name) with `queues` transmit and receive queues, the offloads
    /// of a software device (checksum, scatter-gather, GSO, as veth), no
    /// qdisc, and a random MAC address.  `init` builds the private data;
    /// it may add NAPI contexts to the device it is given.
    ///
    /// Fails with `EINVAL` if `name` does not fit in `dev->name` (it has
    /// `IFNAMSIZ`, 16, bytes or more: `alloc_netdev_mqs` would `BUG()`),
    /// or `queues` is 0.
    pub fn new(name: &CStr, queues: u32, init: impl FnOnce(&Device) -> Result<T>) -> Result<Self> {
        if name.to_bytes().len() >= bindings::IFNAMSIZ as usize {
            return Err(EINVAL);
        }
        if queues == 0 || core::mem::align_of::<T>() > 32 {
            return Err(EINVAL);
        }
        let size = c_int::try_from(core::mem::size_of::<T>()).map_err(|_| EINVAL)?;
        // SAFETY: `name` is a valid C string; `ether_setup` is a valid
        // setup function; the queue counts are at least one.
        let dev = unsafe {
            bindings::alloc_netdev_mqs(
                size,
                name.as_char_ptr().cast(),
                bindings::NET_NAME_USER as u8,
                Some(bindings::ether_setup),
                queues,
                queues,
            )
        };
        let dev = NonNull::new(dev).ok_or(ENOMEM)?;
        // SAFETY: `dev` is a freshly allocated, unregistered device; the
        // ops tables are `'static`.
        unsafe {
            bindings::rnm_net_set_ops(
                dev.as_ptr(),
                Adapter::<T>::ops(),
                ethtool::Adapter::<T>::ops(),
            );
            bindings::rnm_net_set_sw_features(dev.as_ptr());
            bindings::rnm_net_hw_addr_random(dev.as_ptr());
        }
        // SAFETY: `dev` stays valid until `free_netdev` below or in `drop`.
        let data = match init(unsafe { Device::from_raw(dev.as_ptr()) }) {
            Ok(data) => data,
            Err(e) => {
                // SAFETY: `dev` was never registered and holds no `T`.
                unsafe { bindings::free_netdev(dev.as_ptr()) };
                return Err(e);
            }
        };
        // SAFETY: the private area has room for a `T` (size requested
        // above, 32-byte alignment which `T` does not exceed) and is not
        // initialised yet.
        unsafe {
            bindings::rnm_net_netdev_priv(dev.as_ptr())
                .cast::<T>()
                .write(data)
        };
        // INVARIANT: the private area holds a `T`; not registered.
        Ok(Self {
            dev,
            registered: false,
            _p: PhantomData,
        })
    }

    /// Registers the device, as a child of `parent` in sysfs if given.
    pub fn register<B: bus::Bus>(&mut self, parent: Option<&bus::DeviceRegistration<B>>) -> Result {
        if self.registered {
            return Err(EBUSY);
        }
        if let Some(p) = parent {
            // SAFETY: the device is valid and not registered; the parent
            // device is registered and outlives this call (the caller
            // unregisters the net device before dropping the parent).
            unsafe { bindings::rnm_net_set_parent(self.dev.as_ptr(), p.as_raw()) };
        }
        // SAFETY: the device is valid, set up and not registered.
        to_result(unsafe { bindings::register_netdev(self.dev.as_ptr()) })?;
        // INVARIANT: registration succeeded.
        self.registered = true;
        Ok(())
    }

    /// The device.
    pub fn device(&self) -> &Device {
        // SAFETY: the device lives until `drop` by the type invariant.
        unsafe { Device::from_raw(self.dev.as_ptr()) }
    }

    /// The private data.
    pub fn data(&self) -> &T {
        // SAFETY: the private area holds an initialised `T` until `drop`.
        unsafe { &*bindings::rnm_net_netdev_priv(self.dev.as_ptr()).cast::<T>() }
    }
}

impl<T: DeviceOps> Drop for Registration<T> {
    fn drop(&mut self) {
        let dev = self.dev.as_ptr();
        if self.registered {
            // SAFETY: registered by the type invariant.  Closes the device
            // (`ndo_stop`) and waits until no callback runs any more.
            unsafe { bindings::unregister_netdev(dev) };
        }
        // SAFETY: no callback can run any more and nothing else refers to
        // the private data; it is dropped once, before the device (which
        // NAPI contexts in it still refer to) is freed.
        unsafe {
            core::ptr::drop_in_place(bindings::rnm_net_netdev_priv(dev).cast::<T>());
            bindings::free_netdev(dev);
        }
    }
}
