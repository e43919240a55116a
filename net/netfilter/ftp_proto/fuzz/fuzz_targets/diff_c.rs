// SPDX-License-Identifier: GPL-2.0

//! Runs the C parsers of the kernel source beside `ftp_proto` and fails on any difference.
//!
//! `build.rs` compiles `try_rfc959()`, `try_rfc1123()`, `try_eprt()`, `try_epsv_response()`,
//! `get_port()`, `try_number()`, `get_ipv6_addr()`, `find_pattern()` and the search table of
//! `net/netfilter/nf_conntrack_ftp.c`, and `in4_pton()` / `in6_pton()` of `net/core/utils.c`,
//! from the kernel the modules are built for. Each input goes through every one of them and its
//! Rust mirror, for every search table entry, direction, family and a few terminators and
//! delimiters; return values, lengths, offsets, addresses (as left in `cmd.u3`) and ports must
//! be equal. The search table itself must be `SEARCH`.
//!
//! Where the two may part at one byte or number value (a delimiter range, a limit of 255 or
//! 65535), random mutations seldom hit it: once per run, before the first input, every value
//! of a byte and a list of numbers around the limits goes through a set of template lines.

#![no_main]

use core::ffi::c_int;
use ftp_proto::{
    find_pattern, get_ipv6_addr, get_port, in4_pton, in6_pton, search_line, try_number, Direction,
    Family, FtpType, Parsed, Parser, Search, SEARCH,
};
use libfuzzer_sys::fuzz_target;
use std::fmt::Debug;
use std::sync::Once;

// The C side, behind safe wrappers (all `unsafe` of the project is under `rust/`).
#[path = "../../../../../rust/fuzz/nf_conntrack_ftp_c.rs"]
mod c;

use c::CParsed;

const DIRS: [Direction; 2] = [Direction::Original, Direction::Reply];
const FAMILIES: [Family; 2] = [Family::V4, Family::V6];
const PARSERS: [Parser; 4] = [
    Parser::Rfc959,
    Parser::Rfc1123,
    Parser::Eprt,
    Parser::EpsvResponse,
];

/// The source address `help()` copies into `cmd.u3` before parsing; no byte is zero, so that
/// every byte a parser writes or leaves shows.
fn src_addr(family: Family) -> [u8; 16] {
    let mut src: [u8; 16] = core::array::from_fn(|i| 0xa0 + i as u8);
    if family == Family::V4 {
        src[4..].fill(0);
    }
    src
}

/// Index of the C array of function pointers for `parser`.
fn parser_index(parser: Parser) -> c_int {
    PARSERS.iter().position(|&p| p == parser).unwrap() as c_int
}

/// One input, searched as a payload of a connection of `family` whose packet's direction has
/// source address `src`; safe calls of the wrappers of `c/diff_c.c`.
struct Input<'a> {
    data: &'a [u8],
    family: Family,
    src: [u8; 16],
}

impl Input<'_> {
    /// Fails unless `c` and `rust` are equal.
    fn same<T: Debug + PartialEq>(&self, c: T, rust: T, what: core::fmt::Arguments<'_>) {
        assert_eq!(
            c,
            rust,
            "{what} on {:?}: C left, Rust right; input {:?}",
            self.family,
            String::from_utf8_lossy(self.data)
        );
    }

    /// The C argument parser `parser`, with terminator `term`.
    fn getnum(&self, parser: Parser, term: u8) -> CParsed {
        c::getnum(
            parser_index(parser),
            self.data,
            term,
            self.family.l3num(),
            &self.src,
        )
    }

    /// `find_pattern()` for entry `entry` of `dir`, or with `entry` `None`, the search loop
    /// of `help()` over all entries of `dir`.
    fn find_pattern(&self, dir: Direction, entry: Option<usize>) -> CParsed {
        let (dir, l3num) = (dir.index() as c_int, self.family.l3num());
        match entry {
            Some(i) => c::find_pattern(dir, i, self.data, l3num, &self.src),
            None => c::search(dir, self.data, l3num, &self.src),
        }
    }
}

/// Checks that the search table of the C is `SEARCH`.
fn check_table() {
    let n = c::search_entries();
    for dir in DIRS {
        assert_eq!(n, SEARCH[dir.index()].len(), "search table width");
        for (i, entry) in SEARCH[dir.index()].iter().enumerate() {
            let e = c::search_entry(dir.index() as c_int, i);
            assert_eq!(e.pattern, entry.pattern(), "pattern of {dir:?} {i}");
            assert_eq!(e.skip, entry.skip(), "skip of {dir:?} {i}");
            assert_eq!(e.term, entry.term(), "term of {dir:?} {i}");
            assert_eq!(e.ftype as u32, entry.ftype().value(), "type of {dir:?} {i}");
            assert_eq!(
                e.parser,
                parser_index(entry.parser()),
                "getnum of {dir:?} {i}"
            );
        }
    }
}

/// What a successful parse leaves: the offset and length of the numbers, `cmd.u3` and the
/// port.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    off: usize,
    len: usize,
    addr: [u8; 16],
    port: u16,
}

/// The outcome of a Rust parser, `None` for the C's 0; `src` is `cmd.u3` before parsing.
fn expected(p: Option<Parsed>, src: &[u8; 16]) -> Option<Outcome> {
    p.map(|p| Outcome {
        off: p.off,
        len: p.len,
        addr: p.addr.overlay(src),
        port: p.port,
    })
}

/// The outcome of a C parser.
fn got(r: &CParsed) -> Option<Outcome> {
    (r.ret != 0).then_some(Outcome {
        off: r.off as usize,
        len: r.ret as usize,
        addr: r.addr,
        port: r.port,
    })
}

/// The C's return value of `find_pattern()` (1, 0, -1), the type of the entry that decided
/// (-1: none) and the outcome, for a Rust `Search`.
fn search_expected(s: Search, src: &[u8; 16]) -> (c_int, c_int, Option<Outcome>) {
    match s {
        Search::Found(m) => (
            1,
            m.ftype.value() as c_int,
            Some(Outcome {
                off: m.match_off,
                len: m.match_len,
                addr: m.cmd_addr(src),
                port: m.port,
            }),
        ),
        Search::NotFound => (0, -1, None),
        Search::Partial(t) => (-1, t.value() as c_int, None),
    }
}

/// The same of the C's `find_pattern()` or search loop; `ftype` is the type of the entry
/// when only one was tried.
fn search_got(r: &CParsed, ftype: Option<FtpType>) -> (c_int, c_int, Option<Outcome>) {
    let outcome = Outcome {
        off: r.off as usize,
        len: r.len as usize,
        addr: r.addr,
        port: r.port,
    };
    let ftype = match ftype {
        Some(t) if r.ret != 0 => t.value() as c_int,
        Some(_) => -1,
        None => r.ftype,
    };
    (r.ret, ftype, (r.ret == 1).then_some(outcome))
}

/// The four argument parsers with a few terminators, `find_pattern()` for every entry of the
/// search table, and the search loop of `help()`, for both directions.
fn check_parsers(input: &Input<'_>) {
    let (data, family, src) = (input.data, input.family, &input.src);
    let terms = [b'\r', 0, b')', data.last().copied().unwrap_or(b'|')];
    for parser in PARSERS {
        for term in terms {
            input.same(
                got(&input.getnum(parser, term)),
                expected(parser.parse(data, term, family), src),
                format_args!("{parser:?} term {term:#x}"),
            );
        }
    }
    for dir in DIRS {
        for (i, entry) in SEARCH[dir.index()].iter().enumerate() {
            input.same(
                search_got(&input.find_pattern(dir, Some(i)), Some(entry.ftype())),
                search_expected(find_pattern(data, entry, family), src),
                format_args!("find_pattern {:?}", entry.ftype()),
            );
        }
        input.same(
            search_got(&input.find_pattern(dir, None), None),
            search_expected(search_line(data, dir, family), src),
            format_args!("search {dir:?}"),
        );
    }
}

/// `get_port()` from a few starts, `try_number()` for 6 and 4 numbers and `get_ipv6_addr()`,
/// with a few delimiters.
fn check_numbers(input: &Input<'_>) {
    let data = input.data;
    let delims = [b'|', b'\r', data.first().copied().unwrap_or(b'!')];
    for delim in delims {
        for start in 0..4 {
            let (ret, port) = c::get_port(data, start, delim);
            input.same(
                (ret != 0).then_some((ret as usize, port)),
                get_port(data, start as usize, delim),
                format_args!("get_port from {start} delim {delim:#x}"),
            );
        }

        for (sep, term) in [(b',', delim), (b',', 0), (b'.', delim)] {
            let (ret, a) = c::try_number::<6>(data, sep, term);
            input.same(
                (ret != 0).then(|| (ret as usize, a.map(|v| v as u8))),
                try_number::<6>(data, sep, term),
                format_args!("try_number 6 sep {sep:#x} term {term:#x}"),
            );
            let (ret, a) = c::try_number::<4>(data, sep, term);
            input.same(
                (ret != 0).then(|| (ret as usize, a.map(|v| v as u8))),
                try_number::<4>(data, sep, term),
                format_args!("try_number 4 sep {sep:#x} term {term:#x}"),
            );
        }

        let (ret, addr) = c::get_ipv6_addr(data, delim, [0x55u8; 16]);
        input.same(
            (ret != 0).then_some((addr, ret as usize)),
            get_ipv6_addr(data, delim),
            format_args!("get_ipv6_addr delim {delim:#x}"),
        );
    }
}

/// `in4_pton()` and `in6_pton()` without a delimiter (the C's -1) and with a few.
fn check_pton(input: &Input<'_>) {
    let data = input.data;
    // in4_pton() and in6_pton() take an int length; -1 would mean strlen().
    if c_int::try_from(data.len()).is_err() {
        return;
    }
    let delims = [
        None,
        Some(b'|'),
        data.first().copied(),
        data.last().copied(),
    ];
    for delim in delims {
        let cdelim = delim.map_or(-1, c_int::from);
        input.same(
            c_pton::<4>(data, cdelim),
            in4_pton(data, delim),
            format_args!("in4_pton delim {delim:?}"),
        );
        input.same(
            c_pton::<16>(data, cdelim),
            in6_pton(data, delim),
            format_args!("in6_pton delim {delim:?}"),
        );
    }
}

/// The C's `in6_pton()` (`N` 16) or `in4_pton()` (`N` 4) of the whole of
/// `data`, as `ftp_proto` returns it: the address and the offset of `*end`, or that offset.
fn c_pton<const N: usize>(data: &[u8], delim: c_int) -> Result<([u8; N], usize), usize> {
    let (ret, addr, end) = c::pton::<N>(data, delim);
    if ret != 0 {
        Ok((addr, end))
    } else {
        Err(end)
    }
}

/// Lines and arguments in which `#` stands for one byte, which [`sweep`] sets to every value:
/// the delimiters, terminators and skip characters, the patterns' letters and the digits, which
/// the parsers classify byte by byte. Random mutations seldom hit the one value at which the C
/// and the Rust may part.
const BYTE_TEMPLATES: [&str; 24] = [
    "###6446#",
    "229 Entering Extended Passive Mode (###6446#)\r\n",
    "229#(|||6446|)\r\n",
    "22# (|||6446|)\r\n",
    "|||6#46|",
    "#1#132.235.1.2#6275#",
    "#2#3ffe::1#6275#",
    "EPRT #1#132.235.1.2#6275#\r\n",
    "EPRT #2#::ffff:1.2.3.4#21#\r\n",
    "EPRT |2|1::#|21|\r\n",
    "EPR# |1|1.2.3.4|21|\r\n",
    "EPRT |1|1.2.3.#|21|\r\n",
    "PORT 1,2,3,4,5,6#\n",
    "PORT#1,2,3,4,5,6\r\n",
    "#ORT 1,2,3,4,5,6\r\n",
    "P#RT 1,2,3,4,5,6\r\n",
    "PORT 1,2,3,4,5,#\r\n",
    "227 Entering Passive Mode (1,2,3,4,5,6#\r\n",
    "227 #1,2,3,4,5,6)\r\n",
    "22# (1,2,3,4,5,6)\r\n",
    "1.2.3.4#",
    "1.2.3#4",
    "::ffff:1.2.3.4#",
    "1:2::#3|",
];

/// Lines and arguments in which `#` stands for a number, which [`sweep`] sets to each of
/// [`NUMBERS`]: the limits of the byte, port and group values lie at single values too.
const NUMBER_TEMPLATES: [&str; 14] = [
    "PORT 1,2,3,4,5,#\r\n",
    "PORT #,2,3,4,5,6\r\n",
    "227 Entering Passive Mode (1,2,3,4,#,6)\r\n",
    "EPRT |1|1.2.3.#|21|\r\n",
    "EPRT |1|1.2.3.4|#|\r\n",
    "EPRT |2|::1|#|\r\n",
    "229 (|||#|)\r\n",
    "#.1.1.1|",
    "1.1.1.#",
    "EPRT |2|::ffff:1.1.1.#|21|\r\n",
    "EPRT |2|#::1|21|\r\n",
    "EPRT |2|1:#:3:4:5:6:7:8|21|\r\n",
    "#:1:2:3:4:5:6:7|",
    "1::#",
];

/// Decimal and hexadecimal numbers around the limits of bytes, ports and IPv6 groups.
#[rustfmt::skip]
const NUMBERS: [&str; 36] = [
    "", "0", "1", "9", "00", "000", "0000000000000000001", "10", "99", "100", "254", "255",
    "0255", "256", "0256", "257", "999", "1000", "65534", "65535", "065535", "65536", "65537",
    "99999", "4294967295", "4294967296", "99999999999999999999", "f", "fff", "ffff", "FFFF",
    "0ffff", "10000", "fffff", "1.2.3.4", "256.1.1.1",
];

/// Runs [`check`] on every template with `#` replaced by each byte value and each number.
fn sweep() {
    let bytes = (0..=u8::MAX).map(|b| vec![b]);
    let numbers = NUMBERS.iter().map(|n| n.as_bytes().to_vec());
    let sets: [(&[&str], Vec<Vec<u8>>); 2] = [
        (&BYTE_TEMPLATES, bytes.collect()),
        (&NUMBER_TEMPLATES, numbers.collect()),
    ];
    for (templates, values) in sets {
        for t in templates {
            for v in &values {
                let mut line = Vec::new();
                for (i, part) in t.split('#').enumerate() {
                    if i != 0 {
                        line.extend_from_slice(v);
                    }
                    line.extend_from_slice(part.as_bytes());
                }
                check(&line);
            }
        }
    }
}

/// All checks of one input, on connections of both families.
fn check(data: &[u8]) {
    for family in FAMILIES {
        let input = Input {
            data,
            family,
            src: src_addr(family),
        };
        check_parsers(&input);
        // These do not depend on the family.
        if family == Family::V4 {
            check_numbers(&input);
            check_pton(&input);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    static SWEEP: Once = Once::new();
    SWEEP.call_once(|| {
        check_table();
        sweep();
    });
    check(data);
});
