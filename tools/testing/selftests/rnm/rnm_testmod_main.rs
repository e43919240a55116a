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
        net_namespace::{NetRef, PernetData, PernetId, PernetRegistration},
        rcu::RcuArc,
    };
    use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
    use kernel::{
        prelude::*,
        sync::{rcu, Arc},
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

    /// Two types that name the same id, and one whose `id()` changes.
    static SHARED: PernetId = PernetId::new();
    static FIRST: PernetId = PernetId::new();
    static SECOND: PernetId = PernetId::new();
    static FLIPPED: AtomicBool = AtomicBool::new(false);

    struct A(#[allow(dead_code)] u64);
    struct B(#[allow(dead_code)] [u64; 64]);
    struct Fickle;

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

    impl PernetData for Fickle {
        /// `FIRST` when asked at registration, `SECOND` from then on.
        fn id() -> &'static PernetId {
            if FLIPPED.swap(true, Relaxed) {
                &SECOND
            } else {
                &FIRST
            }
        }
        fn new(_net: NetRef<'_>) -> Result<Self> {
            Ok(Fickle)
        }
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

    /// A type whose `id()` names another id in its callbacks than the one
    /// it registered with: the callbacks find no storage, and the
    /// registration fails rather than use an id nobody assigned it.
    fn pernet_id_fickle() -> Result<bool> {
        FLIPPED.store(false, Relaxed);
        let r = errno(PernetRegistration::<Fickle>::register());
        Ok(r == ENOMEM.to_errno())
    }

    /// A case: whether the check held, or the error of a step that should
    /// not fail (an allocation, a registration).
    type Case = fn() -> Result<bool>;

    const CASES: [(&CStr, Case); 4] = [
        (c"rcu_replace_bh", rcu_replace_bh),
        (c"rcu_replace_read_lock", rcu_replace_read_lock),
        (c"pernet_id_owner", pernet_id_owner),
        (c"pernet_id_fickle", pernet_id_fickle),
    ];

    /// The module: nothing once loaded.
    pub(crate) struct TestMod;

    impl kernel::Module for TestMod {
        fn init(_module: &'static ThisModule) -> Result<Self> {
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
            Ok(TestMod)
        }
    }
}
