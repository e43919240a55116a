// SPDX-License-Identifier: GPL-2.0

//! Protocol logic of the FTP connection tracking helper.
//!
//! This crate holds everything of `net/netfilter/nf_conntrack_ftp.c` that does not touch kernel
//! objects: the parsers of the `PORT` and `EPRT` commands and of the `227` and `229` replies, the
//! per-direction search table, `find_pattern()`, the tracking of the sequence numbers at which a
//! line starts (`find_nl_seq()` / `update_nl_seq()`), and the decision taken by `help()` once a
//! command has been parsed (including the `loose` module parameter). It also holds the text NAT
//! writes in place of the announced address and port ([`nat_text`], mirroring
//! `nf_nat_ftp_fmt_cmd()` of `net/netfilter/nf_nat_ftp.c`).
//!
//! Every function mirrors the acceptance rules of the C code byte for byte, including its
//! quirks, because the match offset and length are handed to NAT, which rewrites exactly that
//! part of the packet. The C function each item mirrors is named in its documentation.
//!
//! The crate uses `core` only, never allocates and contains no `unsafe` code, so that the kernel
//! module can include this file as a module; it is also built as an ordinary crate for the unit
//! tests, the integration tests and the fuzzer.
//!
//! When this file is included as a module, the crate-level `no_std` attribute has no effect and
//! triggers the `unused_attributes` lint; the including `mod` item should allow it. A file
//! included with `#[path]` owns its directory, so its submodules (`src/nat.rs`) are found next
//! to it either way.
//!
//! Addresses are handled as the bytes of `union nf_inet_addr` (`all`, 16 bytes, network order):
//! an IPv4 address occupies the first four bytes and the remaining twelve are zero.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod nat;

// Included into the kernel module as a private module, whose code need not use all of these.
#[allow(unused_imports)]
pub use nat::{nat_text, NatText, NAT_TEXT_MAX};

/// Number of line-start sequence numbers remembered per direction (`NUM_SEQ_TO_REMEMBER`).
pub const NUM_SEQ_TO_REMEMBER: usize = 2;

/// `NF_CT_FTP_SEQ_PICKUP`: pick up sequence tracking on the next packet of a direction.
pub const NF_CT_FTP_SEQ_PICKUP: u16 = 1 << 0;

/// `PF_INET`, the value of `nf_ct_l3num()` for an IPv4 connection.
pub const PF_INET: u16 = 2;

/// `PF_INET6`, the value of `nf_ct_l3num()` for an IPv6 connection.
pub const PF_INET6: u16 = 10;

/// Direction of a packet within the control connection (`enum ip_conntrack_dir`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `IP_CT_DIR_ORIGINAL`: from the client, which opened the control connection.
    Original = 0,
    /// `IP_CT_DIR_REPLY`: from the server.
    Reply = 1,
}

impl Direction {
    /// The index of this direction in the C arrays (`IP_CT_DIR_ORIGINAL` = 0, `IP_CT_DIR_REPLY`
    /// = 1).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The opposite direction (the C's `!dir`).
    pub const fn reverse(self) -> Self {
        match self {
            Direction::Original => Direction::Reply,
            Direction::Reply => Direction::Original,
        }
    }
}

/// Layer 3 family of the control connection (`nf_ct_l3num(ct)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (`PF_INET`).
    V4,
    /// IPv6 (`PF_INET6`).
    V6,
}

impl Family {
    /// The protocol family number the C stores in `cmd.l3num`.
    pub const fn l3num(self) -> u16 {
        match self {
            Family::V4 => PF_INET,
            Family::V6 => PF_INET6,
        }
    }
}

/// Kind of command or reply that announced a data connection (`enum nf_ct_ftp_type`).
///
/// The discriminants are the values of the UAPI enum, which NAT receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FtpType {
    /// `NF_CT_FTP_PORT`: `PORT` command from the client.
    Port = 0,
    /// `NF_CT_FTP_PASV`: `227` reply to `PASV` from the server.
    Pasv = 1,
    /// `NF_CT_FTP_EPRT`: `EPRT` command from the client.
    Eprt = 2,
    /// `NF_CT_FTP_EPSV`: `229` reply to `EPSV` from the server.
    Epsv = 3,
}

impl FtpType {
    /// The value of `enum nf_ct_ftp_type` for this type.
    pub const fn value(self) -> u32 {
        self as u32
    }

    /// The pattern of the search table entry of this type, as the C logs it on a partial match.
    pub const fn pattern(self) -> &'static str {
        match self {
            FtpType::Port => "PORT",
            FtpType::Pasv => "227 ",
            FtpType::Eprt => "EPRT",
            FtpType::Epsv => "229 ",
        }
    }
}

/// Address carried by a command or reply, as the C writes it into `cmd.u3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Addr {
    /// An IPv4 address (`PORT`, `227`, `EPRT |1|`); the C writes it to `cmd.u3.ip`, the first
    /// four bytes of the address, whatever the family of the connection.
    V4([u8; 4]),
    /// An IPv6 address (`EPRT |2|`), written to all of `cmd.u3.ip6`.
    V6([u8; 16]),
    /// No address (`229`): `cmd.u3` keeps the source address of the packet's direction.
    None,
}

impl Addr {
    /// Returns the 16 bytes of `cmd.u3.all` after the parser has written this address over
    /// `src`, the source address of the packet's direction (`ct->tuplehash[dir].tuple.src.u3`)
    /// that `help()` copies into `cmd.u3` before parsing.
    pub fn overlay(&self, src: &[u8; 16]) -> [u8; 16] {
        let mut all = *src;
        match self {
            Addr::V4(a) => all[..4].copy_from_slice(a),
            Addr::V6(a) => all = *a,
            Addr::None => {}
        }
        all
    }
}

/// Result of one of the argument parsers (the `getnum` functions of the C search table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Parsed {
    /// Number of bytes skipped before the numbers start; non-zero only for `try_rfc1123()`,
    /// which adds it to the match offset.
    pub off: usize,
    /// Length of the matched numbers, counted from `off` (the C's return value).
    pub len: usize,
    /// The address written to `cmd.u3`.
    pub addr: Addr,
    /// The port written to `cmd.u.tcp.port`, in host byte order.
    pub port: u16,
}

/// A command or reply found by [`search_line`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FtpMatch {
    /// Which entry of the search table matched.
    pub ftype: FtpType,
    /// The announced address.
    pub addr: Addr,
    /// The announced port, in host byte order.
    pub port: u16,
    /// Offset of the address and port text from the start of the TCP payload (`matchoff`).
    pub match_off: usize,
    /// Length of the address and port text (`matchlen`).
    pub match_len: usize,
}

impl FtpMatch {
    /// Returns `cmd.u3.all` as `help()` sees it after parsing; see [`Addr::overlay`].
    pub fn cmd_addr(&self, src: &[u8; 16]) -> [u8; 16] {
        self.addr.overlay(src)
    }
}

/// Result of [`find_pattern`] and [`search_line`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Search {
    /// The C's 1: a command was found.
    Found(FtpMatch),
    /// The C's 0: no command; the packet is accepted.
    NotFound,
    /// The C's -1: the payload starts with (a prefix of) the pattern of the given entry but its
    /// arguments could not be parsed; the C drops the packet.
    Partial(FtpType),
}

/// Argument parser of a search table entry (the C's `getnum` function pointer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Parser {
    /// [`try_rfc959`].
    Rfc959,
    /// [`try_rfc1123`].
    Rfc1123,
    /// [`try_eprt`].
    Eprt,
    /// [`try_epsv_response`].
    EpsvResponse,
}

impl Parser {
    /// Calls the parser on `data` with the entry's terminator; `family` is the C's `cmd->l3num`.
    pub fn parse(self, data: &[u8], term: u8, family: Family) -> Option<Parsed> {
        match self {
            Parser::Rfc959 => try_rfc959(data, term),
            Parser::Rfc1123 => try_rfc1123(data, term),
            Parser::Eprt => try_eprt(data, family),
            Parser::EpsvResponse => try_epsv_response(data),
        }
    }
}

/// One entry of the search table (`struct ftp_search`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SearchEntry {
    /// The text the payload must start with, compared case-insensitively.
    pattern: &'static [u8; 4],
    /// The character up to and including which the input is skipped after the pattern; 0 means
    /// no skipping.
    skip: u8,
    /// The terminator handed to the parser; 0 means any character ends the numbers.
    term: u8,
    /// The type reported to NAT.
    ftype: FtpType,
    /// The argument parser.
    parser: Parser,
    /// `pattern` as one word, for [`SearchEntry::starts`].
    word: PatternWord,
}

/// A pattern of four ASCII bytes as a little-endian word, with a mask of the case bit (`0x20`)
/// of its letters: a word `w` of input matches it case-insensitively exactly when
/// `w | mask == value`.
///
/// That is `strncasecmp()`'s equality for such a pattern: a letter matches itself in either
/// case and nothing else (the kernel's `tolower()` maps no other byte, Latin-1 capitals
/// included, to an ASCII letter), any other byte only itself, and a NUL byte of the input
/// matches no byte of the pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct PatternWord {
    mask: u32,
    value: u32,
}

impl PatternWord {
    const fn new(pattern: &[u8; 4]) -> Self {
        let mut mask = 0u32;
        let mut value = 0u32;
        let mut i = 0;
        while i < 4 {
            let c = pattern[i];
            assert!(c != 0 && c.is_ascii(), "a pattern is ASCII without NUL");
            let m = if c.is_ascii_alphabetic() { 0x20 } else { 0 };
            mask |= (m as u32) << (8 * i);
            value |= ((c | m) as u32) << (8 * i);
            i += 1;
        }
        Self { mask, value }
    }
}

impl SearchEntry {
    /// An entry for the four-byte `pattern` (the table has no other length).
    const fn new(
        pattern: &'static [u8; 4],
        skip: u8,
        term: u8,
        ftype: FtpType,
        parser: Parser,
    ) -> Self {
        Self {
            pattern,
            skip,
            term,
            ftype,
            parser,
            word: PatternWord::new(pattern),
        }
    }

    /// The text the payload must start with, compared case-insensitively.
    pub const fn pattern(&self) -> &'static [u8] {
        self.pattern
    }

    /// The character up to and including which the input is skipped after the pattern; 0
    /// means no skipping.
    pub const fn skip(&self) -> u8 {
        self.skip
    }

    /// The terminator handed to the parser; 0 means any character ends the numbers.
    pub const fn term(&self) -> u8 {
        self.term
    }

    /// The type reported to NAT.
    pub const fn ftype(&self) -> FtpType {
        self.ftype
    }

    /// The argument parser.
    pub const fn parser(&self) -> Parser {
        self.parser
    }

    /// Whether `data` (`find_pattern` passes it only when longer than the pattern; shorter
    /// data is `false`) starts with it, compared as `strncasecmp()`
    /// does; one comparison of words instead of a loop over the bytes.
    fn starts(&self, data: &[u8]) -> bool {
        match data.first_chunk::<4>() {
            Some(w) => (u32::from_le_bytes(*w) | self.word.mask) == self.word.value,
            None => false,
        }
    }
}

/// The search table (`search[IP_CT_DIR_MAX][2]`), indexed by [`Direction::index`] and tried in
/// order.
pub const SEARCH: [[SearchEntry; 2]; 2] = [
    [
        SearchEntry::new(b"PORT", b' ', b'\r', FtpType::Port, Parser::Rfc959),
        SearchEntry::new(b"EPRT", b' ', b'\r', FtpType::Eprt, Parser::Eprt),
    ],
    [
        SearchEntry::new(b"227 ", 0, 0, FtpType::Pasv, Parser::Rfc1123),
        SearchEntry::new(b"229 ", b'(', b')', FtpType::Epsv, Parser::EpsvResponse),
    ],
];

/// Parses `N` decimal numbers separated by `sep` and ended by `term` (mirrors `try_number()`).
///
/// Digits accumulate into the current number, which must stay at most 255; `sep` moves to the
/// next number (empty numbers count as 0). Any other character ends the parse: it succeeds if
/// that character is `term` (or `term` is 0, meaning any character) and exactly `N` numbers have
/// been started. Running out of input, or meeting a separator after the last number, fails.
///
/// Returns the offset of the terminating character and the numbers. Like the C, which reports
/// failure as a length of 0, a parse ending at offset 0 is a failure.
pub fn try_number<const N: usize>(data: &[u8], sep: u8, term: u8) -> Option<(usize, [u8; N])> {
    if N == 0 {
        return None;
    }
    let mut out = [0u8; N];
    // The number being read, `out[i]` once complete; at most 255 between characters.
    let mut cur = 0u32;
    let mut i = 0usize;
    for (len, &c) in data.iter().enumerate() {
        let digit = c.wrapping_sub(b'0');
        if digit < 10 {
            // At most 255 * 10 + 9: no overflow.
            cur = cur.wrapping_mul(10).wrapping_add(u32::from(digit));
            if cur > 255 {
                return None;
            }
        } else if c == sep {
            *out.get_mut(i)? = cur as u8;
            i += 1;
            // A separator after the last number ends the C's loop: a failure.
            if i == N {
                return None;
            }
            cur = 0;
        } else {
            if (c == term || term == 0) && i == N - 1 && len != 0 {
                out[i] = cur as u8;
                return Some((len, out));
            }
            return None;
        }
    }
    None
}

/// Parses `h1,h2,h3,h4,p1,p2` ended by `term` (mirrors `try_rfc959()`).
///
/// The address is `h1.h2.h3.h4` and the port `p1 * 256 + p2`; port 0 is accepted. The length is
/// the offset of the terminator, which is not part of the match.
pub fn try_rfc959(data: &[u8], term: u8) -> Option<Parsed> {
    let (len, a) = try_number::<6>(data, b',', term)?;
    Some(Parsed {
        off: 0,
        len,
        addr: Addr::V4([a[0], a[1], a[2], a[3]]),
        port: (u16::from(a[4]) << 8) | u16::from(a[5]),
    })
}

/// Scans for the first digit, then parses the numbers of a `227` reply (mirrors
/// `try_rfc1123()`).
///
/// `term` is ignored: the C parses with terminator 0, so any character other than a digit or a
/// comma ends the six numbers. [`Parsed::off`] is the number of bytes skipped before the first
/// digit (the C adds it to the match offset); the length counts from that digit.
pub fn try_rfc1123(data: &[u8], term: u8) -> Option<Parsed> {
    let _ = term;
    let i = data.iter().position(u8::is_ascii_digit)?;
    let mut p = try_rfc959(&data[i..], 0)?;
    p.off = i;
    Some(p)
}

/// Parses a port number ending with `delim`, starting at `data[start]` (mirrors `get_port()`).
///
/// The port must be non-empty, made of digits, and in 1..=65535. Returns the offset just past
/// the delimiter and the port.
pub fn get_port(data: &[u8], start: usize, delim: u8) -> Option<(usize, u16)> {
    let mut tmp_port: u32 = 0;
    for (i, &c) in data.iter().enumerate().skip(start) {
        if c == delim {
            if tmp_port == 0 {
                return None;
            }
            // At most 65535, checked below.
            return Some((i + 1, tmp_port as u16));
        } else if c.is_ascii_digit() {
            tmp_port = tmp_port * 10 + u32::from(c - b'0');
            if tmp_port > 65535 {
                return None;
            }
        } else {
            return None;
        }
    }
    None
}

/// Whether `c` is a valid delimiter of `EPRT` and `229`: printable ASCII (33..=126) other than
/// a digit.
fn valid_delim(c: u8) -> bool {
    !c.is_ascii_digit() && (33..=126).contains(&c)
}

/// Parses the argument of `EPRT`, `<d>1<d>a.b.c.d<d>port<d>` or `<d>2<d>ipv6<d>port<d>` (mirrors
/// `try_eprt()`).
///
/// The delimiter is any printable ASCII character but a digit and must appear in positions 0
/// and 2. The protocol number must be `1` on an IPv4 connection and `2` on an IPv6 one, so an
/// `EPRT` for the other family fails. The IPv4 address is parsed by [`try_number`] with `.` as
/// separator (not by `in4_pton()`), the IPv6 one by [`in6_pton`]. The character following the
/// address is skipped without being checked (it is the delimiter, except for IPv6 addresses
/// ended by a NUL byte or by an embedded IPv4 address ended by `:`). The length runs up to and
/// including the final delimiter.
pub fn try_eprt(data: &[u8], family: Family) -> Option<Parsed> {
    if data.len() <= 3 {
        return None;
    }
    let delim = data[0];
    if !valid_delim(delim) || data[2] != delim {
        return None;
    }
    match family {
        Family::V4 if data[1] != b'1' => return None,
        Family::V6 if data[1] != b'2' => return None,
        _ => {}
    }

    let (length, addr) = if data[1] == b'1' {
        let (len, a) = try_number::<4>(&data[3..], b'.', delim)?;
        (len, Addr::V4(a))
    } else {
        let (a, end) = get_ipv6_addr(&data[3..], delim)?;
        (end, Addr::V6(a))
    };
    if length == 0 {
        return None;
    }

    let (len, port) = get_port(data, 3 + length + 1, delim)?;
    Some(Parsed {
        off: 0,
        len,
        addr,
        port,
    })
}

/// Parses the argument of a `229` reply, `<d><d><d>port<d>` (mirrors `try_epsv_response()`).
///
/// The three leading delimiters must be equal and a printable ASCII character other than a
/// digit; the port must be followed by the same delimiter. The reply carries no address. The
/// length runs up to and including the final delimiter.
pub fn try_epsv_response(data: &[u8]) -> Option<Parsed> {
    if data.len() <= 3 {
        return None;
    }
    let delim = data[0];
    if !valid_delim(delim) || data[1] != delim || data[2] != delim {
        return None;
    }
    let (len, port) = get_port(data, 3, delim)?;
    Some(Parsed {
        off: 0,
        len,
        addr: Addr::None,
        port,
    })
}

/// Parses an IPv6 address ended by `term` (mirrors `get_ipv6_addr()`).
///
/// Returns the address and the offset of the character that ended it.
pub fn get_ipv6_addr(data: &[u8], term: u8) -> Option<([u8; 16], usize)> {
    let src = &data[..data.len().min(0xffff)];
    match in6_pton(src, Some(term)) {
        Ok((addr, end)) => Some((addr, end)),
        Err(_) => None,
    }
}

const IN6PTON_XDIGIT: i32 = 0x0001_0000;
const IN6PTON_DIGIT: i32 = 0x0002_0000;
const IN6PTON_COLON_MASK: i32 = 0x0070_0000;
const IN6PTON_COLON_1: i32 = 0x0010_0000;
const IN6PTON_COLON_2: i32 = 0x0020_0000;
const IN6PTON_COLON_1_2: i32 = 0x0040_0000;
const IN6PTON_DOT: i32 = 0x0080_0000;
const IN6PTON_DELIM: i32 = 0x1000_0000;
const IN6PTON_NULL: i32 = 0x2000_0000;
const IN6PTON_UNKNOWN: i32 = 0x4000_0000;

/// The kernel's `hex_to_bin()`.
fn hex_to_bin(c: u8) -> Option<i32> {
    match c {
        b'0'..=b'9' => Some(i32::from(c - b'0')),
        b'a'..=b'f' => Some(i32::from(c - b'a') + 10),
        b'A'..=b'F' => Some(i32::from(c - b'A') + 10),
        _ => None,
    }
}

/// The kernel's `xdigit2bin()`; `delim` `None` is the C's -1.
fn xdigit2bin(c: u8, delim: Option<u8>) -> i32 {
    // The kernel builds with -funsigned-char, so every byte value can be a delimiter.
    let is_delim = delim == Some(c);
    if is_delim || c == 0 {
        return IN6PTON_DELIM;
    }
    if c == b':' {
        return IN6PTON_COLON_MASK;
    }
    if c == b'.' {
        return IN6PTON_DOT;
    }
    if let Some(val) = hex_to_bin(c) {
        return val | IN6PTON_XDIGIT | if val < 10 { IN6PTON_DIGIT } else { 0 };
    }
    if delim.is_none() {
        return IN6PTON_DELIM;
    }
    IN6PTON_UNKNOWN
}

/// The byte the C reads at `s`: the input byte while the length lasts, then NUL.
fn byte_at(src: &[u8], s: usize) -> u8 {
    src.get(s).copied().unwrap_or(0)
}

/// Converts a dotted-quad IPv4 address (mirrors `in4_pton()`).
///
/// `delim` is the character ending the address (`None` for the C's -1: any character that is
/// not part of an address ends it); the end of `src`, a NUL byte and a `:` end it too. Each of
/// the four parts must have at least one digit and be at most 255 (leading zeros are allowed).
///
/// Returns the address and the offset of the character that ended it, or, on failure, the
/// offset at which parsing stopped.
pub fn in4_pton(src: &[u8], delim: Option<u8>) -> Result<([u8; 4], usize), usize> {
    let mut dbuf = [0u8; 4];
    let mut i = 0usize;
    let mut w: i32 = 0;
    let mut s = 0usize;
    loop {
        let c = xdigit2bin(byte_at(src, s), delim);
        if c & (IN6PTON_DIGIT | IN6PTON_DOT | IN6PTON_DELIM | IN6PTON_COLON_MASK) == 0 {
            return Err(s);
        }
        if c & (IN6PTON_DOT | IN6PTON_DELIM | IN6PTON_COLON_MASK) != 0 {
            if w == 0 {
                return Err(s);
            }
            // `i` is at most 3 here: the check below stops at the fourth part.
            let Some(slot) = dbuf.get_mut(i) else {
                return Err(s);
            };
            *slot = (w & 0xff) as u8;
            w = 0;
            i += 1;
            if c & (IN6PTON_DELIM | IN6PTON_COLON_MASK) != 0 {
                if i != 4 {
                    return Err(s);
                }
                break;
            }
        } else {
            // The flag bits of `c` are multiples of 0x10000 and vanish in the mask below; they
            // make `w` non-zero once a digit has been seen.
            w = w.wrapping_mul(10).wrapping_add(c);
            if (w & 0xffff) > 255 {
                return Err(s);
            }
        }
        if i >= 4 {
            return Err(s);
        }
        s += 1;
    }
    Ok((dbuf, s))
}

/// Converts an IPv6 address (mirrors `in6_pton()`).
///
/// Accepts up to eight groups of one to four hex digits separated by `:`, at most one `::`
/// standing for one or more zero groups, and a trailing dotted-quad IPv4 address in place of the
/// last two groups. `delim` is the character ending the address (`None` for the C's -1); the
/// end of `src` and a NUL byte end it too. An embedded IPv4 address may also be ended by `:`.
///
/// Returns the address and the offset of the character that ended it, or, on failure, the
/// offset at which parsing stopped.
pub fn in6_pton(src: &[u8], delim: Option<u8>) -> Result<([u8; 16], usize), usize> {
    const LEN: usize = 16;
    let mut tok: Option<usize> = None;
    let mut dc: Option<usize> = None;
    let mut dbuf = [0u8; LEN];
    let mut d = 0usize;
    let mut state = IN6PTON_COLON_1_2 | IN6PTON_XDIGIT | IN6PTON_NULL;
    let mut w: i32 = 0;
    let mut s = 0usize;

    loop {
        let c = xdigit2bin(byte_at(src, s), delim);
        if c & state == 0 {
            return Err(s);
        }
        if c & (IN6PTON_DELIM | IN6PTON_COLON_MASK) != 0 {
            // Process one 16-bit word.
            if state & IN6PTON_NULL == 0 {
                // The state machine only allows a word when there is room for it.
                let Some(word) = dbuf.get_mut(d..d + 2) else {
                    return Err(s);
                };
                word[0] = ((w >> 8) & 0xff) as u8;
                word[1] = (w & 0xff) as u8;
                d += 2;
            }
            w = 0;
            if c & IN6PTON_DELIM != 0 {
                // That was the last word.
                break;
            }
            // COLON_1 => XDIGIT, COLON_2 => XDIGIT|DELIM, COLON_1_2 => COLON_2.
            state = match state & IN6PTON_COLON_MASK {
                IN6PTON_COLON_2 => {
                    dc = Some(d);
                    if d >= LEN {
                        IN6PTON_XDIGIT | IN6PTON_DELIM | IN6PTON_NULL
                    } else {
                        IN6PTON_XDIGIT | IN6PTON_DELIM
                    }
                }
                x if x == IN6PTON_COLON_1 | IN6PTON_COLON_1_2 => IN6PTON_XDIGIT | IN6PTON_COLON_2,
                IN6PTON_COLON_1 => IN6PTON_XDIGIT,
                IN6PTON_COLON_1_2 => IN6PTON_COLON_2,
                _ => 0,
            };
            tok = Some(s + 1);
        } else if c & IN6PTON_DOT != 0 {
            // A dot is only allowed after a colon, so `tok` is always set here.
            let t = tok.unwrap_or(s);
            let Some(rest) = src.get(t..) else {
                return Err(s);
            };
            match in4_pton(rest, delim) {
                Ok((v4, end)) => {
                    // The state machine only allows a dot when four bytes are left.
                    let Some(slot) = dbuf.get_mut(d..d + 4) else {
                        return Err(t + end);
                    };
                    slot.copy_from_slice(&v4);
                    d += 4;
                    s = t + end;
                    break;
                }
                Err(end) => return Err(t + end),
            }
        } else {
            w = (w << 4) | (0xff & c);
            state = IN6PTON_COLON_1 | IN6PTON_DELIM;
            if w & 0xf000 == 0 {
                state |= IN6PTON_XDIGIT;
            }
            if dc.is_none() && d + 2 < LEN {
                state |= IN6PTON_COLON_1_2;
                state &= !IN6PTON_DELIM;
            }
            if d + 2 >= LEN {
                state &= !(IN6PTON_COLON_1 | IN6PTON_COLON_1_2);
            }
        }
        // cont:
        if (dc.is_some() && d + 4 < LEN) || d + 4 == LEN {
            state |= IN6PTON_DOT;
        }
        if d >= LEN {
            state &= !(IN6PTON_XDIGIT | IN6PTON_COLON_MASK);
        }
        s += 1;
    }

    let mut dst = [0u8; LEN];
    match dc {
        Some(dc) => {
            // Bytes written after `::` go to the end, those before it to the start, and the
            // gap is zero. `dc <= d <= 16` holds by construction.
            let (Some(head), Some(tail)) = (dbuf.get(..dc), dbuf.get(dc..d)) else {
                return Err(s);
            };
            let Some(tail_start) = LEN.checked_sub(tail.len()) else {
                return Err(s);
            };
            dst[tail_start..].copy_from_slice(tail);
            dst[..dc].copy_from_slice(head);
        }
        None => dst = dbuf,
    }
    Ok((dst, s))
}

/// The kernel's `tolower()`, which also folds the Latin-1 capitals.
fn kernel_tolower(c: u8) -> u8 {
    let upper = c.is_ascii_uppercase() || ((0xc0..=0xde).contains(&c) && c != 0xd7);
    if upper {
        c + (b'a' - b'A')
    } else {
        c
    }
}

/// Whether the kernel's `strncasecmp(s1, s2, len)` returns 0 for the first `len` bytes; both
/// slices must hold at least `len` bytes.
fn strncasecmp_eq(s1: &[u8], s2: &[u8], len: usize) -> bool {
    for (&c1, &c2) in s1.iter().zip(s2.iter()).take(len) {
        if c1 == 0 || c2 == 0 {
            return c1 == c2;
        }
        if c1 != c2 && kernel_tolower(c1) != kernel_tolower(c2) {
            return false;
        }
    }
    true
}

/// Looks for one search table entry at the start of `data` (mirrors `find_pattern()`).
///
/// * If `data` is not longer than the pattern, it is [`Search::Partial`] when `data` is a
///   case-insensitive prefix of the pattern (so also when `data` is empty), else
///   [`Search::NotFound`].
/// * If `data` does not start with the pattern (case-insensitively), [`Search::NotFound`].
/// * If the entry has a skip character, everything up to and including its first occurrence
///   after the pattern is skipped; none until the end of `data` is [`Search::Partial`].
/// * The parser then runs on the rest; a failure is [`Search::Partial`].
///
/// `family` is the family of the connection (`cmd->l3num`), which only `EPRT` looks at.
pub fn find_pattern(data: &[u8], entry: &SearchEntry, family: Family) -> Search {
    let plen = entry.pattern.len();
    let dlen = data.len();

    if dlen <= plen {
        // Short packet: try for partial.
        return if strncasecmp_eq(data, entry.pattern(), dlen) {
            Search::Partial(entry.ftype)
        } else {
            Search::NotFound
        };
    }

    if !entry.starts(data) {
        return Search::NotFound;
    }

    let mut i = plen;
    if entry.skip != 0 {
        while data[i] != entry.skip {
            if i == dlen - 1 {
                return Search::Partial(entry.ftype);
            }
            i += 1;
        }
        // Skip over the last character.
        i += 1;
    }

    match entry.parser.parse(&data[i..], entry.term, family) {
        Some(p) if p.len != 0 => Search::Found(FtpMatch {
            ftype: entry.ftype,
            addr: p.addr,
            port: p.port,
            match_off: i + p.off,
            match_len: p.len,
        }),
        _ => Search::Partial(entry.ftype),
    }
}

/// Applies the search table of direction `dir` to the TCP payload `data` (mirrors the loop over
/// `search[dir]` in `help()`).
///
/// The entries are tried in order and the first one that does not return
/// [`Search::NotFound`] decides. Only the start of `data` is examined. `family` is the family
/// of the connection.
///
/// ```
/// use ftp_proto::{search_line, Addr, Direction, Family, FtpType, Search};
///
/// let line = b"227 Entering Passive Mode (192,168,1,2,4,5).\r\n";
/// let Search::Found(m) = search_line(line, Direction::Reply, Family::V4) else {
///     panic!("no match");
/// };
/// assert_eq!((m.ftype, m.port), (FtpType::Pasv, 1029));
/// assert_eq!(m.addr, Addr::V4([192, 168, 1, 2]));
/// assert_eq!(&line[m.match_off..][..m.match_len], b"192,168,1,2,4,5");
/// ```
pub fn search_line(data: &[u8], dir: Direction, family: Family) -> Search {
    for entry in SEARCH[dir.index()].iter() {
        let found = find_pattern(data, entry, family);
        if found != Search::NotFound {
            return found;
        }
    }
    Search::NotFound
}

/// Whether the payload ends with a newline (the C's `ends_in_nl`), which makes the sequence
/// number following it the start of a line.
pub fn ends_in_nl(data: &[u8]) -> bool {
    data.last() == Some(&b'\n')
}

/// The sequence number following the payload (the C's `seq = ntohl(th->seq) + datalen`).
pub fn seq_after(seq: u32, data: &[u8]) -> u32 {
    // The payload of one packet is far below 4 GiB; the C truncates the same way.
    seq.wrapping_add(data.len() as u32)
}

/// The kernel's `before()`: whether `seq1` comes before `seq2` in sequence space.
pub const fn before(seq1: u32, seq2: u32) -> bool {
    (seq1.wrapping_sub(seq2) as i32) < 0
}

/// The kernel's `after()`: whether `seq2` comes after `seq1` in sequence space.
pub const fn after(seq2: u32, seq1: u32) -> bool {
    before(seq1, seq2)
}

/// Per-connection line tracking state (`struct nf_ct_ftp_master`).
///
/// For each direction it remembers up to [`NUM_SEQ_TO_REMEMBER`] sequence numbers that follow
/// a newline; only a packet starting at one of them is searched for a command. It also holds
/// the `NF_CT_FTP_SEQ_PICKUP` flags set for connections injected through ctnetlink.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqTracker {
    seq_aft_nl: [[u32; NUM_SEQ_TO_REMEMBER]; 2],
    seq_aft_nl_num: [u16; 2],
    flags: [u16; 2],
}

impl SeqTracker {
    /// A tracker that knows no line start, as the zeroed helper data of a new connection.
    pub const fn new() -> Self {
        Self {
            seq_aft_nl: [[0; NUM_SEQ_TO_REMEMBER]; 2],
            seq_aft_nl_num: [0; 2],
            flags: [0; 2],
        }
    }

    /// The line-start sequence numbers remembered for `dir`, in slot order.
    pub fn remembered(&self, dir: Direction) -> &[u32] {
        let d = dir.index();
        let num = usize::from(self.seq_aft_nl_num[d]).min(NUM_SEQ_TO_REMEMBER);
        &self.seq_aft_nl[d][..num]
    }

    /// Whether `seq` is a remembered line start of `dir` (mirrors `find_nl_seq()`).
    pub fn find_nl_seq(&self, seq: u32, dir: Direction) -> bool {
        self.remembered(dir).contains(&seq)
    }

    /// Remembers `nl_seq` as a line start of `dir` (mirrors `update_nl_seq()`).
    ///
    /// A number already known is ignored. While a slot is free the number is appended, even if
    /// it is older than those known; once both slots are used it replaces the older of the two
    /// (by [`before`]), but only if it comes [`after`] it.
    pub fn update_nl_seq(&mut self, nl_seq: u32, dir: Direction) {
        if self.find_nl_seq(nl_seq, dir) {
            return;
        }
        let d = dir.index();
        let num = usize::from(self.seq_aft_nl_num[d]);
        if num < NUM_SEQ_TO_REMEMBER {
            self.seq_aft_nl[d][num] = nl_seq;
            self.seq_aft_nl_num[d] += 1;
        } else {
            let known = &mut self.seq_aft_nl[d];
            let oldest = if before(known[0], known[1]) { 0 } else { 1 };
            if after(nl_seq, known[oldest]) {
                known[oldest] = nl_seq;
            }
        }
    }

    /// Sets `NF_CT_FTP_SEQ_PICKUP` in both directions (mirrors `nf_ct_ftp_from_nlattr()`), so
    /// that the next packet of each direction is searched even if its sequence number is not a
    /// known line start.
    pub fn set_pickup(&mut self) {
        for flags in self.flags.iter_mut() {
            *flags |= NF_CT_FTP_SEQ_PICKUP;
        }
    }

    /// Whether `NF_CT_FTP_SEQ_PICKUP` is set for `dir`.
    pub fn pickup(&self, dir: Direction) -> bool {
        self.flags[dir.index()] & NF_CT_FTP_SEQ_PICKUP != 0
    }

    /// Decides whether a packet of `dir` starting at `seq` is searched (mirrors the start of
    /// `help()`): yes if `seq` is a known line start, or else if the pickup flag of `dir` is set,
    /// which is then cleared.
    pub fn at_line_start(&mut self, seq: u32, dir: Direction) -> bool {
        if self.find_nl_seq(seq, dir) {
            return true;
        }
        let flags = &mut self.flags[dir.index()];
        if *flags & NF_CT_FTP_SEQ_PICKUP != 0 {
            *flags ^= NF_CT_FTP_SEQ_PICKUP;
            return true;
        }
        false
    }

    /// Remembers the sequence number following `data` if it ends with a newline (mirrors the
    /// `out_update_nl` label of `help()`).
    pub fn finish(&mut self, seq: u32, data: &[u8], dir: Direction) {
        if ends_in_nl(data) {
            self.update_nl_seq(seq_after(seq, data), dir);
        }
    }

    /// As [`SeqTracker::finish`], for a payload of `len` bytes (taken modulo 2^32, as the C
    /// does) starting at `seq`, whose last byte is `last` (ignored if `len` is 0).
    pub fn finish_len(&mut self, seq: u32, len: usize, last: u8, dir: Direction) {
        if len > 0 && last == b'\n' {
            // The payload of one packet is far below 4 GiB; the C truncates the same way.
            self.update_nl_seq(seq.wrapping_add(len as u32), dir);
        }
    }
}

/// The payload of a segment, read only as far as [`help_lazy`] needs it: its length and last
/// byte for every segment, all of it only for a segment that starts at a line start.
pub trait Payload {
    /// Why the payload could not be read.
    type Error;

    /// The sequence number of its first byte (`ntohl(th->seq)`).
    fn seq(&self) -> u32;

    /// Its length, bytes (0: the segment has no payload).
    fn len(&self) -> usize;

    /// Whether it is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its last byte (called only if it is not empty).
    fn last(&self) -> u8;

    /// All of it: exactly [`Payload::len`] bytes, the last of them [`Payload::last`].  May be
    /// expensive (the kernel's implementation copies it, or makes a long one linear in the
    /// packet): [`help_lazy`] calls it
    /// at most once per segment, and only for a segment at a line start.  An error means the
    /// payload could not be read; [`help_lazy`] returns it.
    fn bytes(&mut self) -> Result<&[u8], Self::Error>;
}

impl Payload for Segment<'_> {
    type Error = core::convert::Infallible;

    fn seq(&self) -> u32 {
        self.seq
    }

    fn len(&self) -> usize {
        self.data.len()
    }

    fn last(&self) -> u8 {
        self.data.last().copied().unwrap_or(0)
    }

    fn bytes(&mut self) -> Result<&[u8], Self::Error> {
        Ok(self.data)
    }
}

/// A TCP segment of the control connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Segment<'a> {
    /// The TCP payload (after `skb_linearize()`).
    pub data: &'a [u8],
    /// The sequence number of its first byte (`ntohl(th->seq)`).
    pub seq: u32,
    /// Its direction (`CTINFO2DIR(ctinfo)`).
    pub dir: Direction,
}

/// Destination address of the expectation for a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpectAddr {
    /// The announced address equals the source of the packet: expect the data connection at
    /// `ct->tuplehash[!dir].tuple.dst.u3`.
    Peer,
    /// The announced address differs and `loose` is set: expect it at the announced address,
    /// `cmd.u3` (these bytes).
    Announced([u8; 16]),
}

/// What the helper does with a segment (the outcome of `help()` up to the expectation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// `NF_ACCEPT` without an expectation: the payload is empty, does not start at a line
    /// start, or holds no command.
    Accept,
    /// `NF_DROP`: the payload starts with the pattern of this type but could not be parsed
    /// (the C logs a partial match of [`FtpType::pattern`]).
    Drop(FtpType),
    /// A command was found: expect a TCP connection of the connection's family from
    /// `ct->tuplehash[!dir].tuple.src.u3` to `daddr`, port `found.port`, and let NAT rewrite
    /// `found.match_len` bytes at `found.match_off` (type `found.ftype`).
    Expect {
        /// The command.
        found: FtpMatch,
        /// Destination address of the expectation.
        daddr: ExpectAddr,
    },
    /// A command was found whose address differs from the packet's source address while
    /// `loose` is off: `NF_ACCEPT` without an expectation (the C's "NOT RECORDING").
    NotRecorded(FtpMatch),
}

/// Decides where the data connection of `found` is expected (mirrors the address check of
/// `help()`).
///
/// `src` is the source address of the packet's direction (`ct->tuplehash[dir].tuple.src.u3`).
/// If `cmd.u3` (see [`FtpMatch::cmd_addr`]) equals it, the expectation goes to the peer. If not,
/// it goes to the announced address when `loose` is set, and there is none when it is not.
pub fn expect_addr(found: &FtpMatch, src: &[u8; 16], loose: bool) -> Option<ExpectAddr> {
    if addr_matches(found, src) {
        Some(ExpectAddr::Peer)
    } else if loose {
        Some(ExpectAddr::Announced(found.cmd_addr(src)))
    } else {
        None
    }
}

/// Whether the address announced by `found` equals `src`, the source address of the packet's
/// direction (the C's `memcmp(&cmd.u3.all, &ct->tuplehash[dir].tuple.src.u3.all, ...) == 0`).
///
/// On an IPv6 connection the C writes the IPv4 address of `PORT` and `227` over the first four
/// bytes of the IPv6 source address, and so does this comparison.
pub fn addr_matches(found: &FtpMatch, src: &[u8; 16]) -> bool {
    found.cmd_addr(src) == *src
}

/// Processes one segment of the control connection (mirrors `help()` for an established
/// connection, except for allocating, registering and NATing the expectation).
///
/// The checks `help()` makes before reading the payload (missing helper data, a connection not
/// yet established in both directions, `skb_linearize()` failing) are left to the caller.
///
/// `family` is the family of the connection, `src` the source address of the segment's
/// direction (`ct->tuplehash[dir].tuple.src.u3`), and `loose` the module parameter of that name.
///
/// The tracker is updated as the C does: a segment ending with a newline makes the following
/// sequence number a line start, except when the verdict is [`Verdict::Drop`]. The C also skips
/// that update when it cannot allocate the expectation; a caller wanting that exactly can save
/// the tracker (it is `Copy`) before the call and restore it on allocation failure.
pub fn help(
    tracker: &mut SeqTracker,
    seg: &Segment<'_>,
    family: Family,
    src: &[u8; 16],
    loose: bool,
) -> Verdict {
    let mut payload = *seg;
    let conn = ConnValues {
        family,
        src: *src,
        loose,
    };
    match help_lazy(tracker, &mut payload, seg.dir, &conn) {
        Ok(verdict) => verdict,
        Err(never) => match never {},
    }
}

/// What [`help_lazy`] reads of the connection and of the helper's settings, each only when it
/// needs it (in the kernel each is a lookup).
pub trait ConnInfo {
    /// The family of the connection; read for a segment at a line start.
    fn family(&self) -> Family;

    /// The source address of the segment's direction (`ct->tuplehash[dir].tuple.src.u3`); read
    /// when the segment holds a command.
    fn src(&self) -> [u8; 16];

    /// The module parameter `loose`; read when the segment holds a command whose address is not
    /// [`ConnInfo::src`].
    fn loose(&self) -> bool;
}

/// A [`ConnInfo`] whose values are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnValues {
    /// See [`ConnInfo::family`].
    pub family: Family,
    /// See [`ConnInfo::src`].
    pub src: [u8; 16],
    /// See [`ConnInfo::loose`].
    pub loose: bool,
}

impl ConnInfo for ConnValues {
    fn family(&self) -> Family {
        self.family
    }

    fn src(&self) -> [u8; 16] {
        self.src
    }

    fn loose(&self) -> bool {
        self.loose
    }
}

/// As [`help`], for a payload of `dir` that is read in full only if the segment starts at a line
/// start (other segments only need their length and last byte; the C reads, and makes linear,
/// every one), and a connection read only as far as needed (see [`ConnInfo`]).
///
/// Fails with the payload's error if it could not be read; the tracker is then as it was before
/// the call, except that a pending pickup ([`SeqTracker::set_pickup`]) of `dir` may have been
/// used (the tracker is `Copy`: a caller can save it and put it back).
pub fn help_lazy<P: Payload, C: ConnInfo>(
    tracker: &mut SeqTracker,
    payload: &mut P,
    dir: Direction,
    conn: &C,
) -> Result<Verdict, P::Error> {
    if payload.is_empty() {
        // No data: the C returns before looking at the tracker.
        return Ok(Verdict::Accept);
    }
    let seq = payload.seq();
    if !tracker.at_line_start(seq, dir) {
        tracker.finish_len(seq, payload.len(), payload.last(), dir);
        return Ok(Verdict::Accept);
    }

    let data = payload.bytes()?;
    let verdict = match search_line(data, dir, conn.family()) {
        Search::Partial(ftype) => return Ok(Verdict::Drop(ftype)),
        Search::NotFound => Verdict::Accept,
        Search::Found(found) => {
            let src = conn.src();
            // `expect_addr()`, reading `loose` only if it matters.
            let daddr = if addr_matches(&found, &src) {
                Some(ExpectAddr::Peer)
            } else {
                expect_addr(&found, &src, conn.loose())
            };
            match daddr {
                Some(daddr) => Verdict::Expect { found, daddr },
                None => Verdict::NotRecorded(found),
            }
        }
    };
    tracker.finish(seq, data, dir);
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: Family = Family::V4;
    const V6: Family = Family::V6;

    fn parsed(off: usize, len: usize, addr: Addr, port: u16) -> Option<Parsed> {
        Some(Parsed {
            off,
            len,
            addr,
            port,
        })
    }

    fn ip6(groups: [u16; 8]) -> [u8; 16] {
        let mut a = [0u8; 16];
        for (i, g) in groups.iter().enumerate() {
            a[2 * i..2 * i + 2].copy_from_slice(&g.to_be_bytes());
        }
        a
    }

    // try_number

    #[test]
    fn try_number_six_values() {
        assert_eq!(
            try_number::<6>(b"1,2,3,4,5,6\r\n", b',', b'\r'),
            Some((11, [1, 2, 3, 4, 5, 6]))
        );
        assert_eq!(
            try_number::<6>(b"255,255,255,255,255,255\r", b',', b'\r'),
            Some((23, [255; 6]))
        );
    }

    #[test]
    fn try_number_leading_zeros_and_empty_fields() {
        assert_eq!(
            try_number::<6>(b"0001,002,03,0000000000000004,5,6\r", b',', b'\r'),
            Some((32, [1, 2, 3, 4, 5, 6]))
        );
        // Empty numbers count as zero.
        assert_eq!(try_number::<6>(b",,,,,\r", b',', b'\r'), Some((5, [0; 6])));
        assert_eq!(try_number::<4>(b"...|", b'.', b'|'), Some((3, [0; 4])));
    }

    #[test]
    fn try_number_overflow() {
        assert_eq!(try_number::<6>(b"256,1,1,1,1,1\r", b',', b'\r'), None);
        assert_eq!(try_number::<6>(b"1,1,1,1,1,256\r", b',', b'\r'), None);
        assert_eq!(try_number::<6>(b"1,1,1,1,1,1000\r", b',', b'\r'), None);
        assert_eq!(
            try_number::<6>(b"1,1,99999999999,1,1,1\r", b',', b'\r'),
            None
        );
        // The check is made at each digit, also without a terminator.
        assert_eq!(try_number::<6>(b"1,1,1,1,1,2560", b',', 0), None);
    }

    #[test]
    fn try_number_missing_or_extra_separators() {
        assert_eq!(try_number::<6>(b"1,2,3,4,5\r", b',', b'\r'), None);
        assert_eq!(try_number::<6>(b"1,2,3,4,5,6,7\r", b',', b'\r'), None);
        // A separator after the last number ends the loop without a terminator.
        assert_eq!(try_number::<6>(b"1,2,3,4,5,6,\r", b',', b'\r'), None);
        // The separator wins over an equal terminator.
        assert_eq!(try_number::<4>(b"1.2.3.4.", b'.', b'.'), None);
    }

    #[test]
    fn try_number_terminator() {
        // Wrong terminator.
        assert_eq!(try_number::<6>(b"1,2,3,4,5,6\n", b',', b'\r'), None);
        assert_eq!(try_number::<6>(b"1,2,3,4,5,6x", b',', b'\r'), None);
        assert_eq!(try_number::<6>(b"1,2,3,4,5,6\0", b',', b'\r'), None);
        // Terminator 0 accepts any character.
        assert_eq!(
            try_number::<6>(b"1,2,3,4,5,6x", b',', 0),
            Some((11, [1, 2, 3, 4, 5, 6]))
        );
        assert_eq!(
            try_number::<6>(b"1,2,3,4,5,6\xff", b',', 0),
            Some((11, [1, 2, 3, 4, 5, 6]))
        );
        assert_eq!(
            try_number::<6>(b"1,2,3,4,5,6\0", b',', 0),
            Some((11, [1, 2, 3, 4, 5, 6]))
        );
        // Running out of data is a failure, whatever the terminator.
        assert_eq!(try_number::<6>(b"1,2,3,4,5,6", b',', b'\r'), None);
        assert_eq!(try_number::<6>(b"1,2,3,4,5,6", b',', 0), None);
        // Unexpected character before the last number.
        assert_eq!(try_number::<6>(b"1, 2,3,4,5,6\r", b',', b'\r'), None);
        assert_eq!(try_number::<6>(b"1,2,3,4\r5,6\r", b',', b'\r'), None);
    }

    #[test]
    fn try_number_empty_and_degenerate() {
        assert_eq!(try_number::<6>(b"", b',', b'\r'), None);
        assert_eq!(try_number::<0>(b"1\r", b',', b'\r'), None);
        // A match of length 0 is a failure, as in C.
        assert_eq!(try_number::<1>(b"\r", b',', b'\r'), None);
        assert_eq!(try_number::<1>(b"7\r", b',', b'\r'), Some((1, [7])));
    }

    // try_rfc959

    #[test]
    fn rfc959_ok() {
        assert_eq!(
            try_rfc959(b"192,168,1,2,4,5\r\n", b'\r'),
            parsed(0, 15, Addr::V4([192, 168, 1, 2]), 1029)
        );
        assert_eq!(
            try_rfc959(b"10,0,0,1,255,255\r", b'\r'),
            parsed(0, 16, Addr::V4([10, 0, 0, 1]), 65535)
        );
    }

    #[test]
    fn rfc959_port_zero_accepted() {
        assert_eq!(
            try_rfc959(b"1,2,3,4,0,0\r", b'\r'),
            parsed(0, 11, Addr::V4([1, 2, 3, 4]), 0)
        );
    }

    #[test]
    fn rfc959_errors() {
        assert_eq!(try_rfc959(b"", b'\r'), None);
        assert_eq!(try_rfc959(b"\r\n", b'\r'), None);
        assert_eq!(try_rfc959(b"1,2,3,4,5\r\n", b'\r'), None);
        assert_eq!(try_rfc959(b"1,2,3,4,5,6,7\r\n", b'\r'), None);
        assert_eq!(try_rfc959(b"1,2,3,4,5,6", b'\r'), None);
        assert_eq!(try_rfc959(b"1,2,3,4,5,6 \r\n", b'\r'), None);
        assert_eq!(try_rfc959(b"1,2,3,4,5,300\r\n", b'\r'), None);
        assert_eq!(try_rfc959(b"1,2,3,4,300,5\r\n", b'\r'), None);
        assert_eq!(try_rfc959(b"1.2.3.4.5.6\r\n", b'\r'), None);
        assert_eq!(try_rfc959(b"(1,2,3,4,5,6)\r\n", b'\r'), None);
    }

    // try_rfc1123

    #[test]
    fn rfc1123_scans_for_first_digit() {
        assert_eq!(
            try_rfc1123(b"Entering Passive Mode (192,168,1,2,4,5).\r\n", 0),
            parsed(23, 15, Addr::V4([192, 168, 1, 2]), 1029)
        );
        assert_eq!(
            try_rfc1123(b"=10,0,0,1,19,137\r\n", 0),
            parsed(1, 15, Addr::V4([10, 0, 0, 1]), 19 * 256 + 137)
        );
        assert_eq!(
            try_rfc1123(b"10,0,0,1,19,137\r\n", 0),
            parsed(0, 15, Addr::V4([10, 0, 0, 1]), 19 * 256 + 137)
        );
    }

    #[test]
    fn rfc1123_ignores_term_argument() {
        // The C always parses with terminator 0.
        assert_eq!(
            try_rfc1123(b"(1,2,3,4,5,6)", b'\r'),
            parsed(1, 11, Addr::V4([1, 2, 3, 4]), 1286)
        );
    }

    #[test]
    fn rfc1123_errors() {
        assert_eq!(try_rfc1123(b"", 0), None);
        assert_eq!(try_rfc1123(b"Entering Passive Mode.\r\n", 0), None);
        // The first digit starts the numbers, even if it belongs to the text.
        assert_eq!(
            try_rfc1123(b"Entering Passive Mode 2 (1,2,3,4,5,6)\r\n", 0),
            None
        );
        // The numbers must be ended by some character.
        assert_eq!(try_rfc1123(b"(1,2,3,4,5,6", 0), None);
        assert_eq!(try_rfc1123(b"(1,2,3,4,5)\r\n", 0), None);
        assert_eq!(try_rfc1123(b"(1,2,3,4,5,256)\r\n", 0), None);
        assert_eq!(try_rfc1123(b"(1,2,3,4,5,6,7)\r\n", 0), None);
    }

    // get_port

    #[test]
    fn get_port_ok() {
        assert_eq!(get_port(b"6446|", 0, b'|'), Some((5, 6446)));
        assert_eq!(get_port(b"|||6446|)", 3, b'|'), Some((8, 6446)));
        assert_eq!(get_port(b"65535!", 0, b'!'), Some((6, 65535)));
        assert_eq!(get_port(b"1|", 0, b'|'), Some((2, 1)));
        assert_eq!(get_port(b"00000000000021|", 0, b'|'), Some((15, 21)));
    }

    #[test]
    fn get_port_errors() {
        // Port 0 and empty ports.
        assert_eq!(get_port(b"0|", 0, b'|'), None);
        assert_eq!(get_port(b"000|", 0, b'|'), None);
        assert_eq!(get_port(b"|", 0, b'|'), None);
        // Above 65535.
        assert_eq!(get_port(b"65536|", 0, b'|'), None);
        assert_eq!(get_port(b"99999|", 0, b'|'), None);
        assert_eq!(get_port(b"6553500000000|", 0, b'|'), None);
        // Garbage and missing delimiter.
        assert_eq!(get_port(b"12a|", 0, b'|'), None);
        assert_eq!(get_port(b" 12|", 0, b'|'), None);
        assert_eq!(get_port(b"12", 0, b'|'), None);
        assert_eq!(get_port(b"12!", 0, b'|'), None);
        assert_eq!(get_port(b"", 0, b'|'), None);
        // Start past the end.
        assert_eq!(get_port(b"12|", 3, b'|'), None);
        assert_eq!(get_port(b"12|", 100, b'|'), None);
    }

    #[test]
    fn get_port_delimiter_checked_before_digits() {
        assert_eq!(get_port(b"121", 0, b'1'), None);
        assert_eq!(get_port(b"221", 0, b'1'), Some((3, 22)));
    }

    // try_epsv_response

    #[test]
    fn epsv_ok() {
        assert_eq!(
            try_epsv_response(b"|||6446|)\r\n"),
            parsed(0, 8, Addr::None, 6446)
        );
        assert_eq!(
            try_epsv_response(b"|||6446|"),
            parsed(0, 8, Addr::None, 6446)
        );
        assert_eq!(try_epsv_response(b"!!!21!"), parsed(0, 6, Addr::None, 21));
        assert_eq!(
            try_epsv_response(b"~~~65535~"),
            parsed(0, 9, Addr::None, 65535)
        );
        assert_eq!(try_epsv_response(b"(((5("), parsed(0, 5, Addr::None, 5));
    }

    #[test]
    fn epsv_delimiter_rules() {
        // Too short.
        assert_eq!(try_epsv_response(b""), None);
        assert_eq!(try_epsv_response(b"|||"), None);
        // Delimiters not equal.
        assert_eq!(try_epsv_response(b"||!6446|"), None);
        assert_eq!(try_epsv_response(b"!||6446|"), None);
        assert_eq!(try_epsv_response(b"||6446|"), None);
        // Closing delimiter differs.
        assert_eq!(try_epsv_response(b"|||6446!"), None);
        assert_eq!(try_epsv_response(b"|||6446)"), None);
        // Delimiter out of range or a digit.
        assert_eq!(try_epsv_response(b"   6446 "), None);
        assert_eq!(try_epsv_response(b"\x7f\x7f\x7f6446\x7f"), None);
        assert_eq!(try_epsv_response(b"\x80\x80\x806446\x80"), None);
        assert_eq!(try_epsv_response(b"1116446 1"), None);
        assert_eq!(try_epsv_response(b"\x00\x00\x006446\x00"), None);
    }

    #[test]
    fn epsv_bad_port() {
        assert_eq!(try_epsv_response(b"||||"), None);
        assert_eq!(try_epsv_response(b"|||0|"), None);
        assert_eq!(try_epsv_response(b"|||65536|"), None);
        assert_eq!(try_epsv_response(b"|||6446"), None);
        assert_eq!(try_epsv_response(b"|||64x46|"), None);
        assert_eq!(try_epsv_response(b"||| 6446|"), None);
    }

    // try_eprt

    #[test]
    fn eprt_ipv4() {
        assert_eq!(
            try_eprt(b"|1|132.235.1.2|6275|\r\n", V4),
            parsed(0, 20, Addr::V4([132, 235, 1, 2]), 6275)
        );
        assert_eq!(
            try_eprt(b"#1#10.0.0.1#21#", V4),
            parsed(0, 15, Addr::V4([10, 0, 0, 1]), 21)
        );
        // try_number allows empty parts and leading zeros.
        assert_eq!(
            try_eprt(b"|1|...|21|", V4),
            parsed(0, 10, Addr::V4([0; 4]), 21)
        );
        assert_eq!(
            try_eprt(b"|1|010.001.0.0255|21|", V4),
            parsed(0, 21, Addr::V4([10, 1, 0, 255]), 21)
        );
    }

    #[test]
    fn eprt_ipv4_errors() {
        assert_eq!(try_eprt(b"", V4), None);
        assert_eq!(try_eprt(b"|1|", V4), None);
        assert_eq!(try_eprt(b"|1|300.1.1.1|21|", V4), None);
        assert_eq!(try_eprt(b"|1|1.2.3|21|", V4), None);
        assert_eq!(try_eprt(b"|1|1.2.3.4.5|21|", V4), None);
        assert_eq!(try_eprt(b"|1| 1.2.3.4|21|", V4), None);
        assert_eq!(try_eprt(b"|1|1.2.3.4!21|", V4), None);
        assert_eq!(try_eprt(b"|1|1.2.3.4", V4), None);
        assert_eq!(try_eprt(b"|1|1.2.3.4|0|", V4), None);
        assert_eq!(try_eprt(b"|1|1.2.3.4|65536|", V4), None);
        assert_eq!(try_eprt(b"|1|1.2.3.4|21", V4), None);
        assert_eq!(try_eprt(b"|1|1.2.3.4|21!", V4), None);
        assert_eq!(try_eprt(b"|1|1.2.3.4||", V4), None);
        // A '.' delimiter is taken as a separator by try_number.
        assert_eq!(try_eprt(b".1.1.2.3.4.21.", V4), None);
    }

    #[test]
    fn eprt_delimiter_rules() {
        assert_eq!(try_eprt(b"|1!1.2.3.4|21|", V4), None);
        assert_eq!(try_eprt(b"010102030402101", V4), None);
        assert_eq!(try_eprt(b" 1 1.2.3.4 21 ", V4), None);
        assert_eq!(try_eprt(b"\x7f1\x7f1.2.3.4\x7f21\x7f", V4), None);
        assert_eq!(try_eprt(b"\xff1\xff1.2.3.4\xff21\xff", V4), None);
        assert_eq!(try_eprt(b"|1|1.2.3.4!21!", V4), None);
    }

    #[test]
    fn eprt_family_must_match_connection() {
        assert_eq!(try_eprt(b"|2|::1|21|", V4), None);
        assert_eq!(try_eprt(b"|1|1.2.3.4|21|", V6), None);
        assert_eq!(try_eprt(b"|3|1.2.3.4|21|", V4), None);
        assert_eq!(try_eprt(b"|3|::1|21|", V6), None);
        assert_eq!(try_eprt(b"|||1.2.3.4|21|", V4), None);
    }

    #[test]
    fn eprt_ipv6() {
        assert_eq!(
            try_eprt(b"|2|::1|21|", V6),
            parsed(0, 10, Addr::V6(ip6([0, 0, 0, 0, 0, 0, 0, 1])), 21)
        );
        assert_eq!(
            try_eprt(b"|2|3ffe::1|6275|", V6),
            parsed(0, 16, Addr::V6(ip6([0x3ffe, 0, 0, 0, 0, 0, 0, 1])), 6275)
        );
        assert_eq!(
            try_eprt(b"|2|1080::8:800:200C:417A|5282|\r\n", V6),
            parsed(
                0,
                30,
                Addr::V6(ip6([0x1080, 0, 0, 0, 8, 0x800, 0x200c, 0x417a])),
                5282
            )
        );
        assert_eq!(
            try_eprt(b"|2|2001:db8:0:0:0:0:0:1|50000|", V6),
            parsed(
                0,
                30,
                Addr::V6(ip6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])),
                50000
            )
        );
        assert_eq!(
            try_eprt(b"|2|::|21|", V6),
            parsed(0, 9, Addr::V6([0; 16]), 21)
        );
    }

    #[test]
    fn eprt_ipv6_embedded_ipv4() {
        assert_eq!(
            try_eprt(b"|2|::ffff:1.2.3.4|21|", V6),
            parsed(
                0,
                21,
                Addr::V6(ip6([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304])),
                21
            )
        );
        // in4_pton also stops at ':', and try_eprt skips that character unchecked.
        assert_eq!(
            try_eprt(b"|2|::ffff:1.2.3.4:21|", V6),
            parsed(
                0,
                21,
                Addr::V6(ip6([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304])),
                21
            )
        );
    }

    #[test]
    fn eprt_ipv6_nul_ends_address() {
        assert_eq!(
            try_eprt(b"|2|::1\x0021|", V6),
            parsed(0, 10, Addr::V6(ip6([0, 0, 0, 0, 0, 0, 0, 1])), 21)
        );
    }

    #[test]
    fn eprt_ipv6_errors() {
        assert_eq!(try_eprt(b"|2|:::1|21|", V6), None);
        assert_eq!(try_eprt(b"|2|1::2::3|21|", V6), None);
        assert_eq!(try_eprt(b"|2|1:2:3:4:5:6:7:8:9|21|", V6), None);
        assert_eq!(try_eprt(b"|2|1:2:3:4:5:6:7|21|", V6), None);
        assert_eq!(try_eprt(b"|2|12345::1|21|", V6), None);
        assert_eq!(try_eprt(b"|2|::1x|21|", V6), None);
        assert_eq!(try_eprt(b"|2||21|", V6), None);
        assert_eq!(try_eprt(b"|2|::1|0|", V6), None);
        assert_eq!(try_eprt(b"|2|::1|70000|", V6), None);
        assert_eq!(try_eprt(b"|2|::1", V6), None);
        assert_eq!(try_eprt(b"|2|::1|21", V6), None);
        // ':' as delimiter ends the address at its first character.
        assert_eq!(try_eprt(b":2:::1:21:", V6), None);
    }

    // in4_pton

    #[test]
    fn in4_pton_ok() {
        assert_eq!(in4_pton(b"1.2.3.4", None), Ok(([1, 2, 3, 4], 7)));
        assert_eq!(in4_pton(b"0.0.0.0", None), Ok(([0, 0, 0, 0], 7)));
        assert_eq!(
            in4_pton(b"255.255.255.255|", Some(b'|')),
            Ok(([255; 4], 15))
        );
        assert_eq!(in4_pton(b"01.002.0003.255", None), Ok(([1, 2, 3, 255], 15)));
        assert_eq!(
            in4_pton(b"0000000000000000001.2.3.4", None),
            Ok(([1, 2, 3, 4], 25))
        );
        // Ended by ':', NUL or (without delimiter) any unknown character.
        assert_eq!(in4_pton(b"1.2.3.4:80", Some(b'|')), Ok(([1, 2, 3, 4], 7)));
        assert_eq!(in4_pton(b"1.2.3.4\0", Some(b'|')), Ok(([1, 2, 3, 4], 7)));
        assert_eq!(in4_pton(b"1.2.3.4 ", None), Ok(([1, 2, 3, 4], 7)));
    }

    #[test]
    fn in4_pton_errors() {
        assert_eq!(in4_pton(b"", None), Err(0));
        assert_eq!(in4_pton(b"1.2.3", None), Err(5));
        assert_eq!(in4_pton(b"1..2.3", None), Err(2));
        assert_eq!(in4_pton(b"256.1.1.1", None), Err(2));
        assert_eq!(in4_pton(b"1.2.3.4.5", None), Err(7));
        assert_eq!(in4_pton(b"1.2.3.4a", None), Err(7));
        assert_eq!(in4_pton(b"1.2.3.4 ", Some(b'|')), Err(7));
        assert_eq!(in4_pton(b".1.2.3", None), Err(0));
    }

    // in6_pton

    #[test]
    fn in6_pton_ok() {
        assert_eq!(in6_pton(b"::", None), Ok(([0; 16], 2)));
        assert_eq!(
            in6_pton(b"::1", None),
            Ok((ip6([0, 0, 0, 0, 0, 0, 0, 1]), 3))
        );
        assert_eq!(
            in6_pton(b"1::", None),
            Ok((ip6([1, 0, 0, 0, 0, 0, 0, 0]), 3))
        );
        assert_eq!(
            in6_pton(b"1::2", None),
            Ok((ip6([1, 0, 0, 0, 0, 0, 0, 2]), 4))
        );
        assert_eq!(
            in6_pton(b"1:2:3:4:5:6:7:8", None),
            Ok((ip6([1, 2, 3, 4, 5, 6, 7, 8]), 15))
        );
        assert_eq!(
            in6_pton(b"::1:2:3:4:5:6:7", None),
            Ok((ip6([0, 1, 2, 3, 4, 5, 6, 7]), 15))
        );
        assert_eq!(
            in6_pton(b"1:2:3:4:5:6:7::", None),
            Ok((ip6([1, 2, 3, 4, 5, 6, 7, 0]), 15))
        );
        assert_eq!(
            in6_pton(b"FE80::21A:2bff:FE3C:4d5e", None),
            Ok((ip6([0xfe80, 0, 0, 0, 0x21a, 0x2bff, 0xfe3c, 0x4d5e]), 24))
        );
        assert_eq!(
            in6_pton(b"0:0:0:0:0:0:1.2.3.4", None),
            Ok((ip6([0, 0, 0, 0, 0, 0, 0x0102, 0x0304]), 19))
        );
        // Chars are unsigned in the kernel: any byte can be the delimiter.
        assert_eq!(
            in6_pton(b"::1\x80", Some(0x80)),
            Ok((ip6([0, 0, 0, 0, 0, 0, 0, 1]), 3))
        );
        // Without a delimiter, an unknown character ends the address.
        assert_eq!(
            in6_pton(b"fe80::1%eth0", None),
            Ok((ip6([0xfe80, 0, 0, 0, 0, 0, 0, 1]), 7))
        );
    }

    #[test]
    fn in6_pton_errors() {
        assert_eq!(in6_pton(b"", None), Err(0));
        assert_eq!(in6_pton(b":", None), Err(1));
        assert_eq!(in6_pton(b":1", None), Err(1));
        assert_eq!(in6_pton(b"1:", None), Err(2));
        assert_eq!(in6_pton(b":::", None), Err(2));
        assert_eq!(in6_pton(b"1:2:3:4:5:6:7", None), Err(13));
        assert_eq!(in6_pton(b"1:2:3:4:5:6:7:8:9", None), Err(15));
        assert_eq!(in6_pton(b"::1:2:3:4:5:6:7:8", None), Err(15));
        assert_eq!(in6_pton(b"12345::", None), Err(4));
        assert_eq!(in6_pton(b"::g", Some(b'|')), Err(2));
        // An embedded IPv4 address needs a colon before it and room for it.
        assert_eq!(in6_pton(b"1.2.3.4", None), Err(1));
        assert_eq!(in6_pton(b"1:2:3:4:5:6:7:1.2.3.4", None), Err(15));
        assert_eq!(in6_pton(b"::1.2.3", None), Err(7));
    }

    // find_pattern and search_line

    fn found(ftype: FtpType, addr: Addr, port: u16, match_off: usize, match_len: usize) -> Search {
        Search::Found(FtpMatch {
            ftype,
            addr,
            port,
            match_off,
            match_len,
        })
    }

    #[test]
    fn search_port() {
        assert_eq!(
            search_line(b"PORT 192,168,1,2,4,5\r\n", Direction::Original, V4),
            found(FtpType::Port, Addr::V4([192, 168, 1, 2]), 1029, 5, 15)
        );
        assert_eq!(
            search_line(b"port 192,168,1,2,4,5\r\n", Direction::Original, V4),
            found(FtpType::Port, Addr::V4([192, 168, 1, 2]), 1029, 5, 15)
        );
        // The skip character is searched for, so text between the pattern and it is ignored.
        assert_eq!(
            search_line(b"PORTX 1,2,3,4,5,6\r\n", Direction::Original, V4),
            found(FtpType::Port, Addr::V4([1, 2, 3, 4]), 1286, 6, 11)
        );
        // PORT is parsed on an IPv6 connection too.
        assert_eq!(
            search_line(b"PORT 1,2,3,4,5,6\r\n", Direction::Original, V6),
            found(FtpType::Port, Addr::V4([1, 2, 3, 4]), 1286, 5, 11)
        );
    }

    #[test]
    fn search_short_packets() {
        let o = Direction::Original;
        assert_eq!(search_line(b"", o, V4), Search::Partial(FtpType::Port));
        assert_eq!(search_line(b"P", o, V4), Search::Partial(FtpType::Port));
        assert_eq!(search_line(b"pOr", o, V4), Search::Partial(FtpType::Port));
        assert_eq!(search_line(b"PORT", o, V4), Search::Partial(FtpType::Port));
        assert_eq!(search_line(b"E", o, V4), Search::Partial(FtpType::Eprt));
        assert_eq!(search_line(b"eprt", o, V4), Search::Partial(FtpType::Eprt));
        assert_eq!(search_line(b"X", o, V4), Search::NotFound);
        assert_eq!(search_line(b"PAS", o, V4), Search::NotFound);
        assert_eq!(search_line(b"P\0", o, V4), Search::NotFound);
        let r = Direction::Reply;
        assert_eq!(search_line(b"", r, V4), Search::Partial(FtpType::Pasv));
        assert_eq!(search_line(b"22", r, V4), Search::Partial(FtpType::Pasv));
        assert_eq!(search_line(b"227 ", r, V4), Search::Partial(FtpType::Pasv));
        assert_eq!(search_line(b"229", r, V4), Search::Partial(FtpType::Epsv));
        assert_eq!(search_line(b"229 ", r, V4), Search::Partial(FtpType::Epsv));
        assert_eq!(search_line(b"230", r, V4), Search::NotFound);
        assert_eq!(search_line(b"227-", r, V4), Search::NotFound);
    }

    #[test]
    fn search_partial_commands() {
        let o = Direction::Original;
        // No space after the pattern anywhere in the packet.
        assert_eq!(
            search_line(b"PORT\r\n", o, V4),
            Search::Partial(FtpType::Port)
        );
        assert_eq!(search_line(b"PORTS", o, V4), Search::Partial(FtpType::Port));
        // Space as last byte: nothing left to parse.
        assert_eq!(search_line(b"PORT ", o, V4), Search::Partial(FtpType::Port));
        // Bad arguments.
        assert_eq!(
            search_line(b"PORT 1,2,3,4,5,6\n", o, V4),
            Search::Partial(FtpType::Port)
        );
        assert_eq!(
            search_line(b"PORT 1,2,3,4,5,6", o, V4),
            Search::Partial(FtpType::Port)
        );
        assert_eq!(
            search_line(b"PORT  1,2,3,4,5,6\r\n", o, V4),
            Search::Partial(FtpType::Port)
        );
        assert_eq!(
            search_line(b"PORT 1,2,3,4,5,256\r\n", o, V4),
            Search::Partial(FtpType::Port)
        );
        assert_eq!(
            search_line(b"EPRT |2|::1|21|\r\n", o, V4),
            Search::Partial(FtpType::Eprt)
        );
        assert_eq!(
            search_line(b"EPRT |1|1.2.3.4|21|\r\n", o, V6),
            Search::Partial(FtpType::Eprt)
        );
        let r = Direction::Reply;
        assert_eq!(
            search_line(b"227 Entering Passive Mode.\r\n", r, V4),
            Search::Partial(FtpType::Pasv)
        );
        assert_eq!(
            search_line(b"227 (1,2,3,4,5,6", r, V4),
            Search::Partial(FtpType::Pasv)
        );
        assert_eq!(
            search_line(b"229 Extended Passive Mode OK\r\n", r, V4),
            Search::Partial(FtpType::Epsv)
        );
        assert_eq!(search_line(b"229 (", r, V4), Search::Partial(FtpType::Epsv));
        assert_eq!(
            search_line(b"229 (|||0|)\r\n", r, V4),
            Search::Partial(FtpType::Epsv)
        );
    }

    #[test]
    fn search_not_found() {
        let o = Direction::Original;
        assert_eq!(search_line(b"USER anonymous\r\n", o, V4), Search::NotFound);
        assert_eq!(search_line(b"PASV\r\n", o, V4), Search::NotFound);
        assert_eq!(search_line(b"EPSV\r\n", o, V4), Search::NotFound);
        assert_eq!(
            search_line(b" PORT 1,2,3,4,5,6\r\n", o, V4),
            Search::NotFound
        );
        assert_eq!(
            search_line(b"227 (1,2,3,4,5,6)\r\n", o, V4),
            Search::NotFound
        );
        let r = Direction::Reply;
        assert_eq!(
            search_line(b"230 Login successful.\r\n", r, V4),
            Search::NotFound
        );
        assert_eq!(
            search_line(b"227-Entering Passive Mode (1,2,3,4,5,6)\r\n", r, V4),
            Search::NotFound
        );
        assert_eq!(
            search_line(b"PORT 1,2,3,4,5,6\r\n", r, V4),
            Search::NotFound
        );
        // Only the start of the payload is examined.
        assert_eq!(
            search_line(b"NOOP\r\nPORT 1,2,3,4,5,6\r\n", o, V4),
            Search::NotFound
        );
    }

    #[test]
    fn search_replies() {
        let r = Direction::Reply;
        assert_eq!(
            search_line(b"227 Entering Passive Mode (192,168,1,2,4,5).\r\n", r, V4),
            found(FtpType::Pasv, Addr::V4([192, 168, 1, 2]), 1029, 27, 15)
        );
        assert_eq!(
            search_line(b"229 Entering Extended Passive Mode (|||6446|)\r\n", r, V6),
            found(FtpType::Epsv, Addr::None, 6446, 36, 8)
        );
    }

    #[test]
    fn search_eprt() {
        assert_eq!(
            search_line(b"EPRT |1|132.235.1.2|6275|\r\n", Direction::Original, V4),
            found(FtpType::Eprt, Addr::V4([132, 235, 1, 2]), 6275, 5, 20)
        );
        assert_eq!(
            search_line(b"eprt |2|::1|21|\r\n", Direction::Original, V6),
            found(
                FtpType::Eprt,
                Addr::V6(ip6([0, 0, 0, 0, 0, 0, 0, 1])),
                21,
                5,
                10
            )
        );
    }

    #[test]
    fn find_pattern_single_entries() {
        let pasv = &SEARCH[1][0];
        assert_eq!(pasv.pattern, b"227 ");
        assert_eq!((pasv.skip, pasv.term), (0, 0));
        assert_eq!(
            find_pattern(b"227 =1,2,3,4,5,6\r\n", pasv, V4),
            found(FtpType::Pasv, Addr::V4([1, 2, 3, 4]), 1286, 5, 11)
        );
        let epsv = &SEARCH[1][1];
        assert_eq!(find_pattern(b"227 (|||1|)", epsv, V4), Search::NotFound);
    }

    #[test]
    fn pattern_words_compare_as_strncasecmp() {
        for dir in [Direction::Original, Direction::Reply] {
            for e in SEARCH[dir.index()].iter() {
                let pattern = *e.pattern;
                for pos in 0..4 {
                    for c in 0..=255u8 {
                        for base in [pattern, pattern.map(|b| b.to_ascii_lowercase())] {
                            let mut data = [base[0], base[1], base[2], base[3], b'x'];
                            data[pos] = c;
                            assert_eq!(
                                e.starts(&data),
                                strncasecmp_eq(&data, e.pattern(), 4),
                                "{:?} with byte {c:#x} at {pos}",
                                e.ftype
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn strncasecmp_kernel_semantics() {
        assert!(strncasecmp_eq(b"port", b"PORT", 4));
        assert!(strncasecmp_eq(b"PoRt", b"pOrT", 4));
        assert!(!strncasecmp_eq(b"P\0RT", b"PORT", 4));
        assert!(strncasecmp_eq(b"\0", b"\0", 1));
        // Latin-1 capitals fold like in the kernel's ctype table.
        assert!(strncasecmp_eq(b"\xc0", b"\xe0", 1));
        assert!(!strncasecmp_eq(b"\xd7", b"\xf7", 1));
        assert!(strncasecmp_eq(b"", b"PORT", 0));
    }

    #[test]
    fn ftp_type_values() {
        assert_eq!(FtpType::Port.value(), 0);
        assert_eq!(FtpType::Pasv.value(), 1);
        assert_eq!(FtpType::Eprt.value(), 2);
        assert_eq!(FtpType::Epsv.value(), 3);
        for dir in [Direction::Original, Direction::Reply] {
            for e in SEARCH[dir.index()].iter() {
                assert_eq!(e.ftype.pattern().as_bytes(), e.pattern());
            }
        }
    }

    // Sequence tracking

    #[test]
    fn before_after() {
        assert!(before(1, 2));
        assert!(!before(2, 1));
        assert!(!before(5, 5));
        assert!(before(0xffff_fff0, 0x10));
        assert!(after(0x10, 0xffff_fff0));
        // Half the sequence space apart: each is before the other.
        assert!(before(0, 0x8000_0000));
        assert!(before(0x8000_0000, 0));
    }

    #[test]
    fn update_nl_seq_fills_then_replaces_oldest() {
        let o = Direction::Original;
        let mut t = SeqTracker::new();
        assert_eq!(t, SeqTracker::default());
        assert!(!t.find_nl_seq(0, o));
        t.update_nl_seq(100, o);
        assert_eq!(t.remembered(o), &[100]);
        // A free slot takes even an older number.
        t.update_nl_seq(50, o);
        assert_eq!(t.remembered(o), &[100, 50]);
        t.update_nl_seq(100, o);
        assert_eq!(t.remembered(o), &[100, 50]);
        t.update_nl_seq(300, o);
        assert_eq!(t.remembered(o), &[100, 300]);
        // Older than the oldest: ignored.
        t.update_nl_seq(80, o);
        assert_eq!(t.remembered(o), &[100, 300]);
        t.update_nl_seq(200, o);
        assert_eq!(t.remembered(o), &[200, 300]);
        assert!(t.find_nl_seq(200, o) && t.find_nl_seq(300, o) && !t.find_nl_seq(100, o));
        assert!(t.remembered(Direction::Reply).is_empty());
    }

    #[test]
    fn update_nl_seq_wraps() {
        let r = Direction::Reply;
        let mut t = SeqTracker::new();
        t.update_nl_seq(0xffff_fff0, r);
        t.update_nl_seq(0x10, r);
        t.update_nl_seq(0x20, r);
        assert_eq!(t.remembered(r), &[0x20, 0x10]);
        t.update_nl_seq(0x18, r);
        assert_eq!(t.remembered(r), &[0x20, 0x18]);
    }

    #[test]
    fn update_nl_seq_half_space() {
        let o = Direction::Original;
        let mut t = SeqTracker::new();
        t.update_nl_seq(0, o);
        t.update_nl_seq(0x8000_0000, o);
        // before(0, 0x80000000) holds, so slot 0 is the oldest.
        t.update_nl_seq(0x4000_0000, o);
        assert_eq!(t.remembered(o), &[0x4000_0000, 0x8000_0000]);
    }

    #[test]
    fn pickup_flag() {
        let o = Direction::Original;
        let r = Direction::Reply;
        let mut t = SeqTracker::new();
        assert!(!t.at_line_start(7, o));
        t.set_pickup();
        assert!(t.pickup(o) && t.pickup(r));
        assert!(t.at_line_start(7, o));
        assert!(!t.pickup(o) && t.pickup(r));
        assert!(!t.at_line_start(7, o));
        // A known line start does not consume the flag.
        t.update_nl_seq(9, r);
        assert!(t.at_line_start(9, r));
        assert!(t.pickup(r));
        assert!(t.at_line_start(10, r));
        assert!(!t.pickup(r));
    }

    /// A payload that records whether it was read in full.
    struct Lazy<'a> {
        seg: Segment<'a>,
        read: bool,
        fail: bool,
    }

    impl Payload for Lazy<'_> {
        type Error = ();

        fn seq(&self) -> u32 {
            self.seg.seq
        }

        fn len(&self) -> usize {
            self.seg.data.len()
        }

        fn last(&self) -> u8 {
            *self.seg.data.last().unwrap()
        }

        fn bytes(&mut self) -> Result<&[u8], ()> {
            self.read = true;
            if self.fail {
                return Err(());
            }
            Ok(self.seg.data)
        }
    }

    #[test]
    fn help_lazy_reads_only_line_starts() {
        let src = [0u8; 16];
        let conn = ConnValues {
            family: V4,
            src,
            loose: false,
        };
        let lazy = |data, seq, fail| Lazy {
            seg: Segment {
                data,
                seq,
                dir: Direction::Original,
            },
            read: false,
            fail,
        };
        let mut t = SeqTracker::new();
        t.update_nl_seq(100, Direction::Original);

        // Not at a line start: never read, but a final newline is recorded.
        let mut p = lazy(b"PORT 1,2,3,4,5,6\r\n", 50, false);
        let v = help_lazy(&mut t, &mut p, Direction::Original, &conn);
        assert_eq!(v, Ok(Verdict::Accept));
        assert!(!p.read);
        assert!(t.find_nl_seq(68, Direction::Original));

        // At a line start: read, and the same verdict as `help`.
        let data = b"PORT 0,0,0,0,4,1\r\n";
        let mut p = lazy(data, 100, false);
        let mut t2 = t;
        let v = help_lazy(&mut t, &mut p, Direction::Original, &conn);
        assert!(p.read);
        let seg = Segment {
            data,
            seq: 100,
            dir: Direction::Original,
        };
        assert_eq!(v, Ok(help(&mut t2, &seg, V4, &src, false)));
        assert!(matches!(v, Ok(Verdict::Expect { .. })));
        assert_eq!(t, t2);

        // Unreadable: the error, and no line start recorded.
        let before = t;
        let mut p = lazy(b"PORT 0,0,0,0,4,1\r\n", 100, true);
        assert_eq!(
            help_lazy(&mut t, &mut p, Direction::Original, &conn),
            Err(())
        );
        assert_eq!(t, before);

        // A pickup used up by a segment that cannot be read: the error.
        let mut t = SeqTracker::new();
        t.set_pickup();
        let mut p = lazy(b"PORT 0,0,0,0,4,1\r\n", 7, true);
        assert_eq!(
            help_lazy(&mut t, &mut p, Direction::Original, &conn),
            Err(())
        );
        assert!(p.read);
        assert!(!t.pickup(Direction::Original));

        // Empty: neither read nor recorded.
        let mut p = lazy(b"", 100, false);
        assert_eq!(
            help_lazy(&mut t, &mut p, Direction::Original, &conn),
            Ok(Verdict::Accept)
        );
        assert!(!p.read);
    }

    #[test]
    fn ends_in_nl_and_seq_after() {
        assert!(ends_in_nl(b"x\r\n"));
        assert!(ends_in_nl(b"\n"));
        assert!(!ends_in_nl(b"x\r"));
        assert!(!ends_in_nl(b""));
        assert_eq!(seq_after(0xffff_fffe, b"abc"), 1);
        let mut t = SeqTracker::new();
        t.finish(10, b"abc", Direction::Original);
        assert!(t.remembered(Direction::Original).is_empty());
        t.finish(10, b"ab\n", Direction::Original);
        assert_eq!(t.remembered(Direction::Original), &[13]);
    }

    // Address decision

    #[test]
    fn address_checks() {
        let src4 = {
            let mut a = [0u8; 16];
            a[..4].copy_from_slice(&[10, 0, 0, 1]);
            a
        };
        let m = FtpMatch {
            ftype: FtpType::Port,
            addr: Addr::V4([10, 0, 0, 1]),
            port: 1,
            match_off: 5,
            match_len: 11,
        };
        assert!(addr_matches(&m, &src4));
        assert_eq!(expect_addr(&m, &src4, false), Some(ExpectAddr::Peer));
        let other = FtpMatch {
            addr: Addr::V4([10, 0, 0, 2]),
            ..m
        };
        assert!(!addr_matches(&other, &src4));
        assert_eq!(expect_addr(&other, &src4, false), None);
        let mut announced = src4;
        announced[3] = 2;
        assert_eq!(
            expect_addr(&other, &src4, true),
            Some(ExpectAddr::Announced(announced))
        );
        let epsv = FtpMatch {
            ftype: FtpType::Epsv,
            addr: Addr::None,
            ..m
        };
        assert!(addr_matches(&epsv, &src4));
        // On IPv6, an IPv4 address overwrites the first four bytes only.
        let src6 = ip6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
        let port6 = FtpMatch {
            addr: Addr::V4([0x20, 0x01, 0x0d, 0xb8]),
            ..m
        };
        assert!(addr_matches(&port6, &src6));
        assert_eq!(port6.cmd_addr(&src6), src6);
    }
}
