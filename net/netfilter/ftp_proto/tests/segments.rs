// SPDX-License-Identifier: GPL-2.0

//! Lines split over segments, several lines per segment, retransmissions, reordering and
//! sequence number wrap-around, checked against the line-start tracking of the C helper.

mod common;

use common::{expect, matched, v4, Conn};
use ftp_proto::{Direction, Family, FtpType, Segment, SeqTracker, Verdict};

const O: Direction = Direction::Original;
const R: Direction = Direction::Reply;

fn conn() -> Conn {
    Conn::new(
        Family::V4,
        v4([10, 0, 0, 2]),
        v4([10, 0, 0, 1]),
        [1000, 5000],
    )
}

#[test]
fn command_split_in_its_arguments_is_dropped_until_complete() {
    let mut c = conn();
    c.c("USER a\r\n");
    let seq = c.next_seq[O.index()];
    // The numbers run out before the terminator: the C returns -1 and drops.
    assert_eq!(c.c("PORT 10,0,0,2,4,1"), Verdict::Drop(FtpType::Port));
    // A drop does not touch the tracker, and the stream did not move.
    assert_eq!(c.next_seq[O.index()], seq);
    assert_eq!(c.tracker.remembered(O), &[seq]);
    // The retransmission carrying the whole line is parsed.
    let line = "PORT 10,0,0,2,4,1\r\n";
    let (m, _) = expect(c.send_at(O, seq, line.as_bytes()));
    assert_eq!(m.port, 1025);
    assert_eq!(matched(line, &m), "10,0,0,2,4,1");
}

#[test]
fn command_split_in_its_pattern_is_dropped() {
    let mut c = conn();
    c.c("USER a\r\n");
    assert_eq!(c.c("PO"), Verdict::Drop(FtpType::Port));
    assert_eq!(c.c("EPR"), Verdict::Drop(FtpType::Eprt));
    assert_eq!(c.c("PORT"), Verdict::Drop(FtpType::Port));
    // The space may be missing from the segment too.
    assert_eq!(c.c("PORT\r"), Verdict::Drop(FtpType::Port));
    c.s("220 x\r\n");
    assert_eq!(c.s("2"), Verdict::Drop(FtpType::Pasv));
    assert_eq!(c.s("229"), Verdict::Drop(FtpType::Epsv));
    assert_eq!(
        c.s("227 Entering Passive Mode (10,0,0,"),
        Verdict::Drop(FtpType::Pasv)
    );
    assert_eq!(
        c.s("229 Entering Extended Passive Mode "),
        Verdict::Drop(FtpType::Epsv)
    );
    assert_eq!(
        c.s("229 Entering Extended Passive Mode (|||644"),
        Verdict::Drop(FtpType::Epsv)
    );
}

#[test]
fn line_continued_in_next_segment_is_not_searched() {
    let mut c = conn();
    c.c("USER a\r\n");
    // Starts at a line start, holds no command, and does not end with a newline.
    assert_eq!(c.c("NOOP\r\nPO"), Verdict::Accept);
    // Not at a known line start: the PORT is missed.
    assert_eq!(c.c("RT 10,0,0,2,4,1\r\n"), Verdict::Accept);
    // It ended with a newline, so the next segment is searched again.
    let (m, _) = expect(c.c("PORT 10,0,0,2,4,2\r\n"));
    assert_eq!(m.port, 1026);
}

#[test]
fn non_command_split_over_segments() {
    let mut c = conn();
    c.c("USER a\r\n");
    assert_eq!(c.c("SY"), Verdict::Accept);
    assert_eq!(c.c("ST\r\n"), Verdict::Accept);
    expect(c.c("PORT 10,0,0,2,4,1\r\n"));
}

#[test]
fn only_first_line_of_a_segment_is_searched() {
    let mut c = conn();
    c.c("USER a\r\n");
    assert_eq!(c.c("TYPE I\r\nPORT 10,0,0,2,4,1\r\n"), Verdict::Accept);
    // The command at the start of a segment wins over later lines, which are not looked at.
    let data = "PORT 10,0,0,2,4,2\r\nPORT 10,0,0,2,4,3\r\n";
    let (m, _) = expect(c.c(data));
    assert_eq!(m.port, 1026);
    assert_eq!(m.match_off, 5);
    assert_eq!(matched(data, &m), "10,0,0,2,4,2");
    // The skip character is searched across lines.
    c.s("220 x\r\n");
    let data = "229 Ready\r\n229 Entering Extended Passive Mode (|||5000|)\r\n";
    let (m, _) = expect(c.s(data));
    assert_eq!(m.port, 5000);
    assert_eq!(m.match_off, 47);
    assert_eq!(matched(data, &m), "|||5000|");
}

#[test]
fn retransmission_is_parsed_again_while_its_start_is_remembered() {
    let mut c = conn();
    assert_eq!(c.c("USER a\r\n"), Verdict::Accept);
    assert_eq!(c.tracker.remembered(O), &[1008]);
    let line = b"PORT 10,0,0,2,4,1\r\n";
    expect(c.c("PORT 10,0,0,2,4,1\r\n"));
    assert_eq!(c.tracker.remembered(O), &[1008, 1027]);
    // Retransmitted: still a known line start.
    expect(c.send_at(O, 1008, line));
    assert_eq!(c.tracker.remembered(O), &[1008, 1027]);
    // One more line replaces the oldest start.
    assert_eq!(c.c("NOOP\r\n"), Verdict::Accept);
    assert_eq!(c.tracker.remembered(O), &[1033, 1027]);
    // Now the retransmission is not searched, and its end is older than what is known.
    assert_eq!(c.send_at(O, 1008, line), Verdict::Accept);
    assert_eq!(c.tracker.remembered(O), &[1033, 1027]);
}

#[test]
fn one_reordered_segment_is_recovered_by_retransmission() {
    let mut c = conn();
    c.c("USER a\r\n");
    let type_i = b"TYPE I\r\n";
    let port = b"PORT 10,0,0,2,4,1\r\n";
    // PORT (at 1016) overtakes TYPE (at 1008): not at a known line start.
    assert_eq!(c.send_at(O, 1016, port), Verdict::Accept);
    assert_eq!(c.tracker.remembered(O), &[1008, 1035]);
    assert_eq!(c.send_at(O, 1008, type_i), Verdict::Accept);
    assert_eq!(c.tracker.remembered(O), &[1016, 1035]);
    // The retransmitted PORT is found now, and so is the next line.
    expect(c.send_at(O, 1016, port));
    expect(c.send_at(O, 1035, b"PORT 10,0,0,2,4,2\r\n"));
}

#[test]
fn malformed_command_ending_in_newline_does_not_record_line_start() {
    let mut c = conn();
    c.c("USER a\r\n");
    assert_eq!(c.c("PORT 1,2,3\r\n"), Verdict::Drop(FtpType::Port));
    assert_eq!(c.tracker.remembered(O), &[1008]);
    // Had the sender moved on, the next line would not be searched.
    assert_eq!(
        c.send_at(O, 1020, b"PORT 10,0,0,2,4,1\r\n"),
        Verdict::Accept
    );
}

#[test]
fn empty_segment_changes_nothing() {
    let mut c = conn();
    c.tracker.set_pickup();
    let before = c.tracker;
    assert_eq!(c.send_at(O, 1000, b""), Verdict::Accept);
    assert_eq!(c.tracker, before);
}

#[test]
fn directions_are_tracked_separately() {
    let mut c = conn();
    c.c("USER a\r\n");
    // The server's first segment is not searched even though the client's start is known.
    assert_eq!(
        c.s("227 Entering Passive Mode (10,0,0,1,4,1)\r\n"),
        Verdict::Accept
    );
    // The same sequence number in the other direction is not a line start.
    let s = c.next_seq[O.index()];
    assert_eq!(c.send_at(R, s, b"229 (|||5|)\r\n"), Verdict::Accept);
}

#[test]
fn pickup_after_ctnetlink_injection() {
    let mut c = conn();
    c.tracker.set_pickup();
    // The first segment of each direction is searched once.
    expect(c.c("PORT 10,0,0,2,4,1\r\n"));
    expect(c.s("229 Entering Extended Passive Mode (|||6000|)\r\n"));
    // Later segments need a known line start again.
    assert_eq!(c.send_at(O, 1, b"PORT 10,0,0,2,4,2\r\n"), Verdict::Accept);
    expect(c.c("PORT 10,0,0,2,4,3\r\n"));
}

#[test]
fn pickup_consumed_even_on_drop() {
    let mut c = conn();
    c.tracker.set_pickup();
    assert_eq!(c.c("PORT 10,0,0"), Verdict::Drop(FtpType::Port));
    assert!(!c.tracker.pickup(O));
    assert_eq!(c.c("PORT 10,0,0,2,4,1\r\n"), Verdict::Accept);
}

#[test]
fn sequence_numbers_wrap() {
    let mut c = Conn::new(
        Family::V4,
        v4([10, 0, 0, 2]),
        v4([10, 0, 0, 1]),
        [0xffff_fff8, 0xffff_fffe],
    );
    c.c("USER a\r\n");
    assert_eq!(c.tracker.remembered(O), &[0]);
    expect(c.c("PORT 10,0,0,2,4,1\r\n"));
    c.s("220 hi\r\n");
    assert_eq!(c.tracker.remembered(R), &[6]);
    let (m, _) = expect(c.s("229 Entering Extended Passive Mode (|||1234|)\r\n"));
    assert_eq!(m.port, 1234);
    assert_eq!(c.tracker.remembered(R), &[6, 53]);
    c.c("NOOP\r\n");
    c.c("NOOP\r\n");
    assert_eq!(c.tracker.remembered(O), &[25, 31]);
}

#[test]
fn tracker_is_plain_copyable_data() {
    let mut t = SeqTracker::default();
    let seg = Segment {
        data: b"USER a\r\n",
        seq: 1,
        dir: O,
    };
    let saved = t;
    let v = ftp_proto::help(&mut t, &seg, Family::V4, &v4([1, 2, 3, 4]), false);
    assert_eq!(v, Verdict::Accept);
    assert_ne!(t, saved);
    // Restoring a saved copy undoes the update, as the C leaves the tracker alone when it
    // cannot allocate the expectation.
    t = saved;
    assert!(t.remembered(O).is_empty());
}
