#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Splits the CPU time of a perf profile by call chain, for the benchmarks'
# profiles (BENCH_PROFILE=1).  Reads `perf script -F period,ip,sym` (a
# sample's period in ns, then its chain, leaf first) on stdin.
#
#   perf_chains.py vnapi KIND FRAMES TOP
#       Prints "XMIT RX_DRV RX_STACK REST FRAMES": the microseconds per
#       frame (FRAMES received) of the samples under the driver's transmit
#       (KIND vnapi*: vnapi's ndo_start_xmit; veth: veth_xmit), under the
#       stack's receive (__netif_receive_skb_one_core or _list_core),
#       under the receive path around it (vnapi's NAPI poll, or the
#       backlog's process_backlog), and the rest; the category of a sample
#       is that of the frame nearest the leaf that has one; idle CPUs
#       (do_idle) are left out.  With TOP 1, also lists on stderr the
#       twenty functions the samples were taken in most.
#   perf_chains.py helpers UNITS_C UNITS_RUST TOP
#       As helper, for a run of both helpers at once: prints "C_US RUST_US",
#       the samples told apart by the help function (C's help(), the Rust
#       helper's help_callback() or help_packet(), to which it jumps);
#       fails if perf did not resolve it.
#   perf_chains.py helper UNITS TOP
#       Prints the microseconds per unit (UNITS in the run) of the samples
#       taken inside a conntrack helper: below the function nf_confirm()
#       calls other than its own confirmation and sequence adjustment (the
#       helper's help function, told by its place in the chain: perf may
#       not resolve a module's names).  With TOP 1, also lists on stderr
#       the twelve functions those samples were taken in most; with TOP 2,
#       also the thirty places (function+offset) they were taken at most.

import re
import sys


def samples(f, offsets=False):
    """Yields (period, [symbol, ...]) for each sample, leaf first; with
    offsets, also the leaf's symbol+offset."""
    period, syms, at = None, [], None
    for line in f:
        w = line.split()
        if not w:
            if period is not None:
                yield (period, syms, at) if offsets else (period, syms)
            period, syms, at = None, [], None
        elif period is None:
            period = int(w[0])
        elif len(w) >= 2:
            if at is None:
                at = w[1]
            syms.append(re.sub(r"\+0x[0-9a-f]+$", "", w[1]))
    if period is not None:
        yield (period, syms, at) if offsets else (period, syms)


def top_list(leaf, units, n):
    """Lists on stderr the n functions with the most time, per unit."""
    for sym, t in sorted(leaf.items(), key=lambda x: -x[1])[:n]:
        # Long (Rust) names: their start and their end, with any offset.
        if len(sym) > 100:
            sym = sym[:60] + "..." + sym[-37:]
        print("#   %8.2f us  %s" % (t / 1e3 / units, sym), file=sys.stderr)


def vnapi(kind, frames, top):
    vn = kind.startswith("vnapi")
    cats = (("x", re.compile(r"Adapter.*start_xmit" if vn else r"^veth_xmit$")),
            ("s", re.compile(r"^__netif_receive_skb_(one|list)_core$")),
            ("p", re.compile(r"poll_callback" if vn else r"^process_backlog$")))
    ns = {"x": 0, "s": 0, "p": 0, "r": 0}
    leaf = {}
    for period, syms in samples(sys.stdin):
        if "do_idle" in syms or not syms:
            continue
        k = next((k for sym in syms for k, rx in cats if rx.search(sym)), "r")
        ns[k] += period
        leaf[syms[0]] = leaf.get(syms[0], 0) + period
    if frames <= 0 or not sum(ns.values()):
        sys.exit("no samples or no frames")
    us = [ns[k] / 1e3 / frames for k in "xpsr"]
    print("%.1f %.1f %.1f %.1f %d" % (*us, frames))
    if top:
        top_list(leaf, frames, 20)


def helper_samples(f):
    """Yields (period, help function, leaf symbol, leaf symbol+offset) for
    each sample taken inside a conntrack helper: below the function
    nf_confirm() calls other than its own confirmation and sequence
    adjustment."""
    core = {"nf_conntrack_confirm", "__nf_conntrack_confirm", "nf_ct_seq_adjust"}
    for period, syms, off in samples(f, True):
        for i, sym in enumerate(syms):
            if sym == "nf_confirm" and i > 0 and syms[i - 1] not in core:
                yield period, syms[i - 1], syms[0], off
                break


def helper(units, top):
    ns, leaf, at = 0, {}, {}
    for period, _, sym, off in helper_samples(sys.stdin):
        ns += period
        leaf[sym] = leaf.get(sym, 0) + period
        at[off] = at.get(off, 0) + period
    if units <= 0:
        sys.exit("no units")
    print("%.1f" % (ns / 1e3 / units))
    if top:
        top_list(leaf, units, 12)
    if top > 1:
        print("#   hottest places:", file=sys.stderr)
        top_list(at, units, 30)


def helpers(units_c, units_rs, top):
    """As helper(), for a profile of both helpers at once: the samples are
    told apart by the help function they were taken below (C's help(),
    the Rust helper's help_callback() or, for the packets it passes on,
    help_packet(), to which it jumps: a tail call, which leaves
    help_callback() off the chain), which perf must resolve."""
    ns = {"c": 0, "rs": 0, "?": 0}
    leaf = {"c": {}, "rs": {}}
    for period, h, sym, _ in helper_samples(sys.stdin):
        rust = "help_callback" in h or "help_packet" in h
        k = "c" if h == "help" else "rs" if rust else "?"
        ns[k] += period
        if k != "?":
            leaf[k][sym] = leaf[k].get(sym, 0) + period
    if units_c <= 0 or units_rs <= 0:
        sys.exit("no units")
    total = sum(ns.values())
    if not total or ns["?"] > total / 100:
        sys.exit("helper samples not told apart: %d of %d ns below an unknown function"
                 % (ns["?"], total))
    print("%.1f %.1f" % (ns["c"] / 1e3 / units_c, ns["rs"] / 1e3 / units_rs))
    if top:
        for k, units in (("c", units_c), ("rs", units_rs)):
            print("#   %s:" % ("C" if k == "c" else "Rust"), file=sys.stderr)
            top_list(leaf[k], units, 12)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "vnapi":
        vnapi(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "helper":
        helper(float(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "helpers":
        helpers(float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("usage: perf_chains.py vnapi KIND FRAMES TOP | helper UNITS TOP"
                 " | helpers UNITS_C UNITS_RUST TOP")
