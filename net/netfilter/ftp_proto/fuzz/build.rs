// SPDX-License-Identifier: GPL-2.0

//! Builds the C parsers that the `diff_c` fuzz target compares `ftp_proto` with.
//!
//! The C is taken at build time from the source of the kernel the modules are built for, never
//! copied into the repository: `RNM_LINUX_SRC`, or else the `linux-source` tree of the build root
//! (`$RNM_CACHE/root/opt/rnm/src/linux-source-<version>`, the version being the second word of
//! `$RNM_CACHE/root/.rnm/kernel`, as `scripts/lib.sh` finds it).
//!
//! The parser functions of `net/netfilter/nf_conntrack_ftp.c` and what they call (`in4_pton()`
//! and `in6_pton()` of `net/core/utils.c`, `hex_to_bin()`, `strncasecmp()`, the kernel's ctype)
//! are cut out of their files, definition by definition, into `$OUT_DIR/kernel_parsers.h`, with
//! `#line` markers pointing back to the kernel source. `c/diff_c.c` includes that file after
//! `c/shim.h`, which defines the few kernel types and macros those definitions use, and exports
//! thin wrappers around the `static` functions.
//!
//! Under cargo-fuzz (`-Zsanitizer=address`), the C gets `-fsanitize=address` too, so that an
//! out-of-bounds access in the C is reported; with clang also `-fsanitize=fuzzer-no-link`, so
//! that its branches guide the fuzzer (gcc has no coverage libFuzzer can read).
//!
//! The script runs for every target of the crate, so all of them need the kernel source.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::exit;

/// Stops the build with a one-line error.
fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    exit(1);
}

/// The kernel source tree to take the C from.
fn linux_src() -> PathBuf {
    println!("cargo:rerun-if-env-changed=RNM_LINUX_SRC");
    println!("cargo:rerun-if-env-changed=RNM_CACHE");
    if let Some(dir) = env::var_os("RNM_LINUX_SRC") {
        return dir.into();
    }
    let cache = env::var_os("RNM_CACHE").map_or("/var/cache/rust-netmods".into(), PathBuf::from);
    let root = cache.join("root");
    let stamp = root.join(".rnm/kernel");
    println!("cargo:rerun-if-changed={}", stamp.display());
    let version = fs::read_to_string(&stamp)
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_else(|| {
            fail(&format!(
                "no kernel source: {} is missing (run scripts/setup.sh, or set RNM_LINUX_SRC to a linux source tree)",
                stamp.display()
            ))
        });
    root.join("opt/rnm/src")
        .join(format!("linux-source-{version}"))
}

/// One C source file of the kernel tree.
struct CFile {
    /// Path relative to the tree, for messages and `#line`.
    name: &'static str,
    path: PathBuf,
    text: String,
    /// For each byte, whether it is code (not in a comment, string or character literal).
    code: Vec<bool>,
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl CFile {
    fn read(tree: &Path, name: &'static str) -> Self {
        let path = tree.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(&path).unwrap_or_else(|e| {
            fail(&format!(
                "cannot read {} ({e}): is {} a linux source tree? (set RNM_LINUX_SRC)",
                path.display(),
                tree.display()
            ))
        });
        let code = code_bytes(text.as_bytes());
        Self {
            name,
            path,
            text,
            code,
        }
    }

    fn missing(&self, what: &str) -> ! {
        fail(&format!(
            "{} has no {what}: the diff_c fuzz target needs adapting to this kernel",
            self.path.display()
        ))
    }

    /// The brace depth at `pos`.
    fn depth(&self, pos: usize) -> i32 {
        let b = self.text.as_bytes();
        (0..pos)
            .filter(|&i| self.code[i])
            .map(|i| match b[i] {
                b'{' => 1,
                b'}' => -1,
                _ => 0,
            })
            .sum()
    }

    /// The position of the bracket closing the one at `open`.
    fn matching(&self, open: usize) -> Option<usize> {
        let b = self.text.as_bytes();
        let (o, c) = (b[open], if b[open] == b'(' { b')' } else { b'}' });
        let mut depth = 0;
        for (i, &x) in b.iter().enumerate().skip(open) {
            if !self.code[i] {
                continue;
            }
            if x == o {
                depth += 1;
            } else if x == c {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
        }
        None
    }

    /// The next code byte at or after `pos` that is not white space.
    fn next_code(&self, mut pos: usize) -> usize {
        let b = self.text.as_bytes();
        while pos < b.len() && (!self.code[pos] || b[pos].is_ascii_whitespace()) {
            pos += 1;
        }
        pos
    }

    /// The definition of function `name`, from the start of its return type to its closing
    /// brace.
    fn function(&self, name: &str) -> Range<usize> {
        let b = self.text.as_bytes();
        for (pos, _) in self.text.match_indices(name) {
            let after = self.next_code(pos + name.len());
            if !self.code[pos]
                || (pos > 0 && is_ident(b[pos - 1]))
                || b.get(after) != Some(&b'(')
                || self.depth(pos) != 0
            {
                continue;
            }
            let Some(close) = self.matching(after) else {
                continue;
            };
            let body = self.next_code(close + 1);
            if b.get(body) != Some(&b'{') {
                // A prototype or a call.
                continue;
            }
            let Some(end) = self.matching(body) else {
                continue;
            };
            return self.line_start(pos)..end + 1;
        }
        self.missing(&format!("definition of {name}()"))
    }

    /// The start of the declaration whose name is at `pos`: the start of its line, and of the
    /// lines above holding the rest of the declaration (`static int` on a line of its own).
    fn line_start(&self, pos: usize) -> usize {
        let t = &self.text;
        let mut start = t[..pos].rfind('\n').map_or(0, |i| i + 1);
        while start > 0 {
            let prev = t[..start - 1].rfind('\n').map_or(0, |i| i + 1);
            let line = t[prev..start - 1].trim();
            if line.is_empty()
                || line.starts_with('#')
                || [";", "}", "{", "*/"].iter().any(|e| line.ends_with(e))
            {
                break;
            }
            start = prev;
        }
        start
    }

    /// The top-level declaration starting with `head`, up to its final `;`.
    fn declaration(&self, head: &str) -> Range<usize> {
        let b = self.text.as_bytes();
        for (pos, _) in self.text.match_indices(head) {
            if !self.code[pos] || self.depth(pos) != 0 {
                continue;
            }
            let mut depth = 0;
            for (i, &x) in b.iter().enumerate().skip(pos) {
                if !self.code[i] {
                    continue;
                }
                match x {
                    b'{' => depth += 1,
                    b'}' => depth -= 1,
                    b';' if depth == 0 => return pos..i + 1,
                    _ => {}
                }
            }
        }
        self.missing(&format!("declaration `{head}`"))
    }

    /// The lines starting with `#define <prefix>`.
    fn defines(&self, prefix: &str) -> String {
        let head = format!("#define {prefix}");
        let lines: Vec<&str> = self.text.lines().filter(|l| l.starts_with(&head)).collect();
        if lines.is_empty() {
            self.missing(&format!("{head}*"));
        }
        lines.join("\n") + "\n"
    }

    /// Appends `range` of the file to `out`, after a `#line` marker.
    fn emit(&self, out: &mut String, range: Range<usize>) {
        let line = self.text[..range.start].matches('\n').count() + 1;
        let _ = writeln!(out, "#line {line} \"{}\"", self.path.display());
        out.push_str(&self.text[range]);
        out.push('\n');
    }

    /// Appends the whole file without its `#include` lines.
    fn emit_without_includes(&self, out: &mut String) {
        let _ = writeln!(out, "#line 1 \"{}\"", self.path.display());
        for line in self.text.lines() {
            // An empty line in its place keeps the line numbers.
            if !line.trim_start().starts_with("#include") {
                out.push_str(line);
            }
            out.push('\n');
        }
    }
}

/// Marks the bytes of comments, strings and character literals of C source `src`.
fn code_bytes(src: &[u8]) -> Vec<bool> {
    let mut code = vec![true; src.len()];
    let find = |from: usize, pat: &[u8]| {
        src.get(from..)
            .and_then(|s| s.windows(pat.len()).position(|w| w == pat))
            .map_or(src.len(), |p| from + p + pat.len())
    };
    let mut i = 0;
    while i < src.len() {
        let end = match (src[i], src.get(i + 1)) {
            (b'/', Some(b'*')) => find(i + 2, b"*/"),
            (b'/', Some(b'/')) => find(i + 2, b"\n"),
            (q @ (b'"' | b'\''), _) => {
                let mut j = i + 1;
                while j < src.len() && src[j] != q {
                    j += if src[j] == b'\\' { 2 } else { 1 };
                }
                j + 1
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let end = end.min(src.len());
        code[i..end].fill(false);
        i = end;
    }
    code
}

/// The text of `$OUT_DIR/kernel_parsers.h`.
fn kernel_parsers(tree: &Path) -> String {
    let mut out = format!(
        "/* Generated by build.rs from {}: the definitions diff_c compares ftp_proto with. */\n",
        tree.display()
    );

    let uapi = CFile::read(tree, "include/uapi/linux/netfilter/nf_conntrack_ftp.h");
    uapi.emit(&mut out, 0..uapi.text.len());
    CFile::read(tree, "include/linux/ctype.h").emit_without_includes(&mut out);
    let ctype = CFile::read(tree, "lib/ctype.c");
    ctype.emit(&mut out, ctype.declaration("const unsigned char _ctype[]"));
    let hexdump = CFile::read(tree, "lib/hexdump.c");
    hexdump.emit(&mut out, hexdump.function("hex_to_bin"));
    let string = CFile::read(tree, "lib/string.c");
    string.emit(&mut out, string.function("strncasecmp"));

    let utils = CFile::read(tree, "net/core/utils.c");
    let _ = writeln!(out, "/* {} */", utils.name);
    out.push_str(&utils.defines("IN6PTON_"));
    for name in ["xdigit2bin", "in4_pton", "in6_pton"] {
        utils.emit(&mut out, utils.function(name));
    }

    let ftp = CFile::read(tree, "net/netfilter/nf_conntrack_ftp.c");
    let mut functions: Vec<Range<usize>> = [
        "get_ipv6_addr",
        "try_number",
        "try_rfc959",
        "try_rfc1123",
        "get_port",
        "try_eprt",
        "try_epsv_response",
        "find_pattern",
    ]
    .iter()
    .map(|name| ftp.function(name))
    .collect();
    // In the order of the file, which defines each before its first use.
    functions.sort_by_key(|r| r.start);
    for range in functions {
        ftp.emit(&mut out, range);
    }
    ftp.emit(&mut out, ftp.declaration("static struct ftp_search"));
    out
}

fn main() {
    let tree = linux_src();
    if !tree.join("net/netfilter/nf_conntrack_ftp.c").is_file() {
        fail(&format!(
            "no linux source at {} (run scripts/setup.sh, or set RNM_LINUX_SRC to a linux source tree)",
            tree.display()
        ));
    }
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out_dir.join("kernel_parsers.h"), kernel_parsers(&tree))
        .unwrap_or_else(|e| fail(&format!("cannot write kernel_parsers.h: {e}")));

    for f in ["c/shim.h", "c/diff_c.c"] {
        println!("cargo:rerun-if-changed={f}");
    }
    let mut build = cc::Build::new();
    build
        .file("c/diff_c.c")
        .include("c")
        .include(&out_dir)
        .std("gnu11")
        // As the kernel compiles it: chars are unsigned, signed overflow wraps (in4_pton()
        // accumulates flag bits into an int), no type-based aliasing.
        .flag("-funsigned-char")
        .flag("-fno-strict-overflow")
        .flag("-fno-strict-aliasing")
        .warnings(false)
        .flag("-Wall")
        .flag_if_supported("-Wno-sign-compare");
    let sanitizers = env::var("CARGO_CFG_SANITIZE").unwrap_or_default();
    if sanitizers.split(',').any(|s| s == "address") {
        build.flag("-fsanitize=address");
        // clang: coverage and comparisons; gcc has only the comparisons, which libFuzzer also
        // takes (it has no callback for gcc's trace-pc).
        if build
            .is_flag_supported("-fsanitize=fuzzer-no-link")
            .unwrap_or(false)
        {
            build.flag("-fsanitize=fuzzer-no-link");
        } else {
            build.flag_if_supported("-fsanitize-coverage=trace-cmp");
        }
    }
    build.compile("ftp_c");
}
