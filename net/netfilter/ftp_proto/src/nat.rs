// SPDX-License-Identifier: GPL-2.0

//! The text NAT writes over the address and port of a command or reply (mirrors
//! `nf_nat_ftp_fmt_cmd()` of `srctree/net/netfilter/nf_nat_ftp.c`).
//!
//! NAT replaces the `match_len` bytes at `match_off` of a [`super::FtpMatch`] with this text, so
//! it must be exactly what the C writes: the peer parses it, and the sequence numbers of the
//! rest of the connection shift by the difference in length. The digits are produced by hand,
//! without `core::fmt`, as the kernel's `snprintf()` would print them.

use super::{Family, FtpType};

/// Longest text [`nat_text`] writes, bytes: an `EPRT` on an IPv6 connection, `|2|`, 39 bytes of
/// address (8 groups of 4 hex digits and 7 colons) and `|65535|`.
///
/// The C formats into `char buffer[sizeof("|1||65535|") + INET6_ADDRSTRLEN]` (59 bytes), so its
/// `snprintf()` never truncates either.
pub const NAT_TEXT_MAX: usize = 3 + 39 + 7;

/// A replacement text of at most [`NAT_TEXT_MAX`] bytes, built by [`nat_text`].
///
/// The bytes past the text are always zero, so that two equal texts compare equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NatText {
    buf: [u8; NAT_TEXT_MAX],
    len: usize,
}

/// Lowercase hex digits, as the kernel's `hex_asc[]`.
const HEX: &[u8; 16] = b"0123456789abcdef";

impl NatText {
    const fn new() -> Self {
        Self {
            buf: [0; NAT_TEXT_MAX],
            len: 0,
        }
    }

    /// The text, 1 to [`NAT_TEXT_MAX`] bytes of ASCII (the C's `buffer` and `buflen`).
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Appends `bytes`; like `snprintf()`, drops what does not fit (never the case for the
    /// formats of [`nat_text`], see [`NAT_TEXT_MAX`]).
    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
    }

    /// Appends `v` in decimal without leading zeros (the C's `%u`).
    fn push_dec(&mut self, v: u16) {
        let mut digits = [0u8; 5];
        let mut start = digits.len();
        let mut v = v;
        loop {
            start -= 1;
            // A digit, below 10.
            digits[start] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push(&digits[start..]);
    }

    /// Appends `addr` as the kernel's `%pI4`: four decimal bytes separated by `.`.
    fn push_ipv4(&mut self, addr: &[u8; 16]) {
        for (i, &b) in addr[..4].iter().enumerate() {
            if i != 0 {
                self.push(b".");
            }
            self.push_dec(u16::from(b));
        }
    }

    /// Appends `addr` as the kernel's `%pI6` (`ip6_string()` of `srctree/lib/vsprintf.c`): eight
    /// groups of four lowercase hex digits, leading zeros kept, separated by `:`, no `::`.
    fn push_ipv6(&mut self, addr: &[u8; 16]) {
        for (i, pair) in addr.chunks_exact(2).enumerate() {
            if i != 0 {
                self.push(b":");
            }
            for &b in pair {
                self.push(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
            }
        }
    }
}

/// The replacement text for a match of `ftype` on a connection of `family` announcing `addr`
/// (16 bytes, `union nf_inet_addr` layout: IPv4 in the first 4) and `port` (host order).
///
/// Mirrors `nf_nat_ftp_fmt_cmd()` of `srctree/net/netfilter/nf_nat_ftp.c` byte for byte:
///
/// * [`FtpType::Port`] and [`FtpType::Pasv`]: `"%u,%u,%u,%u,%u,%u"` of the first four bytes of
///   `addr`, `port >> 8` and `port & 0xff`, whatever `family` is (the C also formats only the
///   first four bytes on an IPv6 connection);
/// * [`FtpType::Eprt`]: `"|1|%pI4|%u|"` on an IPv4 connection, `"|2|%pI6|%u|"` on an IPv6 one
///   (the full form: `2001:0db8:0000:...`, never `::`);
/// * [`FtpType::Epsv`]: `"|||%u|"`; `addr` is not used.
///
/// Every `port` is formatted, 0 included, as the C does; the parsers accept port 0 only in
/// `PORT` and `227` (`nf_nat_ftp()` never formats it: it drops the packet when
/// `nf_nat_exp_find_port()` finds no port).
///
/// ```
/// use ftp_proto::{nat_text, Family, FtpType};
///
/// let mut addr = [0u8; 16];
/// addr[..4].copy_from_slice(&[192, 168, 1, 2]);
/// let text = nat_text(FtpType::Port, Family::V4, &addr, 1029);
/// assert_eq!(text.as_bytes(), b"192,168,1,2,4,5");
/// let text = nat_text(FtpType::Eprt, Family::V4, &addr, 1029);
/// assert_eq!(text.as_bytes(), b"|1|192.168.1.2|1029|");
/// ```
pub fn nat_text(ftype: FtpType, family: Family, addr: &[u8; 16], port: u16) -> NatText {
    let mut t = NatText::new();
    match ftype {
        FtpType::Port | FtpType::Pasv => {
            for &b in &addr[..4] {
                t.push_dec(u16::from(b));
                t.push(b",");
            }
            t.push_dec(port >> 8);
            t.push(b",");
            t.push_dec(port & 0xff);
        }
        FtpType::Eprt => {
            match family {
                Family::V4 => {
                    t.push(b"|1|");
                    t.push_ipv4(addr);
                }
                Family::V6 => {
                    t.push(b"|2|");
                    t.push_ipv6(addr);
                }
            }
            t.push(b"|");
            t.push_dec(port);
            t.push(b"|");
        }
        FtpType::Epsv => {
            t.push(b"|||");
            t.push_dec(port);
            t.push(b"|");
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: Family = Family::V4;
    const V6: Family = Family::V6;

    fn v4(a: [u8; 4]) -> [u8; 16] {
        let mut all = [0u8; 16];
        all[..4].copy_from_slice(&a);
        all
    }

    fn v6(groups: [u16; 8]) -> [u8; 16] {
        let mut all = [0u8; 16];
        for (i, g) in groups.iter().enumerate() {
            all[2 * i..2 * i + 2].copy_from_slice(&g.to_be_bytes());
        }
        all
    }

    fn text(ftype: FtpType, family: Family, addr: [u8; 16], port: u16) -> String {
        let t = nat_text(ftype, family, &addr, port);
        String::from_utf8(t.as_bytes().to_vec()).expect("ASCII")
    }

    #[test]
    fn port_and_pasv() {
        for ftype in [FtpType::Port, FtpType::Pasv] {
            assert_eq!(
                text(ftype, V4, v4([192, 168, 1, 2]), 1029),
                "192,168,1,2,4,5"
            );
            assert_eq!(text(ftype, V4, v4([10, 0, 0, 1]), 0), "10,0,0,1,0,0");
            assert_eq!(
                text(ftype, V4, v4([255, 255, 255, 255]), 65535),
                "255,255,255,255,255,255"
            );
            assert_eq!(text(ftype, V4, v4([0, 9, 10, 99]), 256), "0,9,10,99,1,0");
            assert_eq!(text(ftype, V4, v4([100, 0, 0, 0]), 255), "100,0,0,0,0,255");
        }
    }

    #[test]
    fn port_on_ipv6_connection_uses_first_four_bytes() {
        let addr = v6([0x2001, 0x0db8, 0, 0, 0, 0, 0, 1]);
        assert_eq!(text(FtpType::Port, V6, addr, 21), "32,1,13,184,0,21");
        assert_eq!(text(FtpType::Pasv, V6, addr, 50000), "32,1,13,184,195,80");
    }

    #[test]
    fn eprt_ipv4() {
        assert_eq!(
            text(FtpType::Eprt, V4, v4([132, 235, 1, 2]), 6275),
            "|1|132.235.1.2|6275|"
        );
        assert_eq!(
            text(FtpType::Eprt, V4, v4([0, 0, 0, 0]), 0),
            "|1|0.0.0.0|0|"
        );
        assert_eq!(
            text(FtpType::Eprt, V4, v4([255, 255, 255, 255]), 65535),
            "|1|255.255.255.255|65535|"
        );
    }

    #[test]
    fn eprt_ipv6_full_form() {
        assert_eq!(
            text(
                FtpType::Eprt,
                V6,
                v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]),
                50000
            ),
            "|2|2001:0db8:0000:0000:0000:0000:0000:0001|50000|"
        );
        assert_eq!(
            text(FtpType::Eprt, V6, [0; 16], 0),
            "|2|0000:0000:0000:0000:0000:0000:0000:0000|0|"
        );
        assert_eq!(
            text(
                FtpType::Eprt,
                V6,
                v6([0xfe80, 0, 0, 0, 0x21a, 0x2bff, 0xfe3c, 0x4d5e]),
                21
            ),
            "|2|fe80:0000:0000:0000:021a:2bff:fe3c:4d5e|21|"
        );
        let longest = text(FtpType::Eprt, V6, [0xff; 16], 65535);
        assert_eq!(longest, "|2|ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|65535|");
        assert_eq!(longest.len(), NAT_TEXT_MAX);
    }

    #[test]
    fn epsv() {
        let addr = v4([1, 2, 3, 4]);
        assert_eq!(text(FtpType::Epsv, V4, addr, 6446), "|||6446|");
        assert_eq!(text(FtpType::Epsv, V6, addr, 0), "|||0|");
        assert_eq!(text(FtpType::Epsv, V4, addr, 65535), "|||65535|");
        assert_eq!(text(FtpType::Epsv, V4, addr, 7), "|||7|");
    }

    #[test]
    fn equal_texts_compare_equal() {
        let a = nat_text(FtpType::Epsv, V4, &v4([1, 2, 3, 4]), 21);
        let b = nat_text(FtpType::Epsv, V6, &[0xff; 16], 21);
        assert_eq!(a, b);
        assert_ne!(a, nat_text(FtpType::Epsv, V4, &[0; 16], 22));
    }
}
