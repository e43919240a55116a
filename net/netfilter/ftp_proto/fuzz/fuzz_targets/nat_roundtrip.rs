// SPDX-License-Identifier: GPL-2.0

//! Checks that the text NAT writes parses back to the endpoint it announces.
//!
//! The input chooses a command or reply type, the family of the connection, the wording of the
//! line around the text, a port and an address. The text of `nat_text` must be what the C's
//! `snprintf()` formats would print, and, put into a line as a client or server sends it and
//! searched as a packet of the right direction and family, must give back the same type, port
//! and address (as much of it as that command carries), with the match covering exactly the text.

#![no_main]

use ftp_proto::{
    nat_text, search_line, Addr, Direction, Family, FtpMatch, FtpType, Search, NAT_TEXT_MAX,
};
use libfuzzer_sys::fuzz_target;

/// The line around the text: the direction it is sent in and the wordings (start, end).
fn line_parts(ftype: FtpType) -> (Direction, &'static [(&'static str, &'static str)]) {
    match ftype {
        FtpType::Port => (
            Direction::Original,
            &[("PORT ", "\r\n"), ("port ", "\r\n"), ("Port ", "\r\n")],
        ),
        FtpType::Eprt => (Direction::Original, &[("EPRT ", "\r\n"), ("eprt ", "\r\n")]),
        FtpType::Pasv => (
            Direction::Reply,
            &[
                ("227 Entering Passive Mode (", ").\r\n"),
                ("227 Entering Passive Mode (", ")\r\n"),
                ("227 Entering Passive Mode ", "\r\n"),
                ("227 =", "\r\n"),
            ],
        ),
        FtpType::Epsv => (
            Direction::Reply,
            &[
                ("229 Entering Extended Passive Mode (", ")\r\n"),
                ("229 (", ")\r\n"),
            ],
        ),
    }
}

/// The text the C formats of `nf_nat_ftp_fmt_cmd()` print, written with `std::fmt`.
fn reference(ftype: FtpType, family: Family, a: &[u8; 16], port: u16) -> String {
    match (ftype, family) {
        (FtpType::Port | FtpType::Pasv, _) => format!(
            "{},{},{},{},{},{}",
            a[0],
            a[1],
            a[2],
            a[3],
            port >> 8,
            port & 0xff
        ),
        (FtpType::Eprt, Family::V4) => format!("|1|{}.{}.{}.{}|{port}|", a[0], a[1], a[2], a[3]),
        (FtpType::Eprt, Family::V6) => {
            let groups: Vec<String> = a
                .chunks_exact(2)
                .map(|g| format!("{:04x}", u16::from_be_bytes([g[0], g[1]])))
                .collect();
            format!("|2|{}|{port}|", groups.join(":"))
        }
        (FtpType::Epsv, _) => format!("|||{port}|"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let ftype = match sel & 3 {
        0 => FtpType::Port,
        1 => FtpType::Pasv,
        2 => FtpType::Eprt,
        _ => FtpType::Epsv,
    };
    let family = if sel & 4 == 0 { Family::V4 } else { Family::V6 };
    let mut port = [0u8; 2];
    let mut addr = [0u8; 16];
    for (dst, src) in port.iter_mut().chain(addr.iter_mut()).zip(rest) {
        *dst = *src;
    }
    let port = u16::from_be_bytes(port);

    let text = nat_text(ftype, family, &addr, port);
    let text = text.as_bytes();
    assert!(!text.is_empty() && text.len() <= NAT_TEXT_MAX);
    assert_eq!(
        text,
        reference(ftype, family, &addr, port).as_bytes(),
        "{ftype:?} on {family:?}"
    );

    let (dir, wordings) = line_parts(ftype);
    let (start, end) = wordings[usize::from(sel >> 3) % wordings.len()];
    let line = [start.as_bytes(), text, end.as_bytes()].concat();
    let found = search_line(&line, dir, family);

    let v4 = Addr::V4([addr[0], addr[1], addr[2], addr[3]]);
    let expected_addr = match (ftype, family) {
        (FtpType::Port | FtpType::Pasv, _) | (FtpType::Eprt, Family::V4) => v4,
        (FtpType::Eprt, Family::V6) => Addr::V6(addr),
        (FtpType::Epsv, _) => Addr::None,
    };
    // The parsers of EPRT and 229 refuse port 0 (get_port()); nf_nat_ftp() never writes it.
    if port == 0 && matches!(ftype, FtpType::Eprt | FtpType::Epsv) {
        assert_eq!(found, Search::Partial(ftype));
        return;
    }
    assert_eq!(
        found,
        Search::Found(FtpMatch {
            ftype,
            addr: expected_addr,
            port,
            match_off: start.len(),
            match_len: text.len(),
        }),
        "line {:?}",
        String::from_utf8_lossy(&line)
    );
});
