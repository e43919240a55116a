// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers of the C parsers of `net/netfilter/nf_conntrack_ftp.c` and `net/core/utils.c`,
//! compiled in user space for the `diff_c` fuzz target of `ftp_proto`
//! (`net/netfilter/ftp_proto/fuzz/c/diff_c.c`, built by its `build.rs`).
//!
//! Every buffer the C reads or writes is a slice or an array of the size it needs, and every
//! index the C uses to pick a function or a table entry is checked here: a wrong argument
//! panics (and so fails the fuzz run) instead of reading or writing out of bounds.

use core::ffi::{c_char, c_int, c_uchar, c_uint};

/// `struct rnm_c_parsed` of `c/diff_c.c`: what a C parser returned and left.
#[repr(C)]
#[derive(Default)]
pub struct CParsed {
    /// The C function's return value.
    pub ret: c_int,
    /// `*matchoff`.
    pub off: c_uint,
    /// `*matchlen`.
    pub len: c_uint,
    /// `cmd.u3`, 4 or 16 bytes used.
    pub addr: [u8; 16],
    /// `cmd.u.tcp.port`, host order.
    pub port: u16,
    /// The type of the matched entry, or -1.
    pub ftype: c_int,
}

/// `struct rnm_c_entry` of `c/diff_c.c`.
#[repr(C)]
struct CEntry {
    pattern: *const c_char,
    plen: usize,
    skip: c_uchar,
    term: c_uchar,
    ftype: c_int,
    parser: c_int,
}

/// One entry of the C search table (`search[dir][i]`).
pub struct Entry {
    /// The pattern, without the C string's terminator.
    pub pattern: &'static [u8],
    /// `skip`.
    pub skip: u8,
    /// `term`.
    pub term: u8,
    /// `ftptype`.
    pub ftype: c_int,
    /// Index of its `getnum` function (see [`getnum`]).
    pub parser: c_int,
}

extern "C" {
    fn rnm_c_search_entries() -> usize;
    fn rnm_c_search_entry(dir: c_int, i: usize, e: *mut CEntry);
    fn rnm_c_getnum(
        parser: c_int,
        data: *const u8,
        dlen: usize,
        term: c_uchar,
        l3num: u16,
        src: *const u8,
        r: *mut CParsed,
    );
    fn rnm_c_find_pattern(
        dir: c_int,
        i: usize,
        data: *const u8,
        dlen: usize,
        l3num: u16,
        src: *const u8,
        r: *mut CParsed,
    );
    fn rnm_c_search(
        dir: c_int,
        data: *const u8,
        dlen: usize,
        l3num: u16,
        src: *const u8,
        r: *mut CParsed,
    );
    fn rnm_c_get_ipv6_addr(src: *const u8, dlen: usize, dst: *mut u8, term: c_uchar) -> c_int;
    fn rnm_c_get_port(
        data: *const u8,
        start: c_int,
        dlen: usize,
        delim: c_uchar,
        port: *mut u16,
    ) -> c_int;
    fn rnm_c_try_number(
        data: *const u8,
        dlen: usize,
        array: *mut u32,
        n: c_int,
        sep: c_uchar,
        term: c_uchar,
    ) -> c_int;
    fn rnm_c_pton(
        ipv6: bool,
        src: *const u8,
        srclen: c_int,
        dst: *mut u8,
        delim: c_int,
        endoff: *mut usize,
    ) -> c_int;
}

/// The number of C `getnum` functions (`try_rfc959`, `try_rfc1123`, `try_eprt`,
/// `try_epsv_response`).
pub const PARSERS: c_int = 4;

fn check_dir(dir: c_int) {
    assert!(dir == 0 || dir == 1, "direction {dir}");
}

/// The width of the C search table (entries per direction).
pub fn search_entries() -> usize {
    // SAFETY: takes no arguments, reads a constant.
    unsafe { rnm_c_search_entries() }
}

/// Entry `i` of direction `dir` (0 or 1) of the C search table.  Panics if either is out of
/// range.
pub fn search_entry(dir: c_int, i: usize) -> Entry {
    check_dir(dir);
    assert!(i < search_entries(), "entry {i}");
    let mut e = CEntry {
        pattern: core::ptr::null(),
        plen: 0,
        skip: 0,
        term: 0,
        ftype: -1,
        parser: -1,
    };
    // SAFETY: `dir` and `i` index the table (checked above); `e` is writable.
    unsafe { rnm_c_search_entry(dir, i, &mut e) };
    // SAFETY: the C pattern is a string literal (static) of `plen` characters and more.
    let pattern = unsafe { core::slice::from_raw_parts(e.pattern.cast::<u8>(), e.plen) };
    Entry {
        pattern,
        skip: e.skip,
        term: e.term,
        ftype: e.ftype,
        parser: e.parser,
    }
}

/// The C `getnum` function `parser` (below [`PARSERS`]) on `data`, with terminator `term`,
/// for a connection of family `l3num` whose packet's source is `src`.
pub fn getnum(parser: c_int, data: &[u8], term: u8, l3num: u16, src: &[u8; 16]) -> CParsed {
    assert!((0..PARSERS).contains(&parser), "parser {parser}");
    let mut r = CParsed::default();
    // SAFETY: `data` is valid for `data.len()` bytes, `src` for 16; `r` is writable; `parser`
    // indexes the C array of functions (checked above).
    unsafe {
        rnm_c_getnum(
            parser,
            data.as_ptr(),
            data.len(),
            term,
            l3num,
            src.as_ptr(),
            &mut r,
        )
    };
    r
}

/// `find_pattern()` with entry `i` of direction `dir` of the search table, on `data`.
pub fn find_pattern(dir: c_int, i: usize, data: &[u8], l3num: u16, src: &[u8; 16]) -> CParsed {
    check_dir(dir);
    assert!(i < search_entries(), "entry {i}");
    let mut r = CParsed::default();
    // SAFETY: as in `getnum()`; `dir` and `i` index the table (checked above).
    unsafe { rnm_c_find_pattern(dir, i, data.as_ptr(), data.len(), l3num, src.as_ptr(), &mut r) };
    r
}

/// The search loop of `help()` over every entry of direction `dir`, on `data`.
pub fn search(dir: c_int, data: &[u8], l3num: u16, src: &[u8; 16]) -> CParsed {
    check_dir(dir);
    let mut r = CParsed::default();
    // SAFETY: as in `getnum()`; `dir` indexes the table (checked above).
    unsafe { rnm_c_search(dir, data.as_ptr(), data.len(), l3num, src.as_ptr(), &mut r) };
    r
}

/// `get_port()` on `data` from offset `start` (which may be past its end): the return value
/// and the port, host order.
pub fn get_port(data: &[u8], start: c_int, delim: u8) -> (c_int, u16) {
    assert!(start >= 0, "start {start}");
    let mut port = 0u16;
    // SAFETY: `data` is valid for `data.len()` bytes, which the C reads from `start` (not
    // negative) up to; `port` is writable.
    let ret = unsafe { rnm_c_get_port(data.as_ptr(), start, data.len(), delim, &mut port) };
    (ret, port)
}

/// `try_number()` for `N` (at most 6) numbers on `data`: the return value and the numbers.
pub fn try_number<const N: usize>(data: &[u8], sep: u8, term: u8) -> (c_int, [u32; N]) {
    assert!(N <= 6);
    let mut a = [0u32; N];
    // SAFETY: `data` is valid for `data.len()` bytes; `a` holds the `N` numbers the C writes
    // at most.
    let ret = unsafe {
        rnm_c_try_number(data.as_ptr(), data.len(), a.as_mut_ptr(), N as c_int, sep, term)
    };
    (ret, a)
}

/// `get_ipv6_addr()` on `data`: the return value and the 16 bytes of `dst`, which start as
/// `init`.
pub fn get_ipv6_addr(data: &[u8], term: u8, init: [u8; 16]) -> (c_int, [u8; 16]) {
    let mut addr = init;
    // SAFETY: `data` is valid for `data.len()` bytes; `addr` for the 16 the C writes.
    let ret = unsafe { rnm_c_get_ipv6_addr(data.as_ptr(), data.len(), addr.as_mut_ptr(), term) };
    (ret, addr)
}

/// `in6_pton()` (`N` = 16) or `in4_pton()` (`N` = 4) on the whole of `data`, with `delim`
/// (-1: none): the return value, the address and the offset of `*end`.
pub fn pton<const N: usize>(data: &[u8], delim: c_int) -> (c_int, [u8; N], usize) {
    assert!(N == 4 || N == 16);
    let srclen = c_int::try_from(data.len()).expect("input longer than INT_MAX");
    let (mut addr, mut end) = ([0u8; N], 0usize);
    // SAFETY: `data` is valid for `srclen` bytes (not -1, so the C does not look for a NUL),
    // `addr` for the 4 or 16 bytes the function writes; `end` is writable.
    let ret = unsafe {
        rnm_c_pton(N == 16, data.as_ptr(), srclen, addr.as_mut_ptr(), delim, &mut end)
    };
    (ret, addr, end)
}
