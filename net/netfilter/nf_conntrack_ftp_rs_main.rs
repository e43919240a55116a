// SPDX-License-Identifier: GPL-2.0

//! FTP connection tracking helper, a drop-in replacement for
//! `nf_conntrack_ftp`.
//!
//! The helper follows FTP control connections, finds the data connections
//! announced by `PORT` and `EPRT` (active mode, from the client) and by the
//! `227` and `229` replies to `PASV` and `EPSV` (passive mode, from the
//! server), and creates a conntrack expectation for each, so that a
//! firewall accepting only `ct state established,related` lets exactly
//! those data connections through.
//!
//! Behind NAT (nftables or iptables `masquerade`, `snat`, `dnat`), it also
//! does what `nf_nat_ftp` does: the address and port of each announcement
//! are rewritten to those of the other side of the NAT, and the data
//! connection is NATed as the control connection is.  That part needs
//! `nf_nat`, which loads with this module.
//!
//! The protocol logic (parsers, line tracking, the decision of `help()`)
//! is the `ftp_proto` crate in `net/netfilter/ftp_proto/`; this module ties
//! it to conntrack.  See `Documentation/rnm/nf_conntrack_ftp_rs.rst`.

use kernel::prelude::*;

#[allow(dead_code)]
#[path = "../../rust/rnm/lib.rs"]
mod rnm;

#[allow(dead_code, unused_attributes, unreachable_pub)]
#[path = "ftp_proto/src/lib.rs"]
mod ftp_proto;

module! {
    type: ftp::FtpHelper,
    name: "nf_conntrack_ftp_rs",
    authors: ["rust-netmods developers"],
    description: "FTP connection tracking helper",
    license: "GPL",
    alias: ["nfct-helper-ftp", "ip_nat_ftp"],
    params: {
        loose: bool {
            default: false,
            description: "Also expect data connections to an address other than the \
                          sender's (like nf_conntrack_ftp's loose)",
        },
        alt_name: bool {
            default: false,
            description: "Register as helper \"ftp-rs\" instead of \"ftp\", to run beside \
                          nf_conntrack_ftp",
        },
    },
}

mod ftp {
    #![forbid(unsafe_code)]

    use crate::ftp_proto::{self as proto, SeqTracker, Verdict as ProtoVerdict};
    use crate::rnm::net_namespace::{NetRef, PernetData, PernetId, PernetRegistration};
    use crate::rnm::netfilter::{
        conntrack::{Conn, Direction},
        expect::{ExpectError, ExpectTuple, Expectation, Initialised, Related},
        helper::{HelpContext, Helper, HelperNet, Packets, Policy, Registration, TcpSegmentInfo},
        nat::{Nat, NatHelperRegistration},
        Family, L4Proto, Verdict,
    };
    use crate::rnm::sysctl::{Entry, IntValue};
    use crate::rnm::sysfs::{Directory, File};
    use core::mem::MaybeUninit;
    use kernel::{
        prelude::*,
        sync::{
            atomic::{Atomic, Relaxed},
            SetOnce,
        },
        time::{Instant, Monotonic},
    };

    /// The helper name nftables and iptables rulesets use.
    const HELPER_NAME: &CStr = c"ftp";
    /// The name used with `alt_name=1`.
    const ALT_HELPER_NAME: &CStr = c"ftp-rs";

    /// Expectations per control connection (`max_expected` of
    /// `nf_conntrack_ftp`): 1..=255, default 1.
    const MAX_EXPECTED: (i32, i32, i32) = (1, 1, 255);
    /// Lifetime of an expectation in seconds: 1..=86400, default 300.
    const EXPECT_TIMEOUT: (i32, i32, i32) = (300, 1, 86400);

    /// The policy of `max_expected` and `timeout`, for `const` items only:
    /// an invalid one fails to compile there.
    const fn const_policy(max_expected: i32, timeout: i32) -> Policy {
        match Policy::new(max_expected as u8, timeout as u32) {
            Ok(p) => p,
            Err(_) => panic!("invalid expectation policy"),
        }
    }

    /// The policy of a namespace whose sysctls have their defaults.
    const DEFAULT_POLICY: Policy = const_policy(MAX_EXPECTED.0, EXPECT_TIMEOUT.0);

    /// The policy registered with the helper, never changed afterwards:
    /// the largest `max_expected` any namespace may set (the ceiling the
    /// core enforces, each namespace's own limit being enforced by
    /// `Expectation::related`), and the default timeout, which the
    /// expectations created through ctnetlink for FTP connections get.
    const HELPER_POLICY: Policy = const_policy(MAX_EXPECTED.2, EXPECT_TIMEOUT.0);

    // Every value the sysctls accept makes a valid policy.
    const _: () = assert!(MAX_EXPECTED.1 >= 1 && MAX_EXPECTED.2 <= u8::MAX as i32);
    const _: () = assert!(EXPECT_TIMEOUT.1 >= 1 && EXPECT_TIMEOUT.2 as u32 <= Policy::MAX_TIMEOUT);

    static NET_ID: PernetId = PernetId::new();

    /// The limits of one network namespace, published as
    /// `net.netfilter.nf_conntrack_ftp_rs.*`.
    struct FtpNet {
        max_expected: IntValue,
        expect_timeout: IntValue,
        /// The module parameter `loose`, which cannot change after the
        /// module is loaded, read once here rather than for every packet.
        loose: bool,
    }

    impl PernetData for FtpNet {
        fn id() -> &'static PernetId {
            &NET_ID
        }

        fn new(_net: NetRef<'_>) -> Result<Self> {
            Ok(Self {
                max_expected: IntValue::new(MAX_EXPECTED.0, MAX_EXPECTED.1, MAX_EXPECTED.2),
                expect_timeout: IntValue::new(EXPECT_TIMEOUT.0, EXPECT_TIMEOUT.1, EXPECT_TIMEOUT.2),
                loose: crate::module_parameters::loose.value(),
            })
        }

        fn sysctls(&self) -> Result<Option<(&'static CStr, KVec<Entry<'_>>)>> {
            let mut entries = KVec::with_capacity(2, GFP_KERNEL)?;
            entries.push(
                Entry::new(c"max_expected", &self.max_expected, 0o644),
                GFP_KERNEL,
            )?;
            entries.push(
                Entry::new(c"expect_timeout", &self.expect_timeout, 0o644),
                GFP_KERNEL,
            )?;
            Ok(Some((c"net/netfilter/nf_conntrack_ftp_rs", entries)))
        }
    }

    impl FtpNet {
        /// The limits of the namespace's next expectation.
        fn policy(&self) -> Policy {
            // Always valid: see the assertions on the sysctls' ranges.
            u8::try_from(self.max_expected.get())
                .ok()
                .zip(u32::try_from(self.expect_timeout.get()).ok())
                .and_then(|(max, timeout)| Policy::new(max, timeout).ok())
                .unwrap_or(DEFAULT_POLICY)
        }
    }

    /// Event counters of the helper.
    pub(crate) struct Counters {
        /// Expectations registered.
        pub(crate) created: Atomic<u64>,
        /// Expectations that replaced an older one of the same control
        /// connection because it had `max_expected` already.
        pub(crate) evicted: Atomic<u64>,
        /// Commands and replies whose address is not the sender's (not
        /// expected unless `loose`).
        pub(crate) bounce: Atomic<u64>,
        /// Expectations refused because the namespace's expectation table
        /// was full.
        pub(crate) table_full: Atomic<u64>,
        /// Expectations refused for another reason (clash, no memory).
        pub(crate) failed: Atomic<u64>,
        /// Lines that started like a command or reply but did not parse
        /// (the packet is dropped, as by `nf_conntrack_ftp`).
        pub(crate) parse_errors: Atomic<u64>,
        /// Announcements rewritten for NAT.
        pub(crate) nat_rewritten: Atomic<u64>,
        /// Packets dropped behind NAT because no port was free for the
        /// data connection.
        pub(crate) nat_no_port: Atomic<u64>,
        /// Packets dropped behind NAT because the announcement could not be
        /// rewritten.
        pub(crate) nat_mangle_failed: Atomic<u64>,
    }

    pub(crate) static COUNTERS: Counters = Counters {
        created: Atomic::new(0),
        evicted: Atomic::new(0),
        bounce: Atomic::new(0),
        table_full: Atomic::new(0),
        failed: Atomic::new(0),
        parse_errors: Atomic::new(0),
        nat_rewritten: Atomic::new(0),
        nat_no_port: Atomic::new(0),
        nat_mangle_failed: Atomic::new(0),
    };

    fn inc(c: &Atomic<u64>) {
        c.fetch_add(1, Relaxed);
    }

    /// At most `BURST` messages per `INTERVAL_MS` (the defaults of the
    /// kernel's `printk_ratelimit()`).
    struct RateLimit {
        start_ms: Atomic<i64>,
        printed: Atomic<u32>,
    }

    const INTERVAL_MS: i64 = 5000;
    const BURST: u32 = 10;

    static LOAD_TIME: SetOnce<Instant<Monotonic>> = SetOnce::new();
    static LOG_LIMIT: RateLimit = RateLimit {
        start_ms: Atomic::new(0),
        printed: Atomic::new(0),
    };

    impl RateLimit {
        fn allow(&self) -> bool {
            let now = LOAD_TIME.as_ref().map_or(0, |t| t.elapsed().as_millis());
            let start = self.start_ms.load(Relaxed);
            if now - start >= INTERVAL_MS && self.start_ms.cmpxchg(start, now, Relaxed).is_ok() {
                self.printed.store(0, Relaxed);
            }
            self.printed.fetch_add(1, Relaxed) < BURST
        }
    }

    /// The helper's per-connection state (`struct nf_ct_ftp_master`).
    #[derive(Clone, Copy, Default)]
    pub(crate) struct FtpConn {
        tracker: SeqTracker,
    }

    fn proto_dir(dir: Direction) -> proto::Direction {
        match dir {
            Direction::Original => proto::Direction::Original,
            Direction::Reply => proto::Direction::Reply,
        }
    }

    /// Payloads up to this long, bytes, are copied for the parser, not made
    /// linear: control commands and replies are a few dozen bytes.
    const COPY_MAX: usize = 256;

    /// The payload of the packet being helped: the header's view of it for
    /// every segment, the bytes only for those the parser reads (copied
    /// into `buf` if they fit, else made linear in the packet).
    struct SkbPayload<'a, 'b> {
        ctx: &'a mut HelpContext<'b>,
        info: TcpSegmentInfo,
        buf: [MaybeUninit<u8>; COPY_MAX],
    }

    impl proto::Payload for SkbPayload<'_, '_> {
        type Error = Error;

        fn seq(&self) -> u32 {
            self.info.seq
        }

        fn len(&self) -> usize {
            self.info.len
        }

        #[inline]
        fn last(&self) -> u8 {
            // Only for a segment that has payload (the parser asks for it
            // no other time), whose last byte is always there.
            self.ctx.tcp_last_byte().ok().flatten().unwrap_or(0)
        }

        #[inline]
        fn bytes(&mut self) -> Result<&[u8]> {
            if self.info.len <= COPY_MAX {
                Ok(self.ctx.tcp_payload_copy(&mut self.buf)?.data)
            } else {
                Ok(self.ctx.tcp_payload()?.data)
            }
        }
    }

    /// What the parser reads of the connection, each when it needs it.
    struct ConnView<'a> {
        conn: Conn<'a>,
        dir: Direction,
        net: HelperNet<'a, FtpNet>,
    }

    impl proto::ConnInfo for ConnView<'_> {
        fn family(&self) -> proto::Family {
            // The helper is registered for IPv4 and IPv6 only, and conntrack
            // attaches it to connections of those families only.
            match self.conn.family() {
                Some(Family::Ipv6) => proto::Family::V6,
                _ => proto::Family::V4,
            }
        }

        fn src(&self) -> [u8; 16] {
            self.conn.tuple(self.dir).src
        }

        fn loose(&self) -> bool {
            self.net
                .get()
                .map_or_else(|| crate::module_parameters::loose.value(), |n| n.loose)
        }
    }

    struct Ftp;

    impl Helper for Ftp {
        type Net = FtpNet;
        type Data = FtpConn;

        // Until there has been traffic both ways, don't look in packets;
        // nor in those without payload.
        const PACKETS: Packets = Packets::EstablishedTcpPayload;

        #[inline]
        fn help(
            ctx: &mut HelpContext<'_>,
            net: HelperNet<'_, FtpNet>,
            conn: &mut FtpConn,
        ) -> Verdict {
            let dir = ctx.direction();
            let saved = conn.tracker;
            let Ok(info) = ctx.tcp_segment_info() else {
                return Verdict::Accept;
            };
            let view = ConnView {
                conn: *ctx.conn(),
                dir,
                net,
            };
            let mut payload = SkbPayload {
                ctx: &mut *ctx,
                info,
                buf: [MaybeUninit::uninit(); COPY_MAX],
            };
            let verdict =
                match proto::help_lazy(&mut conn.tracker, &mut payload, proto_dir(dir), &view) {
                    Ok(verdict) => verdict,
                    Err(e) => {
                        conn.tracker = saved;
                        return if e == ENOMEM {
                            Verdict::Drop
                        } else {
                            Verdict::Accept
                        };
                    }
                };

            match verdict {
                ProtoVerdict::Accept => Verdict::Accept,
                ProtoVerdict::Drop(ftype) => {
                    inc(&COUNTERS.parse_errors);
                    if LOG_LIMIT.allow() {
                        pr_info!(
                            "dropping packet: partial matching of `{}'\n",
                            ftype.pattern()
                        );
                    }
                    Verdict::Drop
                }
                ProtoVerdict::NotRecorded(found) => {
                    inc(&COUNTERS.bounce);
                    if LOG_LIMIT.allow() {
                        pr_info!(
                            "{} announces another address than the sender's: not expected\n",
                            found.ftype.pattern().trim_end()
                        );
                    }
                    Verdict::Accept
                }
                ProtoVerdict::Expect { found, daddr } => {
                    let pfamily = proto::ConnInfo::family(&view);
                    let exp = match Expectation::alloc(ctx) {
                        Ok(exp) => exp,
                        Err(_) => {
                            // As the C: the line start is not recorded.
                            conn.tracker = saved;
                            inc(&COUNTERS.failed);
                            return Verdict::Drop;
                        }
                    };
                    // The data connection goes the other way: from the peer
                    // to the sender of the command.
                    let other = ctx.conn().tuple(dir.reverse());
                    let dst = match daddr {
                        proto::ExpectAddr::Peer => other.dst,
                        proto::ExpectAddr::Announced(a) => a,
                    };
                    let exp = exp.init(&ExpectTuple {
                        src: Some(other.src),
                        dst,
                        sport: None,
                        dport: found.port,
                    });
                    // The limits of the connection's namespace.
                    let policy = net.get().map_or(DEFAULT_POLICY, FtpNet::policy);
                    if let Some(mut nat) = ctx.nat() {
                        return expect_nat(&mut nat, exp, policy, &found, pfamily);
                    }
                    match exp.related(Some(policy)) {
                        Ok(related) => expected(related),
                        Err(err) => expect_failed(err),
                    }
                }
            }
        }

        fn restored(conn: &mut FtpConn) {
            // Connections injected from user space: pick up line tracking
            // on the next packet of each direction.
            conn.tracker.set_pickup();
        }
    }

    /// Counts a registered expectation.
    fn expected(related: Related) -> Verdict {
        inc(&COUNTERS.created);
        // (Seldom any: an atomic add is a call to C.)
        if related.evicted != 0 {
            COUNTERS
                .evicted
                .fetch_add(u64::from(related.evicted), Relaxed);
        }
        Verdict::Accept
    }

    /// Counts and logs an expectation that could not be registered; the
    /// packet is dropped (can't expect this?  Best to drop it now).
    fn expect_failed(err: ExpectError) -> Verdict {
        match err {
            ExpectError::TableFull => inc(&COUNTERS.table_full),
            ExpectError::NoFreePort => inc(&COUNTERS.nat_no_port),
            _ => inc(&COUNTERS.failed),
        }
        if LOG_LIMIT.allow() {
            if err == ExpectError::NoFreePort {
                pr_info!("dropping packet: all ports in use\n");
            } else {
                pr_info!("dropping packet: cannot add expectation: {:?}\n", err);
            }
        }
        Verdict::Drop
    }

    /// Behind NAT (`nf_nat_ftp()`): registers the expectation so that the
    /// data connection is NATed as the control connection, on a port free
    /// on the receiver's side, and rewrites the announcement to the address
    /// and port the receiver must use.
    fn expect_nat<'a>(
        nat: &mut Nat<'_, 'a>,
        exp: Expectation<'a, Initialised>,
        policy: Policy,
        found: &proto::FtpMatch,
        family: proto::Family,
    ) -> Verdict {
        // The data connection comes from wherever this packet goes.
        let addr = nat.announce_addr();
        let exp = match nat.expect_related(exp, Some(policy)) {
            Ok(exp) => exp,
            Err(err) => return expect_failed(err),
        };
        let text = proto::nat_text(found.ftype, family, &addr, exp.port());
        match exp.mangle(found.match_off, found.match_len, text.as_bytes()) {
            Ok(related) => {
                inc(&COUNTERS.nat_rewritten);
                expected(related)
            }
            Err(err) => {
                inc(&COUNTERS.nat_mangle_failed);
                if LOG_LIMIT.allow() {
                    pr_info!("dropping packet: cannot mangle packet: {:?}\n", err);
                }
                Verdict::Drop
            }
        }
    }

    /// The module: the registered helper, which owns the per-namespace
    /// limits it reads, and the counters it writes (dropped after it:
    /// field order; they are `static`, the directory only shows them).
    pub(crate) struct FtpHelper {
        _nat: NatHelperRegistration,
        _helper: Registration<Ftp>,
        _counters: Directory,
    }

    impl kernel::Module for FtpHelper {
        fn init(module: &'static ThisModule) -> Result<Self> {
            LOAD_TIME.populate(Instant::now());
            let name = if crate::module_parameters::alt_name.value() {
                ALT_HELPER_NAME
            } else {
                HELPER_NAME
            };
            let counters = Directory::create(
                c"nf_conntrack_ftp_rs",
                &[
                    File::counter(c"expect_created", &COUNTERS.created),
                    File::counter(c"expect_evicted", &COUNTERS.evicted),
                    File::counter(c"bounce_refused", &COUNTERS.bounce),
                    File::counter(c"table_full", &COUNTERS.table_full),
                    File::counter(c"expect_failed", &COUNTERS.failed),
                    File::counter(c"parse_errors", &COUNTERS.parse_errors),
                    File::counter(c"nat_rewritten", &COUNTERS.nat_rewritten),
                    File::counter(c"nat_no_port", &COUNTERS.nat_no_port),
                    File::counter(c"nat_mangle_failed", &COUNTERS.nat_mangle_failed),
                ],
            )?;
            let net = PernetRegistration::<FtpNet>::register()?;
            let helper = Registration::<Ftp>::register(
                name,
                Family::Unspec,
                L4Proto::Tcp,
                HELPER_POLICY,
                net,
                module,
            )
            .inspect_err(|e| {
                if *e == EBUSY {
                    pr_err!(
                        "conntrack helper \"{}\" is already registered (nf_conntrack_ftp \
                         loaded?); load with alt_name=1 to register \"{}\"\n",
                        name.to_str().unwrap_or("?"),
                        ALT_HELPER_NAME.to_str().unwrap_or("?")
                    );
                } else {
                    pr_err!("cannot register conntrack helper: {:?}\n", e);
                }
            })?;
            // After the helper, whose NAT module name it copies.
            let nat = NatHelperRegistration::register(&helper, module)?;
            pr_info!(
                "registered conntrack helper \"{}\"\n",
                name.to_str().unwrap_or("?")
            );
            Ok(Self {
                _nat: nat,
                _helper: helper,
                _counters: counters,
            })
        }
    }
}
