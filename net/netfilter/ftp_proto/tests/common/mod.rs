// SPDX-License-Identifier: GPL-2.0

//! A control connection driven through `ftp_proto::help`, as the kernel helper sees it.

#![allow(dead_code)]

use ftp_proto::{help, Direction, Family, FtpMatch, Segment, SeqTracker, Verdict};

/// An IPv4 address as the 16 bytes of `union nf_inet_addr`.
pub(crate) fn v4(a: [u8; 4]) -> [u8; 16] {
    let mut all = [0u8; 16];
    all[..4].copy_from_slice(&a);
    all
}

/// An IPv6 address from its eight groups.
pub(crate) fn v6(groups: [u16; 8]) -> [u8; 16] {
    let mut all = [0u8; 16];
    for (i, g) in groups.iter().enumerate() {
        all[2 * i..2 * i + 2].copy_from_slice(&g.to_be_bytes());
    }
    all
}

/// One tracked FTP control connection.
pub(crate) struct Conn {
    /// The helper's per-connection data.
    pub(crate) tracker: SeqTracker,
    /// Family of the connection.
    pub(crate) family: Family,
    /// Source address of each direction (`ct->tuplehash[dir].tuple.src.u3`).
    pub(crate) src: [[u8; 16]; 2],
    /// Next sequence number of each direction.
    pub(crate) next_seq: [u32; 2],
    /// The `loose` module parameter.
    pub(crate) loose: bool,
}

impl Conn {
    /// A connection from `client` to `server` with the given initial sequence numbers (of the
    /// first payload byte).
    pub(crate) fn new(family: Family, client: [u8; 16], server: [u8; 16], isn: [u32; 2]) -> Self {
        Self {
            tracker: SeqTracker::new(),
            family,
            src: [client, server],
            next_seq: isn,
            loose: false,
        }
    }

    /// Runs the helper on a segment at an explicit sequence number, without moving the stream.
    pub(crate) fn send_at(&mut self, dir: Direction, seq: u32, data: &[u8]) -> Verdict {
        let seg = Segment { data, seq, dir };
        help(
            &mut self.tracker,
            &seg,
            self.family,
            &self.src[dir.index()],
            self.loose,
        )
    }

    /// Sends the next segment of `dir`; a dropped segment does not advance the stream (the
    /// sender retransmits it).
    pub(crate) fn send(&mut self, dir: Direction, data: &[u8]) -> Verdict {
        let seq = self.next_seq[dir.index()];
        let v = self.send_at(dir, seq, data);
        if !matches!(v, Verdict::Drop(_)) {
            self.advance(dir, data.len());
        }
        v
    }

    /// Moves the stream of `dir` forward without showing the bytes to the helper.
    pub(crate) fn advance(&mut self, dir: Direction, len: usize) {
        let s = &mut self.next_seq[dir.index()];
        *s = s.wrapping_add(len as u32);
    }

    /// Sends a client line.
    pub(crate) fn c(&mut self, data: &str) -> Verdict {
        self.send(Direction::Original, data.as_bytes())
    }

    /// Sends a server line.
    pub(crate) fn s(&mut self, data: &str) -> Verdict {
        self.send(Direction::Reply, data.as_bytes())
    }
}

/// The text NAT would rewrite for a match.
pub(crate) fn matched<'a>(data: &'a str, m: &FtpMatch) -> &'a str {
    &data[m.match_off..m.match_off + m.match_len]
}

/// Unwraps the match of a verdict creating an expectation.
pub(crate) fn expect(v: Verdict) -> (FtpMatch, ftp_proto::ExpectAddr) {
    match v {
        Verdict::Expect { found, daddr } => (found, daddr),
        other => panic!("expected an expectation, got {other:?}"),
    }
}
