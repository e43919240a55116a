#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Dump the conntrack or expectation table of the current network namespace
# through ctnetlink, one entry per line, with the fields that conntrack(8)
# does not print: the sequence adjustment of each direction (the offsets a
# NAT helper's payload mangling left), and an expectation's NAT set-up (the
# saved port and direction, the expectation function).  Fields that change
# from run to run (timeouts, ids, use counts, packet counters, the raw
# sequence number where an adjustment starts) are left out, so that two
# runs can be compared line by line.  Lines are sorted.
#
#   ct_dump.py conntrack|expect [ipv4|ipv6]...

import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK = 1
NFNL_SUBSYS_CTNETLINK_EXP = 2
# IPCTNL_MSG_CT_GET and IPCTNL_MSG_EXP_GET
MSG_GET = 1
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLA_TYPE_MASK = 0x3fff

# enum ctattr_type
CTA_TUPLE_ORIG, CTA_TUPLE_REPLY, CTA_STATUS, CTA_PROTOINFO, CTA_HELP = 1, 2, 3, 4, 5
CTA_MARK, CTA_ZONE = 8, 18
CTA_TUPLE_MASTER, CTA_SEQ_ADJ_ORIG, CTA_SEQ_ADJ_REPLY = 14, 15, 16
# enum ctattr_expect
CTA_EXPECT_MASTER, CTA_EXPECT_TUPLE, CTA_EXPECT_MASK = 1, 2, 3
CTA_EXPECT_HELP_NAME, CTA_EXPECT_ZONE, CTA_EXPECT_FLAGS = 6, 7, 8
CTA_EXPECT_CLASS, CTA_EXPECT_NAT, CTA_EXPECT_FN = 9, 10, 11

# enum ip_conntrack_status, bit by bit.
STATUS = ['EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED', 'SRC_NAT',
          'DST_NAT', 'SEQ_ADJUST', 'SRC_NAT_DONE', 'DST_NAT_DONE', 'DYING',
          'FIXED_TIMEOUT', 'TEMPLATE', 'NAT_CLASH', 'HELPER', 'OFFLOAD',
          'HW_OFFLOAD']
TCP_STATES = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT',
              'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2']


def attrs(data):
    """The attributes of a netlink attribute stream, by type."""
    out = {}
    while len(data) >= 4:
        length, kind = struct.unpack_from('=HH', data)
        if length < 4:
            break
        out[kind & NLA_TYPE_MASK] = data[4:length]
        data = data[(length + 3) & ~3:]
    return out


def be(data):
    return int.from_bytes(data, 'big')


def tuple_text(data, prefix=''):
    a = attrs(data)
    ip = attrs(a.get(1, b''))
    proto = attrs(a.get(2, b''))
    words = []
    for k, name, fam in ((1, 'src', socket.AF_INET), (2, 'dst', socket.AF_INET),
                         (3, 'src', socket.AF_INET6), (4, 'dst', socket.AF_INET6)):
        if k in ip:
            words.append('%s%s=%s' % (prefix, name, socket.inet_ntop(fam, ip[k])))
    if 1 in proto:
        words.append('%sproto=%d' % (prefix, proto[1][0]))
    for k, name in ((2, 'sport'), (3, 'dport')):
        if k in proto:
            words.append('%s%s=%d' % (prefix, name, be(proto[k])))
    return ' '.join(words)


def seqadj_text(data, name):
    a = attrs(data)
    return '%s=%d/%d' % (name, be(a.get(2, b'')), be(a.get(3, b'')))


def conntrack_line(a):
    words = [tuple_text(a.get(CTA_TUPLE_ORIG, b''), 'orig-'),
             tuple_text(a.get(CTA_TUPLE_REPLY, b''), 'reply-')]
    if CTA_STATUS in a:
        bits = be(a[CTA_STATUS])
        words.append('status=' + ','.join(n for i, n in enumerate(STATUS) if bits >> i & 1))
    pinfo = attrs(a.get(CTA_PROTOINFO, b''))
    if 1 in pinfo:
        state = attrs(pinfo[1]).get(1)
        if state:
            words.append('tcp-state=' + TCP_STATES[state[0]])
    if CTA_HELP in a:
        words.append('helper=' + attrs(a[CTA_HELP]).get(1, b'').rstrip(b'\0').decode())
    if CTA_TUPLE_MASTER in a:
        words.append(tuple_text(a[CTA_TUPLE_MASTER], 'master-'))
    # Offsets before/after the correction position, per direction.
    if CTA_SEQ_ADJ_ORIG in a:
        words.append(seqadj_text(a[CTA_SEQ_ADJ_ORIG], 'seqadj-orig'))
    if CTA_SEQ_ADJ_REPLY in a:
        words.append(seqadj_text(a[CTA_SEQ_ADJ_REPLY], 'seqadj-reply'))
    if CTA_MARK in a:
        words.append('mark=%d' % be(a[CTA_MARK]))
    if CTA_ZONE in a:
        words.append('zone=%d' % be(a[CTA_ZONE]))
    return ' '.join(w for w in words if w)


def expect_line(a):
    words = [tuple_text(a.get(CTA_EXPECT_TUPLE, b'')),
             tuple_text(a.get(CTA_EXPECT_MASK, b''), 'mask-'),
             tuple_text(a.get(CTA_EXPECT_MASTER, b''), 'master-')]
    if CTA_EXPECT_NAT in a:
        nat = attrs(a[CTA_EXPECT_NAT])
        words.append('nat-dir=%d' % be(nat.get(1, b'')))
        words.append(tuple_text(nat.get(2, b''), 'nat-'))
    for k, name in ((CTA_EXPECT_FLAGS, 'flags'), (CTA_EXPECT_CLASS, 'class'),
                    (CTA_EXPECT_ZONE, 'zone')):
        if k in a:
            words.append('%s=%d' % (name, be(a[k])))
    for k, name in ((CTA_EXPECT_HELP_NAME, 'helper'), (CTA_EXPECT_FN, 'fn')):
        if k in a:
            words.append('%s=%s' % (name, a[k].rstrip(b'\0').decode()))
    return ' '.join(w for w in words if w)


def dump(table, family):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    subsys = NFNL_SUBSYS_CTNETLINK if table == 'conntrack' else NFNL_SUBSYS_CTNETLINK_EXP
    kind = (subsys << 8) | MSG_GET
    nfgen = struct.pack('=BBH', family, 0, 0)
    s.send(struct.pack('=IHHII', 16 + len(nfgen), kind, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + nfgen)
    lines = []
    while True:
        data = s.recv(1 << 20)
        while len(data) >= 16:
            length, mtype, _, _, _ = struct.unpack_from('=IHHII', data)
            if mtype == NLMSG_DONE:
                return lines
            if mtype == NLMSG_ERROR:
                err = struct.unpack_from('=i', data, 16)[0]
                if err:
                    sys.exit('ctnetlink dump failed: error %d' % err)
                return lines
            a = attrs(data[20:length])
            lines.append(conntrack_line(a) if table == 'conntrack' else expect_line(a))
            data = data[(length + 3) & ~3:]


def main():
    table = sys.argv[1]
    if table not in ('conntrack', 'expect'):
        sys.exit('usage: ct_dump.py conntrack|expect [ipv4|ipv6]...')
    families = sys.argv[2:] or ['ipv4', 'ipv6']
    lines = []
    for f in families:
        lines += dump(table, socket.AF_INET if f == 'ipv4' else socket.AF_INET6)
    for line in sorted(lines):
        print(line)


if __name__ == '__main__':
    main()
