#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the in-tree patch series from the repository's files.

Usage: mkseries.py LINUX_SOURCE REPO_TOP OUT_DIR

LINUX_SOURCE is a pristine unpacked kernel tree (only read).  The kernel
files the series edits are copied into a scratch git repository, each step
of STEPS below rewrites the project's files into their in-tree place and is
committed with its message from scripts/intree/messages/, and the commits
are written to OUT_DIR with git format-patch, plus a `series` file.

The rewriting is the same every time and uses only the repository's files:
there is no second copy of any source.  The rules (also described in
Documentation/rnm/building.rst, "The in-tree form"):

 - rust/rnm/<X>.rs becomes rust/kernel/<X>.rs (table MODULES), the
   netfilter abstractions become private modules of the FTP helper
   (net/netfilter/nf_conntrack_ftp_rs/netfilter/): the kernel crate is
   part of vmlinux, and nf_conntrack and nf_nat are modules in
   distribution kernels, so code that calls into them cannot live there.
 - `crate::rnm::bindings` and `crate::rnm::` become `kernel::bindings` and
   `kernel::` (with the renames of MODULES); `crate::rnm::netfilter`
   becomes `crate::netfilter`.
 - `pub(in crate::rnm)` becomes `pub(crate)`, or `pub` for the items the
   FTP helper's netfilter modules use across the crate boundary
   (PUBLIC_ITEMS).
 - rust/helpers/{bh,net}.c (wrappers of static inline functions of the
   core kernel) join rust/helpers/, included from helpers.c; their
   functions get the `rust_helper_` prefix and `__rust_helper`, so
   bindgen exposes them as `bindings::rnm_*` exactly as the out-of-tree
   bindings do.  rust/helpers/{netfilter,nf_nat}.c call nf_conntrack and
   nf_nat, so they become net/netfilter/nf_conntrack_rust.c, linked into
   the FTP helper, declared in include/net/netfilter/nf_conntrack_rust.h.
 - The headers of rust/bindings/rnm_bindings.h join
   rust/bindings/bindings_helper.h.
"""

import os
import re
import shutil
import subprocess
import sys

SRC, TOP, OUT = (os.path.abspath(a) for a in sys.argv[1:4])
INTREE = os.path.join(TOP, "scripts/intree")

# rust/rnm module -> path under rust/kernel/ and its Rust path in `kernel`.
MODULES = {
    "bh": ("bh.rs", "bh"),
    "rcu": ("sync/rcu_arc.rs", "sync::rcu_arc"),
    "percpu_counter": ("sync/percpu_counter.rs", "sync::percpu_counter"),
    "sysfs": ("sysfs.rs", "sysfs"),
    "bus": ("bus.rs", "bus"),
    "sysctl": ("sysctl.rs", "sysctl"),
    "net_namespace": ("net_namespace.rs", "net_namespace"),
    "net::device": ("net/device.rs", "net::device"),
    "net::ethtool": ("net/ethtool.rs", "net::ethtool"),
    "net::napi": ("net/napi.rs", "net::napi"),
    "net::skb": ("net/skb.rs", "net::skb"),
    "net::xdp": ("net/xdp.rs", "net::xdp"),
}

# Functions (file, name) that stay callable from the FTP helper's own
# netfilter modules.
PUBLIC_ITEMS = {(l.split()[0], l.split()[1])
                for l in open(os.path.join(INTREE, "public-items"))
                if l.strip() and not l.startswith("#")}

# Functions of rust/helpers/netfilter.{c,h} that wrap core-kernel inlines
# and so go to rust/helpers/ with the others.
CORE_FROM_NETFILTER = ["rnm_skb_frag_pointer", "rnm_net_generic"]


def read(path):
    with open(path) as f:
        return f.read()


def write(rel, text):
    path = os.path.join(W, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # checkpatch: no blank line at the end of a file.
    text = text.rstrip("\n") + "\n" if text.strip() else text
    with open(path, "w") as f:
        f.write(text)


def git(*args, **kw):
    return subprocess.run(["git", "-C", W] + list(args), check=True,
                          stdout=subprocess.PIPE, text=True, **kw).stdout


# ---------------------------------------------------------------- Rust

def rust_paths(text, in_kernel):
    """Rewrite crate::rnm paths for the in-tree crate the file lands in."""
    def mod(m):
        path = m.group(1)
        for name in sorted(MODULES, key=len, reverse=True):
            if path == name or path.startswith(name + "::"):
                return "kernel::" + MODULES[name][1] + path[len(name):]
        return "kernel::" + path
    text = text.replace("crate::rnm::netfilter", "crate::netfilter")
    text = text.replace("crate::rnm::bindings", "kernel::bindings")
    text = re.sub(r"crate::rnm::((?:[a-z_]+)(?:::[a-z_]+)*)", mod, text)
    # Grouped imports: `crate::rnm::{a, b::c}`; rename inside the group.
    out, pos = [], 0
    while True:
        i = text.find("crate::rnm::{", pos)
        if i < 0:
            break
        j, depth = i + len("crate::rnm::{"), 1
        while depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        group = text[i + len("crate::rnm::"):j]
        for name in MODULES:
            if "::" not in name and MODULES[name][1] != name:
                group = re.sub(r"(?<![\w:])%s\b" % name, MODULES[name][1], group)
        out.append(text[pos:i] + "kernel::" + group)
        pos = j
    return "".join(out) + text[pos:]


def rust_visibility(text, rel):
    out = []
    for line in text.splitlines(keepends=True):
        if "pub(in crate::rnm)" in line:
            m = re.search(r"\bfn\s+(\w+)|\b(?:struct|enum|const|type|mod)\s+(\w+)", line)
            name = m and (m.group(1) or m.group(2))
            vis = "pub" if (rel, name) in PUBLIC_ITEMS else "pub(crate)"
            line = line.replace("pub(in crate::rnm)", vis)
        out.append(line)
    return "".join(out)


def rust_file(rel, in_kernel):
    text = read(os.path.join(TOP, rel))
    text = rust_visibility(text, rel)
    return rust_paths(text, in_kernel)


def add_kernel_module(lib_rel, decl, after_re):
    """Add a `pub mod` line to a kernel module file after the line matching
    after_re (the last such line), unless it is there."""
    path = os.path.join(W, lib_rel)
    text = read(path)
    if decl in text:
        return
    lines = text.splitlines(keepends=True)
    idx = max(i for i, l in enumerate(lines) if re.match(after_re, l))
    lines.insert(idx + 1, decl + "\n")
    write(lib_rel, "".join(lines))


def lib_mod(name, cfg=None):
    """`pub mod name;` into rust/kernel/lib.rs in alphabetical order."""
    path = os.path.join(W, "rust/kernel/lib.rs")
    lines = read(path).splitlines(keepends=True)
    mods = [i for i, l in enumerate(lines) if re.match(r"pub mod \w+;", l)]
    pos = mods[-1] + 1
    for i in mods:
        if re.match(r"pub mod (\w+);", lines[i]).group(1) > name:
            pos = i
            while pos > 0 and lines[pos - 1].startswith("#["):
                pos -= 1
            break
    new = ([f"#[cfg({cfg})]\n"] if cfg else []) + [f"pub mod {name};\n"]
    lines[pos:pos] = new
    write("rust/kernel/lib.rs", "".join(lines))


def kernel_rs(rnm_name):
    rel_src = "rust/rnm/" + rnm_name.replace("::", "/") + ".rs"
    write("rust/kernel/" + MODULES[rnm_name][0], rust_file(rel_src, True))


# ---------------------------------------------------------------- C

def c_functions(text, names):
    """Split C text into (rest, [definitions of names])."""
    taken = []
    for name in names:
        m = re.search(r"^[^\s#/][^\n]*\b%s\([^)]*\)\n\{\n.*?^\}\n\n?" % name, text,
                      re.S | re.M)
        if m:
            taken.append(m.group(0))
            text = text[:m.start()] + text[m.end():]
    return text, taken


def c_drop_declarations(text, names):
    """Drop the declarations of names (the name on the first line, the
    parameters on as many as they take)."""
    for name in names:
        text = re.sub(r"^[^\s#/][^;\n]*\b%s\([^;]*\);\n\n?" % name, "", text, flags=re.M)
    return text


def rust_helper(text):
    """Turn rnm_X definitions into `__rust_helper` rust_helper_rnm_X ones."""
    text = re.sub(r'^#include "[a-z_]+\.h"\n', "", text, flags=re.M)
    return re.sub(r"^(?!static\b)([a-zA-Z][^(\n;]*?)\brnm_(\w+)\(", r"__rust_helper\n\1rust_helper_rnm_\2(",
                  text, flags=re.M)


def helpers_include(name):
    path = os.path.join(W, "rust/helpers/helpers.c")
    lines = read(path).splitlines(keepends=True)
    inc = f'#include "{name}"\n'
    if inc in lines:
        return
    incs = [i for i, l in enumerate(lines) if re.match(r'#include "', l)]
    pos = incs[-1] + 1
    for i in incs:
        if lines[i] > inc:
            pos = i
            break
    lines.insert(pos, inc)
    write("rust/helpers/helpers.c", "".join(lines))


def bindings_includes(headers):
    """Add #include <...> lines to bindings_helper.h, after its last one."""
    path = os.path.join(W, "rust/bindings/bindings_helper.h")
    text = read(path)
    new = [h for h in headers if f"#include <{h}>" not in text]
    if not new:
        return
    lines = text.splitlines(keepends=True)
    incs = [i for i, l in enumerate(lines) if l.startswith("#include <")]
    # The angle-bracket includes are sorted; add each in its place.
    for h in new:
        inc = f"#include <{h}>\n"
        incs = [i for i, l in enumerate(lines) if l.startswith("#include <")]
        pos = incs[-1] + 1
        for i in incs:
            if lines[i] > inc and not lines[i].startswith("#include <linux/hrtimer_types"):
                pos = i
                break
        lines.insert(pos, inc)
    write("rust/bindings/bindings_helper.h", "".join(lines))


def rnm_headers(section):
    """The <...> headers rnm_bindings.h includes, by section: 'core' or
    'netfilter' (the ones under net/netfilter and linux/netfilter.h)."""
    hs = re.findall(r"^#include <([^>]+)>", read(os.path.join(TOP, "rust/bindings/rnm_bindings.h")), re.M)
    nf = [h for h in hs if "netfilter" in h]
    return nf if section == "netfilter" else [h for h in hs if h not in nf]


# ---------------------------------------------------------------- Kbuild

def append_block(rel, text, before_re=None):
    path = os.path.join(W, rel)
    cur = read(path)
    if text in cur:
        return
    if before_re:
        m = re.search(before_re, cur, re.M)
        if m:
            write(rel, cur[:m.start()] + text + cur[m.start():])
            return
    write(rel, cur.rstrip("\n") + "\n" + text)


def fragment(name):
    return read(os.path.join(INTREE, name))


# ---------------------------------------------------------------- steps

def step_helpers():
    bh = rust_helper(read(os.path.join(TOP, "rust/helpers/bh.c")))
    write("rust/helpers/bh.c", bh)
    write("rust/helpers/sysfs.c", rust_helper(read(os.path.join(TOP, "rust/helpers/sysfs.c"))))
    write("rust/helpers/percpu_counter.c",
          rust_helper(read(os.path.join(TOP, "rust/helpers/percpu_counter.c"))))
    net = read(os.path.join(TOP, "rust/helpers/net.c"))
    _, generic = c_functions(read(os.path.join(TOP, "rust/helpers/netfilter.c")), CORE_FROM_NETFILTER)
    net = net.replace("#include <net/sock.h>\n", "#include <net/sock.h>\n#include <net/netns/generic.h>\n")
    write("rust/helpers/net/netdevice.c", rust_helper(net.rstrip("\n") + "\n\n" + "".join(generic).rstrip("\n") + "\n"))
    helpers_include("bh.c")
    helpers_include("sysfs.c")
    helpers_include("percpu_counter.c")
    helpers_include("net/netdevice.c")
    # rtnetlink.h: rtnl_is_locked(), which rnm_bindings.h reaches through
    # the netfilter headers only.
    bindings_includes(rnm_headers("core") + ["linux/rtnetlink.h", "net/net_namespace.h",
                                             "net/netns/generic.h", "linux/smp.h"])


def step_bh_rcu():
    kernel_rs("bh")
    lib_mod("bh")
    kernel_rs("rcu")
    add_kernel_module("rust/kernel/sync.rs", "pub mod rcu_arc;", r"pub mod \w+;")
    kernel_rs("percpu_counter")
    add_kernel_module("rust/kernel/sync.rs", "pub mod percpu_counter;", r"pub mod lock;")


def step_sysfs_bus():
    kernel_rs("sysfs")
    lib_mod("sysfs")
    kernel_rs("bus")
    lib_mod("bus")


def step_sysctl_netns():
    kernel_rs("sysctl")
    lib_mod("sysctl")
    kernel_rs("net_namespace")
    lib_mod("net_namespace", "CONFIG_NET")


def step_net():
    for m in ("net::device", "net::ethtool", "net::napi", "net::skb", "net::xdp"):
        kernel_rs(m)
    mod = rust_file("rust/rnm/net/mod.rs", True)
    # Its `pub mod` lines join rust/kernel/net.rs; its items follow them.
    decls = re.findall(r"^pub mod \w+;$", mod, re.M)
    body = re.sub(r"^//!.*\n", "", mod, flags=re.M)
    body = re.sub(r"^// SPDX.*\n", "", body)
    body = re.sub(r"^pub mod \w+;\n", "", body, flags=re.M).strip("\n")
    netmod = "rust/kernel/net.rs" if os.path.exists(os.path.join(W, "rust/kernel/net.rs")) else "rust/kernel/net/mod.rs"
    for d in decls:
        add_kernel_module(netmod, d, r"pub mod \w+;")
    append_block(netmod, "\n" + body + "\n")


def module_root(rel, repl):
    text = rust_file(rel, False)
    text = re.sub(r'#\[allow\(dead_code\)\]\n#\[path = "[./]*rust/rnm/lib\.rs"\]\nmod rnm;\n', repl, text)
    if "mod rnm;" in text:
        sys.exit(f"error: {rel}: cannot find its `mod rnm;` to rewrite")
    return text


def step_sample():
    write("samples/rust/rust_sysctl_sample.rs",
          module_root("samples/rust/rust_sysctl_sample_main.rs", ""))
    append_block("samples/rust/Kconfig", fragment("samples-rust.Kconfig"), r"^config SAMPLE_RUST_HOSTPROGS")
    append_block("samples/rust/Makefile", fragment("samples-rust.Makefile"), r"^\nrust_print-y")


def step_ftp():
    # The C glue: the out-of-tree composite file with its includes expanded.
    nfh = read(os.path.join(TOP, "rust/helpers/netfilter.h"))
    nath = read(os.path.join(TOP, "rust/helpers/nf_nat.h"))
    strip = lambda t: re.sub(r"^(//|/\*) SPDX.*\n", "", t)
    hdr = ("/* SPDX-License-Identifier: GPL-2.0 */\n"
           "/*\n * Conntrack and NAT functions for the Rust netfilter abstractions of\n"
           " * nf_conntrack_ftp_rs, defined in net/netfilter/nf_conntrack_rust.c.\n */\n"
           "#ifndef _NF_CONNTRACK_RUST_H\n#define _NF_CONNTRACK_RUST_H\n\n"
           + c_drop_declarations(strip(nfh), CORE_FROM_NETFILTER) + "\n" + strip(nath)
           + "\n#endif /* _NF_CONNTRACK_RUST_H */\n")
    write("include/net/netfilter/nf_conntrack_rust.h", hdr)
    nfc, _ = c_functions(read(os.path.join(TOP, "rust/helpers/netfilter.c")), CORE_FROM_NETFILTER)
    natc = read(os.path.join(TOP, "rust/helpers/nf_nat.c"))
    inc = "#include <net/netfilter/nf_conntrack_rust.h>\n"
    body = (strip(nfc).replace('#include "netfilter.h"\n', inc).rstrip("\n") + "\n\n"
            + strip(natc).replace('\n#include "nf_nat.h"\n', "").rstrip("\n") + "\n")
    body = body.replace("rust/rnm/netfilter/", "net/netfilter/nf_conntrack_ftp_rs/netfilter/")
    write("net/netfilter/nf_conntrack_rust.c", "// SPDX-License-Identifier: GPL-2.0\n" + body)
    bindings_includes(rnm_headers("netfilter") + ["net/netfilter/nf_conntrack_rust.h"])
    # The netfilter abstractions, private to the module.
    base = "net/netfilter/nf_conntrack_ftp_rs/"
    for f in sorted(os.listdir(os.path.join(TOP, "rust/rnm/netfilter"))):
        write(base + "netfilter/" + f, rust_file("rust/rnm/netfilter/" + f, False))
    for d, _, files in os.walk(os.path.join(TOP, "net/netfilter/ftp_proto/src")):
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(d, f), TOP)
            write(base + "ftp_proto/" + os.path.relpath(rel, "net/netfilter/ftp_proto/"), read(os.path.join(TOP, rel)))
    root = module_root("net/netfilter/nf_conntrack_ftp_rs_main.rs",
                       '#[allow(dead_code, unreachable_pub)]\n#[path = "nf_conntrack_ftp_rs/netfilter/mod.rs"]\nmod netfilter;\n')
    root = root.replace('#[path = "ftp_proto/src/lib.rs"]', '#[path = "nf_conntrack_ftp_rs/ftp_proto/src/lib.rs"]')
    write("net/netfilter/nf_conntrack_ftp_rs_main.rs", root)
    append_block("net/netfilter/Kconfig", fragment("netfilter.Kconfig"), r"^config NF_CONNTRACK_H323")
    append_block("net/netfilter/Makefile", fragment("netfilter.Makefile"), r"^obj-\$\(CONFIG_NF_CONNTRACK_H323\)")


def step_vnapi():
    d = "drivers/net/vnapi/"
    for f in sorted(os.listdir(os.path.join(TOP, d))):
        if f.endswith(".rs"):
            text = module_root(d + f, "") if f == "vnapi_main.rs" else rust_file(d + f, False)
            write(d + f, text)
    write(d + "vnapi_logic/src/lib.rs", read(os.path.join(TOP, d, "vnapi_logic/src/lib.rs")))
    write(d + "Makefile", fragment("vnapi.Makefile"))
    append_block("drivers/net/Kconfig", fragment("drivers-net.Kconfig"), r"^config VIRTIO_NET")
    append_block("drivers/net/Makefile", fragment("drivers-net.Makefile"), r"^obj-\$\(CONFIG_VIRTIO_NET\)")


def step_selftests():
    d = "tools/testing/selftests/rnm/"
    for f in sorted(os.listdir(os.path.join(TOP, d))):
        # Not build outputs, nor the test module's source: it is built out
        # of tree only (rnm_testmod.sh skips where it is not built).
        if f.startswith(".") or f.endswith(".o") or f == "rnm_testmod_main.rs":
            continue
        src = os.path.join(TOP, d, f)
        write(d + f, read(src))
        if os.access(src, os.X_OK):
            os.chmod(os.path.join(W, d, f), 0o755)
    path = os.path.join(W, "tools/testing/selftests/Makefile")
    lines = read(path).splitlines(keepends=True)
    targets = [i for i, l in enumerate(lines) if l.startswith("TARGETS += ")]
    pos = targets[-1] + 1
    for i in targets:
        if lines[i] > "TARGETS += rnm\n":
            pos = i
            break
    if "TARGETS += rnm\n" not in lines:
        lines.insert(pos, "TARGETS += rnm\n")
    write("tools/testing/selftests/Makefile", "".join(lines))


def step_docs():
    d = "Documentation/rnm/"
    for f in sorted(os.listdir(os.path.join(TOP, d))):
        if f == "building.rst":
            continue
        text = read(os.path.join(TOP, d, f))
        # The files named in the text, at their in-tree places.
        for a, b in DOC_PATHS:
            text = text.replace(a, b)
        if f == "index.rst":
            text = text.replace("   building\n", "")
            text = text.replace("built out of tree for the stock\nDebian kernel.",
                                "in the kernel tree.")
        write(d + f, text)
    path = os.path.join(W, "Documentation/subsystem-apis.rst")
    text = read(path)
    if "rnm/index" not in text:
        text = text.replace("   networking/index\n", "   networking/index\n   rnm/index\n", 1)
        write("Documentation/subsystem-apis.rst", text)


def step_maintainers():
    entry = fragment("MAINTAINERS")
    title = entry.splitlines()[0]
    path = os.path.join(W, "MAINTAINERS")
    text = read(path)
    if title in text:
        return
    # Entries are blocks starting with an upper-case title line after a
    # blank line, sorted by title; the first sections are the preamble.
    for m in re.finditer(r"\n\n([A-Z0-9][^\n]*)\n[A-Z]:\t", text):
        if m.group(1) > title:
            text = text[:m.start() + 2] + entry.rstrip("\n") + "\n\n" + text[m.start() + 2:]
            break
    write("MAINTAINERS", text)


# Source paths named in Documentation/rnm/, most specific first.
DOC_PATHS = [
    # Sentences about the out-of-tree layout.
    ("abstractions in ``rust/rnm/``: ``netfilter::helper``",
     "abstractions in ``net/netfilter/nf_conntrack_ftp_rs/netfilter/``: ``netfilter::helper``"),
    ("of the project is in ``rust/rnm/``, the abstractions,",
     "of the project is in the abstractions (``rust/kernel/`` and\n"
     "``net/netfilter/nf_conntrack_ftp_rs/netfilter/``),"),
    ("``rust/rnm`` is compiled into each module as ``mod rnm``; its raw\n"
     "       items are ``pub(in crate::rnm)`` and the bindings module is private",
     "the abstractions' raw items are ``pub(crate)``; ``kernel::bindings``\n"
     "       is public, as for every Rust user in the tree, and the modules'\n"
     "       ``#![forbid(unsafe_code)]`` keeps them from calling it"),
    ("``rust/probes/``, is built by ``make check`` (``scripts/probes.sh``)",
     "``rust/probes/`` of the rust-netmods repository, is built by its\n"
     "``make check`` (``scripts/probes.sh``)"),
    ("rust/rnm/netfilter/", "net/netfilter/nf_conntrack_ftp_rs/netfilter/"),
    ("rust/rnm/rcu.rs", "rust/kernel/sync/rcu_arc.rs"),
    ("rust/rnm/", "rust/kernel/"),
    ("``rust/rnm``", "``rust/kernel``"),
]

STEPS = [
    ("rust-helpers", step_helpers,
     ["rust/bindings/bindings_helper.h", "rust/helpers/helpers.c"]),
    ("rust-bh-rcu", step_bh_rcu, ["rust/kernel/lib.rs", "rust/kernel/sync.rs"]),
    ("rust-sysfs-bus", step_sysfs_bus, []),
    ("rust-sysctl-netns", step_sysctl_netns, []),
    ("rust-net", step_net, ["rust/kernel/net.rs", "rust/kernel/net/mod.rs"]),
    ("samples-sysctl", step_sample, ["samples/rust/Kconfig", "samples/rust/Makefile"]),
    ("netfilter-ftp", step_ftp, ["net/netfilter/Kconfig", "net/netfilter/Makefile"]),
    ("vnapi", step_vnapi, ["drivers/net/Kconfig", "drivers/net/Makefile"]),
    ("selftests", step_selftests, ["tools/testing/selftests/Makefile"]),
    ("docs", step_docs, ["Documentation/subsystem-apis.rst"]),
    ("maintainers", step_maintainers, ["MAINTAINERS"]),
]

W = os.path.join(OUT, ".work")
shutil.rmtree(W, ignore_errors=True)
os.makedirs(W)
git("init", "-q")
for _, _, files in STEPS:
    for rel in files:
        if os.path.exists(os.path.join(SRC, rel)):
            os.makedirs(os.path.dirname(os.path.join(W, rel)), exist_ok=True)
            shutil.copy(os.path.join(SRC, rel), os.path.join(W, rel))
env = dict(os.environ,
           GIT_AUTHOR_NAME="rust-netmods developers",
           GIT_AUTHOR_EMAIL="rust-netmods@localhost",
           GIT_COMMITTER_NAME="rust-netmods developers",
           GIT_COMMITTER_EMAIL="rust-netmods@localhost",
           GIT_AUTHOR_DATE="2026-01-01T00:00:00Z",
           GIT_COMMITTER_DATE="2026-01-01T00:00:00Z")
git("add", "-A", "-f", env=env)
git("commit", "-q", "-m", "base", env=env)
for i, (name, fn, _) in enumerate(STEPS, 1):
    fn()
    msg = os.path.join(INTREE, "messages", f"{i:02d}-{name}")
    if not os.path.exists(msg):
        sys.exit(f"error: no commit message {msg}")
    git("add", "-A", "-f", env=env)
    if not git("status", "--porcelain", env=env).strip():
        sys.exit(f"error: step {name} changed nothing")
    git("commit", "-q", "-F", msg, env=env)

for f in os.listdir(OUT):
    if f.endswith(".patch") or f == "series":
        os.remove(os.path.join(OUT, f))
names = git("format-patch", "--no-signature", "--zero-commit", "-o", OUT, "HEAD~%d" % len(STEPS), env=env).split()
with open(os.path.join(OUT, "series"), "w") as f:
    for n in names:
        f.write(os.path.basename(n) + "\n")
shutil.rmtree(W)
print(len(names))
