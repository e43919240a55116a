// SPDX-License-Identifier: GPL-2.0

//! rnm_testmod: the contracts of the abstractions that are checked at run
//! time, not by types (Documentation/rnm/soundness.rst, "Checked at run
//! time"), broken on purpose from safe code, as a careless module could.
//!
//! Each case runs at load and logs one KTAP result line; the load fails
//! with `EINVAL` if a case fails.  A case whose check is missing does not
//! just fail: it sleeps in atomic context ("BUG: scheduling while atomic"),
//! deadlocks on its own RCU read-side critical section, or hands the
//! kernel another type's storage, which the kselftest (rnm_testmod.sh) and
//! its kernel log scan catch.
//!
//! By design the module leaks the objects `RcuArc::replace` refuses to
//! free (two small allocations a load): it is a test module, not to be
//! loaded outside a test machine.

use kernel::prelude::*;

#[allow(dead_code)]
#[path = "../../../../rust/rnm/lib.rs"]
mod rnm;

module! {
    type: testmod::TestMod,
    name: "rnm_testmod",
    authors: ["rust-netmods developers"],
    description: "Run-time checks of the rnm abstractions, misused from safe code",
    license: "GPL",
}

mod testmod {
    #![forbid(unsafe_code)]

    use crate::rnm::{
        bh,
        bh::{BhContext, IrqContext},
        bus::{self, Attr, Bus, BusRegistration, BusType, SysfsWriter},
        net::{
            device::{Device, DeviceOps, Napis, Registration, Rtnl, TxQueue},
            ethtool::{Channels, EthtoolOps},
            napi::{Napi, Poll, PollContext, Poller},
            skb::SkBuff,
        },
        net_namespace::{NetRef, PernetData, PernetId, PernetRegistration},
        netfilter::{
            conntrack::ConntrackInfo,
            helper::{self, HelpContext, Helper, HelperNet, Packets, Policy},
            nat::NatHelperRegistration,
            Family, L4Proto, Verdict,
        },
        rcu::RcuArc,
        sysctl::{self, Entry, IntValue},
        sysfs::{Directory, File},
    };
    use core::{
        fmt,
        sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::Relaxed},
    };
    use kernel::{
        new_mutex,
        prelude::*,
        sync::{
            atomic::{self, Atomic},
            rcu, Arc, Mutex,
        },
    };

    /// An object that counts its drops.
    struct Tracked(u32);

    static DROPS: AtomicUsize = AtomicUsize::new(0);

    impl Drop for Tracked {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Relaxed);
        }
    }

    fn tracked(v: u32) -> Result<Arc<Tracked>> {
        Ok(Arc::new(Tracked(v), GFP_KERNEL)?)
    }

    /// `replace` with bottom halves disabled, holding a reference from
    /// `get_in`: the new object is published, the old one neither waited
    /// for (no sleep) nor freed (the reference stays good).
    fn rcu_replace_bh() -> Result<bool> {
        let cell = RcuArc::new();
        let _ = cell.replace(Some(tracked(1)?));
        let new = tracked(2)?;
        let drops = DROPS.load(Relaxed);
        let (returned, held, now) = {
            let bh = bh::disable().ok_or(EINVAL)?;
            let held = cell.get_in(&bh);
            let returned = cell.replace(Some(new)).is_some();
            (returned, held.map(|t| t.0), cell.get_in(&bh).map(|t| t.0))
        };
        let ok = !returned && held == Some(1) && now == Some(2) && DROPS.load(Relaxed) == drops;
        // Process context: waits and returns the object.
        let last = cell.replace(None).map(|t| t.0);
        Ok(ok && last == Some(2))
    }

    /// `replace` under the RCU read lock, holding a reference from `get`:
    /// with preemptible RCU, waiting would never end.
    fn rcu_replace_read_lock() -> Result<bool> {
        let cell = RcuArc::new();
        let _ = cell.replace(Some(tracked(3)?));
        let new = tracked(4)?;
        let drops = DROPS.load(Relaxed);
        let (returned, held) = {
            let guard = rcu::read_lock();
            let held = cell.get(&guard);
            let returned = cell.replace(Some(new)).is_some();
            (returned, held.map(|t| t.0))
        };
        let ok = !returned && held == Some(3) && DROPS.load(Relaxed) == drops;
        let last = cell.replace(None).map(|t| t.0);
        Ok(ok && last == Some(4))
    }

    /// Ids: one that two types name, and two for one type.
    static SHARED: PernetId = PernetId::new();
    static FIRST: PernetId = PernetId::new();
    static SECOND: PernetId = PernetId::new();

    /// How often a `PernetData::new` was called.
    static NEW_CALLS: AtomicUsize = AtomicUsize::new(0);

    struct A(#[allow(dead_code)] u64);
    struct B(#[allow(dead_code)] [u64; 64]);

    impl PernetData for A {
        fn id() -> &'static PernetId {
            &SHARED
        }
        fn new(_net: NetRef<'_>) -> Result<Self> {
            Ok(A(0))
        }
    }

    impl PernetData for B {
        fn id() -> &'static PernetId {
            &SHARED
        }
        fn new(_net: NetRef<'_>) -> Result<Self> {
            Ok(B([0; 64]))
        }
    }

    /// The id a [`Fickle`] registration is made with, and the one its
    /// callbacks then get.
    static MADE_WITH: AtomicU8 = AtomicU8::new(0);
    static CALLBACKS_GET: AtomicU8 = AtomicU8::new(0);
    /// Whether the next call of [`Fickle::id`] is the registration's own.
    static NEXT_IS_REGISTER: AtomicBool = AtomicBool::new(false);

    fn pick(which: &AtomicU8) -> &'static PernetId {
        match which.load(Relaxed) {
            0 => &FIRST,
            1 => &SECOND,
            _ => &SHARED,
        }
    }

    /// A type whose `id()` need not name the same id each time, and whose
    /// values are 64 times the size of `A`'s.
    struct Fickle(#[allow(dead_code)] [u64; 64]);

    /// How many `Fickle` values were dropped.
    static FICKLE_DROPS: AtomicUsize = AtomicUsize::new(0);

    impl Drop for Fickle {
        fn drop(&mut self) {
            FICKLE_DROPS.fetch_add(1, Relaxed);
        }
    }

    impl PernetData for Fickle {
        fn id() -> &'static PernetId {
            if NEXT_IS_REGISTER.swap(false, Relaxed) {
                pick(&MADE_WITH)
            } else {
                pick(&CALLBACKS_GET)
            }
        }
        fn new(_net: NetRef<'_>) -> Result<Self> {
            NEW_CALLS.fetch_add(1, Relaxed);
            Ok(Fickle([0; 64]))
        }
    }

    /// Registers `Fickle` with id `made_with` (0: `FIRST`, 1: `SECOND`, 2:
    /// `SHARED`), its callbacks getting `callbacks_get`.
    fn register_fickle(made_with: u8, callbacks_get: u8) -> Result<PernetRegistration<Fickle>> {
        MADE_WITH.store(made_with, Relaxed);
        CALLBACKS_GET.store(callbacks_get, Relaxed);
        NEXT_IS_REGISTER.store(true, Relaxed);
        PernetRegistration::<Fickle>::register()
    }

    fn errno<T>(r: Result<T>) -> i32 {
        r.err().map_or(0, |e| e.to_errno())
    }

    /// An id serves one registration at a time and one type for good: `B`,
    /// whose values are 64 times the size of `A`'s, never gets `A`'s
    /// storage.
    fn pernet_id_owner() -> Result<bool> {
        let a = PernetRegistration::<A>::register()?;
        let busy_b = errno(PernetRegistration::<B>::register());
        let busy_a = errno(PernetRegistration::<A>::register());
        drop(a);
        let other = errno(PernetRegistration::<B>::register());
        let again = errno(PernetRegistration::<A>::register());
        let e = EBUSY.to_errno();
        Ok(busy_b == e && busy_a == e && other == EINVAL.to_errno() && again == 0)
    }

    /// A type registered with one id whose `id()` names another later: one
    /// not assigned, or one assigned to another type.  The namespace
    /// callbacks use the id the registration was made with: every value
    /// is created, then dropped with the registration (a callback that
    /// asked `id()` again would find no storage, and leave the values,
    /// and their sysctl files, in storage the kernel frees).  And a type
    /// has one id at a time: while it holds one, a registration with
    /// another fails.
    fn pernet_id_fickle() -> Result<bool> {
        // Made with `FIRST`, `id()` names `SECOND` (never assigned) next.
        let (calls, drops) = (NEW_CALLS.load(Relaxed), FICKLE_DROPS.load(Relaxed));
        let held = register_fickle(0, 1)?;
        // Then `SHARED`, held by `A`.
        let a = PernetRegistration::<A>::register()?;
        CALLBACKS_GET.store(2, Relaxed);
        drop(held);
        drop(a);
        let made = NEW_CALLS.load(Relaxed) - calls;
        let all_dropped = made > 0 && FICKLE_DROPS.load(Relaxed) - drops == made;
        // Two ids for one type at once: `HELD`.
        let held = register_fickle(1, 1)?;
        let twice = errno(register_fickle(0, 0)) == EBUSY.to_errno();
        drop(held);
        if !all_dropped {
            pr_err!(
                "Fickle values created: {}, dropped: {}\n",
                made,
                FICKLE_DROPS.load(Relaxed) - drops
            );
        }
        Ok(all_dropped && twice)
    }

    /// A type whose sysctl file shows a `static`, not a part of its
    /// values: in a namespace other than `init_net` the kernel would warn
    /// and fail the namespace's creation.
    struct Global;

    static GLOBAL_ID: PernetId = PernetId::new();
    static GLOBAL_VALUE: IntValue = IntValue::new(1, 0, 2);

    impl PernetData for Global {
        fn id() -> &'static PernetId {
            &GLOBAL_ID
        }
        fn new(_net: NetRef<'_>) -> Result<Self> {
            NEW_CALLS.fetch_add(1, Relaxed);
            Ok(Global)
        }
        fn sysctls(&self) -> Result<Option<(&'static CStr, KVec<Entry<'_>>)>> {
            let mut e = KVec::new();
            e.push(Entry::new(c"global", &GLOBAL_VALUE, 0o644), GFP_KERNEL)?;
            Ok(Some((c"net/rnm_testmod", e)))
        }
    }

    /// A per-namespace sysctl file whose value is a `static`: the
    /// registration fails with `EINVAL` (after `PernetData::new` ran for
    /// `init_net`), where the kernel takes it for `init_net`, and warns and
    /// fails the creation of every other namespace.
    fn pernet_sysctl_global() -> Result<bool> {
        let calls = NEW_CALLS.load(Relaxed);
        let r = PernetRegistration::<Global>::register();
        Ok(errno(r) == EINVAL.to_errno() && NEW_CALLS.load(Relaxed) > calls)
    }

    /// A NAPI context that never has anything to poll.
    struct TestQueue;

    impl Poller for TestQueue {
        fn poll<'a>(_napi: &'a Napi<Self>, ctx: PollContext<'a>) -> Poll<'a> {
            ctx.complete()
        }
        fn completed(_napi: &Napi<Self>, _bh: &BhContext) {}
        fn interrupt(napi: &Napi<Self>, irq: &IrqContext, _remote: bool) {
            napi.schedule(irq);
        }
    }

    /// A net device that drops what it sends, whose `stop` enables its
    /// NAPI contexts again after disabling them: as `rnmt0`, they must be
    /// disabled once it is down all the same (rnm_testmod.sh sees their
    /// threads go).  It also claims `u32::MAX` channels of its one queue:
    /// the core must get at most one, or `ethtool -L rnmt0 combined 1`
    /// loops 2^32 times under RTNL.
    struct Reopener;

    #[vtable]
    impl EthtoolOps for Reopener {
        const DRIVER_NAME: &'static CStr = c"rnm_testmod";

        fn channels(_dev: &Device, _data: &Self) -> Channels {
            Channels {
                max_combined: u32::MAX,
                combined: u32::MAX,
            }
        }
    }

    #[vtable]
    impl DeviceOps for Reopener {
        type Queue = TestQueue;

        fn open(_dev: &Device, _data: &Self, napis: &Napis<TestQueue>, rtnl: &Rtnl) -> Result {
            napis.iter().for_each(|n| n.enable(rtnl));
            Ok(())
        }

        fn stop(_dev: &Device, _data: &Self, napis: &Napis<TestQueue>, rtnl: &Rtnl) -> Result {
            napis.iter().for_each(|n| n.disable(rtnl));
            napis.iter().for_each(|n| n.enable(rtnl));
            Ok(())
        }

        fn start_xmit(
            _dev: &Device,
            _data: &Self,
            skb: SkBuff,
            _txq: &TxQueue<'_>,
            _bh: &BhContext,
        ) {
            drop(skb);
        }

        fn set_channels(
            _dev: &Device,
            _data: &Self,
            _napis: &Napis<TestQueue>,
            _combined: u32,
            _rtnl: &Rtnl,
        ) -> Result {
            Ok(())
        }
    }

    /// A net device whose registration fails after the core listed it:
    /// IPv4 refuses a device named "all" in its `NETDEV_REGISTER` notifier
    /// (`net/ipv4/conf/all` exists), and the core unregisters it again.
    /// Turning its carrier on and off must not hand it to the link watch
    /// (which would hold it past its free), and registering it again must
    /// fail rather than hit the core's `BUG_ON`.
    fn netdev_register_failed() -> Result<bool> {
        let mut reg = Registration::<Reopener>::new(c"all", 1, |nd| {
            nd.add_napi(64, TestQueue)?;
            Ok(Reopener)
        })?;
        let first = reg.register(None::<&bus::Device<TestBus>>).is_err();
        reg.device().carrier_on();
        reg.device().carrier_off();
        let again = errno(reg.register(None::<&bus::Device<TestBus>>));
        drop(reg);
        Ok(first && again == EINVAL.to_errno())
    }

    /// Buses whose attribute files have names sysfs would create and then
    /// fail to list (`EIO` for all of `/sys/bus/NAME`), or have no path
    /// to, or would create twice (the driver core's own, or their own).
    macro_rules! bad_bus {
        ($ty:ident, $bus:ident, $bus_attrs:expr, $dev_attrs:expr) => {
            struct $ty;
            static $bus: BusType<$ty> = BusType::new();
            impl Bus for $ty {
                type DeviceData = ();
                const NAME: &'static CStr = c"rnm_testmod_bad";
                const BUS_ATTRS: &'static [Attr] = $bus_attrs;
                const DEVICE_ATTRS: &'static [Attr] = $dev_attrs;
            }
        };
    }
    bad_bus!(SlashBus, SLASH_BUS, &[Attr::read_only(c"a/b")], &[]);
    bad_bus!(DotsBus, DOTS_BUS, &[], &[Attr::read_only(c"..")]);
    bad_bus!(CoreBus, CORE_BUS, &[Attr::read_only(c"drivers_probe")], &[]);
    bad_bus!(
        TwiceBus,
        TWICE_BUS,
        &[Attr::read_only(c"x"), Attr::write_only(c"x")],
        &[]
    );

    /// Bus registrations with such attribute names fail with `EINVAL`.
    fn bus_bad_names() -> Result<bool> {
        let r = [
            errno(BusRegistration::register(&SLASH_BUS, Ok(SlashBus))),
            errno(BusRegistration::register(&DOTS_BUS, Ok(DotsBus))),
            errno(BusRegistration::register(&CORE_BUS, Ok(CoreBus))),
            errno(BusRegistration::register(&TWICE_BUS, Ok(TwiceBus))),
        ];
        if r.iter().any(|&e| e != EINVAL.to_errno()) {
            pr_err!("bus registrations with bad names: {:?}\n", r);
            return Ok(false);
        }
        Ok(true)
    }

    /// A case: whether the check held, or the error of a step that should
    /// not fail (an allocation, a registration).
    type Case = fn() -> Result<bool>;

    const CASES: [(&CStr, Case); 8] = [
        (c"rcu_replace_bh", rcu_replace_bh),
        (c"rcu_replace_read_lock", rcu_replace_read_lock),
        (c"pernet_id_owner", pernet_id_owner),
        (c"pernet_id_fickle", pernet_id_fickle),
        (c"netdev_register_failed", netdev_register_failed),
        (c"sysctl_bad_names", sysctl_bad_names),
        (c"pernet_sysctl_global", pernet_sysctl_global),
        (c"bus_bad_names", bus_bad_names),
    ];

    static SYSCTL_VALUE: IntValue = IntValue::new(1, 0, 10);

    /// Sysctl files and directories whose names the kernel would register,
    /// then fail to list (`EIO` for the whole directory) or find no path
    /// to: each registration fails with `EINVAL`, and one with good names
    /// succeeds.
    fn sysctl_bad_names() -> Result<bool> {
        for name in [c"", c".", c"..", c"a/b", c"/"] {
            let r = sysctl::Registration::register(
                c"rnm_testmod",
                &[Entry::new(name, &SYSCTL_VALUE, 0o644)],
            );
            if errno(r) != EINVAL.to_errno() {
                pr_err!("sysctl file {:?} was not refused\n", name);
                return Ok(false);
            }
        }
        for path in [c"rnm_testmod/..", c"rnm_testmod//x", c"./rnm_testmod"] {
            let r = sysctl::Registration::register(path, &[Entry::new(c"v", &SYSCTL_VALUE, 0o644)]);
            if errno(r) != EINVAL.to_errno() {
                pr_err!("sysctl directory {:?} was not refused\n", path);
                return Ok(false);
            }
        }
        let good = sysctl::Registration::register(
            c"rnm_testmod",
            &[Entry::new(c"value", &SYSCTL_VALUE, 0o644)],
        );
        Ok(good.is_ok())
    }

    /// A bus whose attributes show more than sysfs takes: `page` a whole
    /// page (`PAGE_SIZE` bytes, one more than a `show` may return),
    /// `sloppy` more than a page through a `Display` that ignores the
    /// errors it gets, `almost` the most a `show` may return.  Reading the
    /// first two fails with `EFBIG`; none makes sysfs warn.
    ///
    /// Writing `drop_nat` drops the NAT helper name of the helper
    /// `rnm_testmod` while the module is live: it must stay registered
    /// (and the module loaded), for tc `act_ct` to give back the module
    /// reference it took through it.
    #[pin_data]
    pub(crate) struct TestBus {
        #[pin]
        nat: Mutex<Option<NatHelperRegistration>>,
    }

    static BUS: BusType<TestBus> = BusType::new();

    /// Shows `n` bytes, ignoring the formatter's errors.
    struct Sloppy(usize);

    impl fmt::Display for Sloppy {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for _ in 0..self.0 {
                let _ = f.write_str("x");
            }
            Ok(())
        }
    }

    impl Bus for TestBus {
        type DeviceData = ();
        const NAME: &'static CStr = c"rnm_testmod";
        const BUS_ATTRS: &'static [Attr] = &[
            Attr::read_only(c"page"),
            Attr::read_only(c"sloppy"),
            Attr::read_only(c"almost"),
            Attr::write_only(c"drop_nat"),
        ];
        const DEVICE_ATTRS: &'static [Attr] = &[];

        fn bus_show(&self, index: usize, out: &mut SysfsWriter<'_>) -> Result {
            let page = kernel::page::PAGE_SIZE;
            match index {
                0 => write!(out, "{:1$}", "", page),
                1 => write!(out, "{}", Sloppy(page + 100)),
                2 => write!(out, "{:1$}", "", page - 1),
                _ => Err(EIO),
            }
        }

        fn bus_store(&self, index: usize, _input: &[u8]) -> Result {
            if index != 3 {
                return Err(EIO);
            }
            let nat = self.nat.lock().take();
            drop(nat.ok_or(ENOENT)?);
            Ok(())
        }
    }

    /// A conntrack helper (`rnm_testmod`, TCP) that is called for every
    /// packet ([`Packets::All`]) and counts the calls, in
    /// `/sys/kernel/rnm_testmod/`: `help_calls` all of them, and
    /// `help_related` those for an `IP_CT_RELATED` packet.  The kselftest
    /// assigns it to a connection with no expectations, whose related
    /// packets can only be ICMP errors: the abstraction must accept those
    /// without calling the helper, whose view of the packet (its TCP header
    /// at `protoff`) would be the ICMP header.
    struct IcmpWatch;

    static HELP_ID: PernetId = PernetId::new();
    static HELP_CALLS: Atomic<u64> = Atomic::new(0);
    static HELP_RELATED: Atomic<u64> = Atomic::new(0);

    struct NoNet;

    impl PernetData for NoNet {
        fn id() -> &'static PernetId {
            &HELP_ID
        }

        fn new(_net: NetRef<'_>) -> Result<Self> {
            Ok(NoNet)
        }
    }

    impl Helper for IcmpWatch {
        type Net = NoNet;
        type Data = ();
        const PACKETS: Packets = Packets::All;

        fn help(ctx: &mut HelpContext<'_>, _net: HelperNet<'_, NoNet>, _data: &mut ()) -> Verdict {
            HELP_CALLS.fetch_add(1, atomic::Relaxed);
            if ctx.ctinfo() == ConntrackInfo::Related {
                HELP_RELATED.fetch_add(1, atomic::Relaxed);
            }
            Verdict::Accept
        }
    }

    /// The module: the bus of the sysfs cases, the device `rnmt0` and the
    /// conntrack helper `rnm_testmod` with its NAT helper name (held by the
    /// bus, dropped before the helper), for the kselftest to use.
    pub(crate) struct TestMod {
        _reopener: Registration<Reopener>,
        _bus: BusRegistration<TestBus>,
        _helper: helper::Registration<IcmpWatch>,
        _counters: Directory,
    }

    impl kernel::Module for TestMod {
        fn init(module: &'static ThisModule) -> Result<Self> {
            pr_info!("1..{}\n", CASES.len());
            let mut failed = 0;
            for (i, (name, case)) in CASES.iter().enumerate() {
                match case() {
                    Ok(true) => pr_info!("ok {} {}\n", i + 1, name),
                    r => {
                        failed += 1;
                        pr_err!("not ok {} {} ({:?})\n", i + 1, name, r.map(|_| ()));
                    }
                }
            }
            if failed != 0 {
                return Err(EINVAL);
            }
            let mut reopener = Registration::<Reopener>::new(c"rnmt0", 1, |nd| {
                nd.add_napi(64, TestQueue)?;
                Ok(Reopener)
            })?;
            reopener.register(None::<&bus::Device<TestBus>>)?;
            let counters = Directory::create(
                c"rnm_testmod",
                &[
                    File::counter(c"help_calls", &HELP_CALLS),
                    File::counter(c"help_related", &HELP_RELATED),
                ],
            )?;
            let helper = helper::Registration::register(
                c"rnm_testmod",
                Family::Ipv4,
                L4Proto::Tcp,
                Policy::new(1, 60)?,
                PernetRegistration::<NoNet>::register()?,
                module,
            )?;
            let nat = NatHelperRegistration::register(&helper, module)?;
            let bus = BusRegistration::register(
                &BUS,
                try_pin_init!(TestBus {
                    nat <- new_mutex!(Some(nat)),
                }? Error),
            )?;
            Ok(TestMod {
                _reopener: reopener,
                _bus: bus,
                _helper: helper,
                _counters: counters,
            })
        }
    }
}
