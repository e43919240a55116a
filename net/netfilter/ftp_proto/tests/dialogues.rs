// SPDX-License-Identifier: GPL-2.0

//! Complete control connections as sent by common servers and clients.
//!
//! The helper never searches the first segment of a direction: no line start is known yet.
//! Every later segment that starts right after a newline is searched.

mod common;

use common::{expect, matched, v4, v6, Conn};
use ftp_proto::{Addr, ExpectAddr, Family, FtpType, Verdict};

#[test]
fn vsftpd_ipv4_passive_and_active() {
    let client = v4([192, 168, 122, 1]);
    let server = v4([192, 168, 122, 10]);
    let mut c = Conn::new(Family::V4, client, server, [0x1000_0001, 0x2000_0001]);

    assert_eq!(c.s("220 (vsFTPd 3.0.3)\r\n"), Verdict::Accept);
    assert_eq!(c.c("USER anonymous\r\n"), Verdict::Accept);
    assert_eq!(c.s("331 Please specify the password.\r\n"), Verdict::Accept);
    assert_eq!(c.c("PASS guest@\r\n"), Verdict::Accept);
    assert_eq!(c.s("230 Login successful.\r\n"), Verdict::Accept);
    assert_eq!(c.c("SYST\r\n"), Verdict::Accept);
    assert_eq!(c.s("215 UNIX Type: L8\r\n"), Verdict::Accept);
    assert_eq!(c.c("TYPE I\r\n"), Verdict::Accept);
    assert_eq!(c.s("200 Switching to Binary mode.\r\n"), Verdict::Accept);
    assert_eq!(c.c("PASV\r\n"), Verdict::Accept);

    let line = "227 Entering Passive Mode (192,168,122,10,156,64).\r\n";
    let (m, daddr) = expect(c.s(line));
    assert_eq!(m.ftype, FtpType::Pasv);
    assert_eq!(m.addr, Addr::V4([192, 168, 122, 10]));
    assert_eq!(m.port, 40000);
    assert_eq!(m.match_off, 27);
    assert_eq!(m.match_len, 21);
    assert_eq!(matched(line, &m), "192,168,122,10,156,64");
    assert_eq!(daddr, ExpectAddr::Peer);

    assert_eq!(c.c("LIST\r\n"), Verdict::Accept);
    assert_eq!(
        c.s("150 Here comes the directory listing.\r\n"),
        Verdict::Accept
    );
    assert_eq!(c.s("226 Directory send OK.\r\n"), Verdict::Accept);

    let line = "PORT 192,168,122,1,195,149\r\n";
    let (m, daddr) = expect(c.c(line));
    assert_eq!(m.ftype, FtpType::Port);
    assert_eq!(m.addr, Addr::V4([192, 168, 122, 1]));
    assert_eq!(m.port, 195 * 256 + 149);
    assert_eq!(m.match_off, 5);
    assert_eq!(matched(line, &m), "192,168,122,1,195,149");
    assert_eq!(daddr, ExpectAddr::Peer);

    assert_eq!(
        c.s("200 PORT command successful. Consider using PASV.\r\n"),
        Verdict::Accept
    );
    assert_eq!(c.c("QUIT\r\n"), Verdict::Accept);
    assert_eq!(c.s("221 Goodbye.\r\n"), Verdict::Accept);
}

#[test]
fn first_segment_of_each_direction_is_not_searched() {
    let mut c = Conn::new(Family::V4, v4([10, 0, 0, 2]), v4([10, 0, 0, 1]), [100, 200]);
    assert_eq!(c.c("PORT 10,0,0,2,4,1\r\n"), Verdict::Accept);
    assert_eq!(
        c.s("227 Entering Passive Mode (10,0,0,1,4,2)\r\n"),
        Verdict::Accept
    );
    // Now both directions know a line start.
    expect(c.c("PORT 10,0,0,2,4,3\r\n"));
    expect(c.s("227 Entering Passive Mode (10,0,0,1,4,4)\r\n"));
}

#[test]
fn vsftpd_ipv6_epsv_and_eprt() {
    let client = v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10]);
    let server = v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x21]);
    let mut c = Conn::new(Family::V6, client, server, [7, 0xffff_ff00]);

    assert_eq!(c.s("220 (vsFTPd 3.0.3)\r\n"), Verdict::Accept);
    assert_eq!(c.c("USER ftp\r\n"), Verdict::Accept);
    assert_eq!(c.s("331 Please specify the password.\r\n"), Verdict::Accept);
    assert_eq!(c.c("PASS ftp@example.org\r\n"), Verdict::Accept);
    assert_eq!(c.s("230 Login successful.\r\n"), Verdict::Accept);
    assert_eq!(c.c("EPSV\r\n"), Verdict::Accept);

    let line = "229 Entering Extended Passive Mode (|||6446|)\r\n";
    let (m, daddr) = expect(c.s(line));
    assert_eq!(m.ftype, FtpType::Epsv);
    assert_eq!(m.addr, Addr::None);
    assert_eq!(m.port, 6446);
    assert_eq!(m.match_off, 36);
    assert_eq!(m.match_len, 8);
    assert_eq!(matched(line, &m), "|||6446|");
    assert_eq!(daddr, ExpectAddr::Peer);

    assert_eq!(c.c("RETR README\r\n"), Verdict::Accept);
    assert_eq!(
        c.s("150 Opening BINARY mode data connection for README (1024 bytes).\r\n"),
        Verdict::Accept
    );
    assert_eq!(c.s("226 Transfer complete.\r\n"), Verdict::Accept);

    let line = "EPRT |2|2001:db8::10|50123|\r\n";
    let (m, daddr) = expect(c.c(line));
    assert_eq!(m.ftype, FtpType::Eprt);
    assert_eq!(m.addr, Addr::V6(client));
    assert_eq!(m.port, 50123);
    assert_eq!(m.match_off, 5);
    assert_eq!(matched(line, &m), "|2|2001:db8::10|50123|");
    assert_eq!(daddr, ExpectAddr::Peer);
    assert_eq!(
        c.s("200 EPRT command successful. Consider using EPSV.\r\n"),
        Verdict::Accept
    );

    // An IPv4 EPRT on an IPv6 connection fails to parse after the pattern matched: dropped.
    assert_eq!(
        c.c("EPRT |1|192.0.2.1|50124|\r\n"),
        Verdict::Drop(FtpType::Eprt)
    );
}

#[test]
fn rfc2428_examples() {
    let mut c = Conn::new(
        Family::V4,
        v4([132, 235, 1, 2]),
        v4([132, 235, 1, 1]),
        [1, 1],
    );
    c.c("USER a\r\n");
    let line = "EPRT |1|132.235.1.2|6275|\r\n";
    let (m, daddr) = expect(c.c(line));
    assert_eq!((m.ftype, m.port), (FtpType::Eprt, 6275));
    assert_eq!(m.addr, Addr::V4([132, 235, 1, 2]));
    assert_eq!(matched(line, &m), "|1|132.235.1.2|6275|");
    assert_eq!(daddr, ExpectAddr::Peer);

    let client = v6([0x1080, 0, 0, 0, 8, 0x800, 0x200c, 0x417a]);
    let mut c = Conn::new(
        Family::V6,
        client,
        v6([0x1080, 0, 0, 0, 0, 0, 0, 1]),
        [1, 1],
    );
    c.c("USER a\r\n");
    let line = "EPRT |2|1080::8:800:200C:417A|5282|\r\n";
    let (m, daddr) = expect(c.c(line));
    assert_eq!((m.ftype, m.port), (FtpType::Eprt, 5282));
    assert_eq!(m.addr, Addr::V6(client));
    assert_eq!(matched(line, &m), "|2|1080::8:800:200C:417A|5282|");
    assert_eq!(daddr, ExpectAddr::Peer);
}

#[test]
fn proftpd_session() {
    let client = v4([10, 0, 0, 9]);
    let server = v4([10, 0, 0, 5]);
    let mut c = Conn::new(Family::V4, client, server, [0xdead_beef, 0x0bad_cafe]);

    assert_eq!(
        c.s("220 ProFTPD Server (Debian) [::ffff:10.0.0.5]\r\n"),
        Verdict::Accept
    );
    assert_eq!(c.c("USER alice\r\n"), Verdict::Accept);
    assert_eq!(c.s("331 Password required for alice\r\n"), Verdict::Accept);
    assert_eq!(c.c("PASS secret\r\n"), Verdict::Accept);
    assert_eq!(c.s("230 User alice logged in\r\n"), Verdict::Accept);
    assert_eq!(c.c("PASV\r\n"), Verdict::Accept);

    let line = "227 Entering Passive Mode (10,0,0,5,195,80).\r\n";
    let (m, _) = expect(c.s(line));
    assert_eq!(m.port, 195 * 256 + 80);
    assert_eq!(matched(line, &m), "10,0,0,5,195,80");

    assert_eq!(c.c("EPSV\r\n"), Verdict::Accept);
    let line = "229 Entering Extended Passive Mode (|||50001|)\r\n";
    let (m, daddr) = expect(c.s(line));
    assert_eq!(
        (m.ftype, m.port, m.addr),
        (FtpType::Epsv, 50001, Addr::None)
    );
    assert_eq!(matched(line, &m), "|||50001|");
    assert_eq!(daddr, ExpectAddr::Peer);

    // Lower-case commands match too.
    let line = "port 10,0,0,9,4,1\r\n";
    let (m, _) = expect(c.c(line));
    assert_eq!((m.ftype, m.port), (FtpType::Port, 1025));
    assert_eq!(matched(line, &m), "10,0,0,9,4,1");
    assert_eq!(c.s("200 PORT command successful\r\n"), Verdict::Accept);

    let line = "eprt |1|10.0.0.9|1026|\r\n";
    let (m, _) = expect(c.c(line));
    assert_eq!((m.ftype, m.port), (FtpType::Eprt, 1026));
    assert_eq!(matched(line, &m), "|1|10.0.0.9|1026|");
    assert_eq!(c.s("200 EPRT command successful\r\n"), Verdict::Accept);
}

#[test]
fn proftpd_ipv6_link_local_eprt() {
    let client = v6([0xfe80, 0, 0, 0, 0x21a, 0x2bff, 0xfe3c, 0x4d5e]);
    let server = v6([0xfe80, 0, 0, 0, 0x21a, 0x2bff, 0xfe3c, 0x0001]);
    let mut c = Conn::new(Family::V6, client, server, [1, 1]);
    c.s("220 ProFTPD Server (Debian) [fe80::21a:2bff:fe3c:1]\r\n");
    c.c("USER bob\r\n");
    let line = "EPRT |2|fe80::21a:2bff:fe3c:4d5e|49152|\r\n";
    let (m, daddr) = expect(c.c(line));
    assert_eq!(m.addr, Addr::V6(client));
    assert_eq!(m.port, 49152);
    assert_eq!(matched(line, &m), "|2|fe80::21a:2bff:fe3c:4d5e|49152|");
    assert_eq!(daddr, ExpectAddr::Peer);
}

#[test]
fn pure_ftpd_session() {
    let client = v4([10, 0, 0, 8]);
    let server = v4([10, 0, 0, 7]);
    let mut c = Conn::new(Family::V4, client, server, [5000, 9000]);

    let banner = "220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n\
                  220-You are user number 1 of 50 allowed.\r\n\
                  220-Local time is now 12:00. Server port: 21.\r\n\
                  220-IPv6 connections are also welcome on this server.\r\n\
                  220 You will be disconnected after 15 minutes of inactivity.\r\n";
    assert_eq!(c.s(banner), Verdict::Accept);
    assert_eq!(c.c("USER carol\r\n"), Verdict::Accept);
    assert_eq!(
        c.s("331 User carol OK. Password required\r\n"),
        Verdict::Accept
    );
    assert_eq!(c.c("PASS pw\r\n"), Verdict::Accept);
    assert_eq!(c.s("230 OK. Current directory is /\r\n"), Verdict::Accept);
    assert_eq!(c.c("PASV\r\n"), Verdict::Accept);

    let line = "227 Entering Passive Mode (10,0,0,7,117,49)\r\n";
    let (m, daddr) = expect(c.s(line));
    assert_eq!(m.port, 30001);
    assert_eq!(m.match_off, 27);
    assert_eq!(matched(line, &m), "10,0,0,7,117,49");
    assert_eq!(daddr, ExpectAddr::Peer);

    assert_eq!(c.c("EPSV\r\n"), Verdict::Accept);
    let line = "229 Extended Passive mode OK (|||30002|)\r\n";
    let (m, _) = expect(c.s(line));
    assert_eq!(m.port, 30002);
    assert_eq!(m.match_off, 30);
    assert_eq!(matched(line, &m), "|||30002|");
}

#[test]
fn pure_ftpd_forced_passive_ip_and_loose() {
    let client = v4([10, 0, 0, 8]);
    let server = v4([10, 0, 0, 7]);
    let mut c = Conn::new(Family::V4, client, server, [5000, 9000]);
    c.s("220 Welcome\r\n");
    c.c("USER x\r\n");
    c.s("230 OK\r\n");

    // The announced address is not the server's: no expectation without `loose`.
    let line = "227 Entering Passive Mode (203,0,113,7,117,50)\r\n";
    match c.s(line) {
        Verdict::NotRecorded(m) => {
            assert_eq!(m.addr, Addr::V4([203, 0, 113, 7]));
            assert_eq!(m.port, 30002);
            assert_eq!(matched(line, &m), "203,0,113,7,117,50");
        }
        other => panic!("unexpected {other:?}"),
    }
    // The line start after it is still recorded.
    c.loose = true;
    let (m, daddr) = expect(c.s("227 Entering Passive Mode (203,0,113,7,117,51)\r\n"));
    assert_eq!(m.port, 30003);
    assert_eq!(daddr, ExpectAddr::Announced(v4([203, 0, 113, 7])));

    // With `loose`, a client may also announce a third host (FXP).
    let (_, daddr) = expect(c.c("PORT 192,0,2,33,4,1\r\n"));
    assert_eq!(daddr, ExpectAddr::Announced(v4([192, 0, 2, 33])));
    c.loose = false;
    assert!(matches!(
        c.c("PORT 192,0,2,33,4,2\r\n"),
        Verdict::NotRecorded(_)
    ));
}

#[test]
fn iis_style_227_replies() {
    let server = v4([10, 1, 2, 3]);
    let mut c = Conn::new(Family::V4, v4([10, 1, 2, 4]), server, [1, 1]);
    assert_eq!(c.s("220 Microsoft FTP Service\r\n"), Verdict::Accept);
    c.c("USER anonymous\r\n");

    let cases: [(&str, &str, u16, usize); 5] = [
        (
            "227 Entering Passive Mode (10,1,2,3,19,137).\r\n",
            "10,1,2,3,19,137",
            19 * 256 + 137,
            27,
        ),
        (
            "227 Entering Passive Mode 10,1,2,3,19,138\r\n",
            "10,1,2,3,19,138",
            19 * 256 + 138,
            26,
        ),
        (
            "227 =10,1,2,3,19,139\r\n",
            "10,1,2,3,19,139",
            19 * 256 + 139,
            5,
        ),
        (
            "227 Entering Passive Mode. 10,1,2,3,19,140\r\n",
            "10,1,2,3,19,140",
            19 * 256 + 140,
            27,
        ),
        (
            "227 10,1,2,3,19,141\r\n",
            "10,1,2,3,19,141",
            19 * 256 + 141,
            4,
        ),
    ];
    for (line, text, port, off) in cases {
        c.c("PASV\r\n");
        let (m, daddr) = expect(c.s(line));
        assert_eq!(m.ftype, FtpType::Pasv, "{line}");
        assert_eq!(m.addr, Addr::V4([10, 1, 2, 3]), "{line}");
        assert_eq!(m.port, port, "{line}");
        assert_eq!(m.match_off, off, "{line}");
        assert_eq!(matched(line, &m), text, "{line}");
        assert_eq!(daddr, ExpectAddr::Peer, "{line}");
    }

    // A 227 without an address is dropped.
    c.c("PASV\r\n");
    assert_eq!(
        c.s("227 Entering Passive Mode\r\n"),
        Verdict::Drop(FtpType::Pasv)
    );
}

#[test]
fn multi_line_replies_and_other_codes() {
    let mut c = Conn::new(Family::V4, v4([10, 0, 0, 2]), v4([10, 0, 0, 1]), [1, 1]);
    c.s("220 hi\r\n");
    c.c("FEAT\r\n");
    // Continuation lines are never searched, whatever they contain.
    assert_eq!(
        c.s("211-Features:\r\n EPRT\r\n EPSV\r\n PASV\r\n211 End\r\n"),
        Verdict::Accept
    );
    assert_eq!(
        c.s("227-Entering Passive Mode (10,0,0,1,4,1)\r\n"),
        Verdict::Accept
    );
    assert_eq!(c.s("228 Entering Long Passive Mode\r\n"), Verdict::Accept);
    assert_eq!(c.s("229-Extended (|||5|)\r\n"), Verdict::Accept);
}

#[test]
fn ipv6_connection_with_ipv4_commands() {
    // PORT and 227 write an IPv4 address over the first four bytes of the IPv6 source
    // address, which then differs from it.
    let client = v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10]);
    let server = v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x21]);
    let mut c = Conn::new(Family::V6, client, server, [1, 1]);
    c.c("USER a\r\n");
    c.s("220 hi\r\n");
    match c.c("PORT 10,0,0,1,4,1\r\n") {
        Verdict::NotRecorded(m) => assert_eq!(m.addr, Addr::V4([10, 0, 0, 1])),
        other => panic!("unexpected {other:?}"),
    }
    c.loose = true;
    let (_, daddr) = expect(c.s("227 Entering Passive Mode (10,0,0,2,4,2)\r\n"));
    let mut mixed = server;
    mixed[..4].copy_from_slice(&[10, 0, 0, 2]);
    assert_eq!(daddr, ExpectAddr::Announced(mixed));

    // An address whose four bytes equal the start of the IPv6 source matches it.
    c.loose = false;
    let (_, daddr) = expect(c.c("PORT 32,1,13,184,4,3\r\n"));
    assert_eq!(daddr, ExpectAddr::Peer);
}
