// SPDX-License-Identifier: GPL-2.0

//! Feeds arbitrary bytes to the parsers and the line tracking and checks their invariants.
//!
//! The input is searched as one payload of each direction and family, then sent as a stream
//! through the line tracking, cut after each newline and cut into fixed-size segments.

#![no_main]

use ftp_proto::{
    ends_in_nl, help, in4_pton, in6_pton, search_line, seq_after, Addr, Direction, ExpectAddr,
    Family, FtpMatch, FtpType, Search, Segment, SeqTracker, Verdict, NUM_SEQ_TO_REMEMBER, SEARCH,
};
use libfuzzer_sys::fuzz_target;

const DIRS: [Direction; 2] = [Direction::Original, Direction::Reply];
const FAMILIES: [Family; 2] = [Family::V4, Family::V6];

fn check_match(data: &[u8], dir: Direction, family: Family, m: &FtpMatch) {
    let end = m
        .match_off
        .checked_add(m.match_len)
        .expect("offset overflow");
    assert!(end <= data.len(), "match past the end");
    assert!(m.match_len > 0, "empty match");
    let entry = SEARCH[dir.index()]
        .iter()
        .find(|e| e.ftype() == m.ftype)
        .expect("type of another direction");
    assert!(
        m.match_off >= entry.pattern().len(),
        "match inside the pattern"
    );
    assert!(data[..entry.pattern().len()].eq_ignore_ascii_case(entry.pattern()));
    let text = &data[m.match_off..end];
    match m.ftype {
        FtpType::Port | FtpType::Pasv => {
            assert!(matches!(m.addr, Addr::V4(_)));
            assert!(text.iter().all(|&c| c.is_ascii_digit() || c == b','));
            assert_eq!(text.iter().filter(|&&c| c == b',').count(), 5);
        }
        FtpType::Eprt => {
            match (family, m.addr) {
                (Family::V4, Addr::V4(_)) | (Family::V6, Addr::V6(_)) => {}
                other => panic!("EPRT address of the wrong family: {other:?}"),
            }
            assert!(m.port != 0);
            assert_eq!(text[0], text[2]);
            assert_eq!(text[text.len() - 1], text[0]);
        }
        FtpType::Epsv => {
            assert_eq!(m.addr, Addr::None);
            assert!(m.port != 0);
            assert!(text[..3].iter().all(|&c| c == text[0]));
            assert_eq!(text[text.len() - 1], text[0]);
        }
    }
}

/// Sends `segments` as consecutive segments of each direction through `help`.
fn run_stream<'a>(
    segments: impl Iterator<Item = &'a [u8]> + Clone,
    family: Family,
    loose: bool,
    pickup: bool,
) {
    let src = [0x0a, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut tracker = SeqTracker::new();
    if pickup {
        tracker.set_pickup();
    }
    for (k, dir) in DIRS.into_iter().enumerate() {
        let mut seq = 0xffff_fff0u32.wrapping_add(k as u32 * 0x1000);
        for chunk in segments.clone() {
            let before = tracker;
            let seg = Segment {
                data: chunk,
                seq,
                dir,
            };
            let v = help(&mut tracker, &seg, family, &src, loose);
            assert!(tracker.remembered(dir).len() <= NUM_SEQ_TO_REMEMBER);
            assert_eq!(
                tracker.remembered(dir.reverse()),
                before.remembered(dir.reverse())
            );
            match v {
                Verdict::Drop(_) => {
                    assert_eq!(tracker.remembered(dir), before.remembered(dir));
                    assert!(matches!(
                        search_line(chunk, dir, family),
                        Search::Partial(_)
                    ));
                }
                Verdict::Expect { found, daddr } => {
                    check_match(chunk, dir, family, &found);
                    assert_eq!(search_line(chunk, dir, family), Search::Found(found));
                    if let ExpectAddr::Announced(_) = daddr {
                        assert!(loose);
                    }
                }
                Verdict::NotRecorded(found) => {
                    assert!(!loose);
                    check_match(chunk, dir, family, &found);
                }
                Verdict::Accept => {}
            }
            // The stream only moves forward, so a line end is always remembered.
            if ends_in_nl(chunk) && !matches!(v, Verdict::Drop(_)) {
                assert!(tracker.find_nl_seq(seq_after(seq, chunk), dir));
            }
            seq = seq_after(seq, chunk);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    for dir in DIRS {
        for family in FAMILIES {
            let s = search_line(data, dir, family);
            match s {
                Search::Found(m) => check_match(data, dir, family, &m),
                Search::Partial(t) => {
                    assert!(SEARCH[dir.index()].iter().any(|e| e.ftype() == t));
                }
                Search::NotFound => {}
            }
        }
    }

    for delim in [None, Some(b'|'), data.first().copied()] {
        match in6_pton(data, delim) {
            Ok((_, end)) | Err(end) => assert!(end <= data.len()),
        }
        match in4_pton(data, delim) {
            Ok((_, end)) | Err(end) => assert!(end <= data.len()),
        }
    }

    let cut = 1 + data.len() % 13;
    for family in FAMILIES {
        for loose in [false, true] {
            run_stream(data.split_inclusive(|&c| c == b'\n'), family, loose, loose);
            run_stream(data.chunks(cut), family, loose, !loose);
        }
    }
});
