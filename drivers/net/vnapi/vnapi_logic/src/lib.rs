// SPDX-License-Identifier: GPL-2.0

//! Pure logic of the vnapi virtual NIC: parsing what is written to its
//! sysfs files, the interrupt coalescing decision, and ring index
//! arithmetic.
//!
//! The crate uses `core` only, never allocates and contains no `unsafe`
//! code, so that the kernel module can include this file as a module; it is
//! also built as an ordinary crate for the unit tests.  When included as a
//! module, the crate-level `no_std` attribute has no effect and triggers the
//! `unused_attributes` lint; the including `mod` item allows it.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// The space-separated words of a sysfs write with at most one trailing
/// newline, or `None` if it is not UTF-8.
fn words(input: &[u8]) -> Option<impl Iterator<Item = &str>> {
    let s = core::str::from_utf8(input).ok()?;
    let s = s.strip_suffix('\n').unwrap_or(s);
    Some(s.split(' ').filter(|w| !w.is_empty()))
}

/// An unsigned decimal number up to `u32::MAX`, digits only (no sign).
fn number(word: &str) -> Option<u32> {
    if word.bytes().all(|b| b.is_ascii_digit()) {
        word.parse().ok()
    } else {
        None
    }
}

/// Parses a sysfs write of at most `N` unsigned decimal numbers separated
/// by spaces, with at most one trailing newline, into `out`.
///
/// Returns how many numbers there were, or `None` (the caller's `EINVAL`)
/// for anything else: no number, more than `N`, a sign, another character,
/// a value above `u32::MAX`, bytes that are not UTF-8.
pub fn parse_numbers<const N: usize>(input: &[u8], out: &mut [u32; N]) -> Option<usize> {
    let mut n = 0;
    for word in words(input)? {
        if n == N {
            return None;
        }
        out[n] = number(word)?;
        n += 1;
    }
    if n == 0 {
        None
    } else {
        Some(n)
    }
}

/// Parses a write to `irq_cpu`: `QUEUE CPU` steers queue `QUEUE`'s
/// interrupt to `CPU`, `QUEUE local` lets it be handled wherever it is
/// raised (`None`).  Words are separated by spaces, with at most one
/// trailing newline.
///
/// Returns `None` (the caller's `EINVAL`) for anything else.  Whether the
/// queue and the CPU exist is for the caller to check.
pub fn parse_irq_cpu(input: &[u8]) -> Option<(u32, Option<u32>)> {
    let mut words = words(input)?;
    let queue = number(words.next()?)?;
    let cpu = match words.next()? {
        "local" => None,
        w => Some(number(w)?),
    };
    if words.next().is_some() {
        return None;
    }
    Some((queue, cpu))
}

/// What the receive path does about the interrupt after frames arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Irq {
    /// Nothing: no frame pending, or the line is masked (NAPI owns the
    /// queue and will look at the ring before unmasking).
    Wait,
    /// Fire the interrupt now.
    Now,
    /// Fire it after this many microseconds (unless already armed).
    After(u32),
}

/// The coalescing decision for `pending` frames received since the line
/// was unmasked: an interrupt after `rx_frames` frames or `rx_usecs`
/// microseconds, whichever comes first; `rx_usecs` 0 fires at once.
pub fn coalesce(pending: u32, masked: bool, rx_frames: u32, rx_usecs: u32) -> Irq {
    if pending == 0 || masked {
        Irq::Wait
    } else if rx_usecs == 0 || pending >= rx_frames {
        Irq::Now
    } else {
        Irq::After(rx_usecs)
    }
}

/// The index of the slot `i` places after `head` in a ring of `slots`
/// slots, for `head < slots` and `i <= slots` (no division: the data path
/// has no panicking arithmetic).
pub fn slot(head: usize, i: usize, slots: usize) -> usize {
    let j = head + i;
    if j >= slots {
        j - slots
    } else {
        j
    }
}

/// `i` modulo `n`, `None` for `n == 0`: the queue of a device of `n`
/// queues that takes the frames of queue `i` of another.  Divides only if
/// `i >= n`: the data path calls it for every frame, mostly with `i < n`,
/// and a division costs more than the rest of it under emulation.
pub fn wrap(i: usize, n: usize) -> Option<usize> {
    if i < n {
        Some(i)
    } else {
        i.checked_rem(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse2(s: &str) -> Option<(usize, [u32; 2])> {
        let mut v = [0; 2];
        parse_numbers(s.as_bytes(), &mut v).map(|n| (n, v))
    }

    #[test]
    fn parses_one_or_two_numbers() {
        assert_eq!(parse2("1"), Some((1, [1, 0])));
        assert_eq!(parse2("1\n"), Some((1, [1, 0])));
        assert_eq!(parse2("7 16\n"), Some((2, [7, 16])));
        assert_eq!(parse2("  7   16 "), Some((2, [7, 16])));
        assert_eq!(parse2("4294967295"), Some((1, [u32::MAX, 0])));
        assert_eq!(parse2("007"), Some((1, [7, 0])));
    }

    #[test]
    fn rejects_bad_input() {
        for s in [
            "",
            "\n",
            " ",
            "\n\n",
            "1 2 3",
            "-1",
            "+1",
            "1x",
            "x",
            "1\t2",
            "4294967296",
            "99999999999999999999",
            "1 \n\n",
            "١",
        ] {
            assert_eq!(parse2(s), None, "{s:?}");
        }
        let mut v = [0; 1];
        assert_eq!(parse_numbers(b"1 2", &mut v), None);
        assert_eq!(parse_numbers(b"\xff", &mut v), None);
        let big = "7".repeat(5000);
        assert_eq!(parse_numbers(big.as_bytes(), &mut v), None);
    }

    #[test]
    fn irq_cpu() {
        assert_eq!(parse_irq_cpu(b"0 1"), Some((0, Some(1))));
        assert_eq!(parse_irq_cpu(b"3 local\n"), Some((3, None)));
        assert_eq!(parse_irq_cpu(b" 1   0 "), Some((1, Some(0))));
        assert_eq!(parse_irq_cpu(b"0 4294967295"), Some((0, Some(u32::MAX))));
        for s in [
            "",
            "\n",
            "0",
            "0\n",
            "local",
            "local 0",
            "0 Local",
            "0 local 1",
            "0 1 2",
            "0 -1",
            "-1 0",
            "0 +1",
            "0 1x",
            "x 1",
            "0\t1",
            "0 4294967296",
            "0 1\n\n",
        ] {
            assert_eq!(parse_irq_cpu(s.as_bytes()), None, "{s:?}");
        }
        assert_eq!(parse_irq_cpu(b"0 \xff"), None);
        let big = format!("0 {}", "7".repeat(5000));
        assert_eq!(parse_irq_cpu(big.as_bytes()), None);
    }

    #[test]
    fn coalescing() {
        assert_eq!(coalesce(0, false, 1, 0), Irq::Wait);
        assert_eq!(coalesce(5, true, 1, 0), Irq::Wait);
        assert_eq!(coalesce(1, false, 32, 0), Irq::Now);
        assert_eq!(coalesce(1, false, 32, 20), Irq::After(20));
        assert_eq!(coalesce(31, false, 32, 20), Irq::After(20));
        assert_eq!(coalesce(32, false, 32, 20), Irq::Now);
        assert_eq!(coalesce(1, false, 1, 1_000_000), Irq::Now);
    }

    #[test]
    fn ring_slots() {
        assert_eq!(slot(0, 0, 4), 0);
        assert_eq!(slot(3, 1, 4), 0);
        assert_eq!(slot(2, 3, 4), 1);
        assert_eq!(slot(3, 4, 4), 3);
        // Walking a full ring from every head visits every slot once.
        for head in 0..8 {
            let mut seen = [false; 8];
            for i in 0..8 {
                seen[slot(head, i, 8)] = true;
            }
            assert!(seen.iter().all(|&s| s));
        }
    }

    #[test]
    fn wrap_is_modulo() {
        assert_eq!(wrap(0, 0), None);
        assert_eq!(wrap(5, 0), None);
        for n in 1..5 {
            for i in 0..12 {
                assert_eq!(wrap(i, n), Some(i % n));
            }
        }
    }
}
