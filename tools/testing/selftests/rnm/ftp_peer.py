#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Scripted FTP peers for the FTP conntrack helper tests.
#
#   ftp_peer.py echo-server ADDR [DIR]
#       An FTP-like server on ADDR port 21: greets with 220, answers a line
#       "ECHO <text>" with <text> and any other line with "200 ok".  With
#       DIR, the bytes each connection receives are recorded, as they
#       arrive, in DIR/TAG, where TAG is the argument of the connection's
#       first line if that is "USER TAG".
#   ftp_peer.py session ADDR SPORT HOLD LINE...
#       Connects from source port SPORT (0: any) to ADDR port 21, sends each
#       LINE ("\n" escapes allowed) and reads one reply to each, then keeps
#       the connection open until the file HOLD exists (or for 120 s times
#       RNM_TIMEOUT_SCALE, as every wait here).
#   ftp_peer.py sessions FILE HOLD
#       Like session, for every line "ADDR SPORT [SRC];LINE;LINE..." of FILE
#       (SRC: the local address to connect from), all held open together;
#       each reply is printed as "<line number> <reply>"; a session whose
#       reply does not come within 30 s (times the scale) is reported as
#       "TIMEOUT <line number>".
#   ftp_peer.py raw ADDR HOLD FILE
#       Sends the bytes of FILE after the greeting, one byte per segment if
#       HOLD ends in "-bytes", with sendfile() (the segments then carry the
#       file's page-cache pages) if it ends in "-sendfile", else in one
#       write; then waits like session.
#   ftp_peer.py get ADDR FILE OUT active|passive
#       Downloads FILE with ftplib to OUT.
#   ftp_peer.py mget ADDR active|passive DIR FILE...
#       Downloads every FILE to DIR/FILE with ftplib, in one control
#       connection; in passive mode over IPv4 the client connects to the
#       address of the 227 reply, not to the control connection's peer.
#   ftp_peer.py bench-server ADDR
#       The echo server's replies, from one process without a fork per
#       connection (for benchmarks).
#   ftp_peer.py bench-sessions ADDR SECONDS CONC
#       For SECONDS, CONC control connections at a time to ADDR port 21:
#       each reads the greeting, logs in (USER: a helper reads no command
#       before the first line end it has seen in a direction), announces
#       a data port (PORT over IPv4, EPRT over IPv6; a new port each time,
#       so that every session makes an expectation), reads the replies and
#       closes with a reset (the connection's conntrack entry, and its
#       expectation, then go after 10 s).  Prints the number of sessions
#       completed and failed.
#   ftp_peer.py get-port ADDR SRC PORT HOLD FILE OUT
#       Active mode from a chosen data port: logs in from local address SRC,
#       listens on SRC port PORT, announces it (PORT over IPv4, EPRT over
#       IPv6), prints "ANNOUNCED", waits for the file HOLD, then downloads
#       FILE to OUT.

import os
import socket
import struct
import sys
import time

# How much slower than the stock kernel this one runs (the tests' waits
# scale with it).
SCALE = max(1, int(os.environ.get('RNM_TIMEOUT_SCALE', '1') or '1'))


def family_of(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET


def echo_server(addr, record=None):
    srv = socket.socket(family_of(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, 21))
    srv.listen(64)
    while True:
        conn, _ = srv.accept()
        if os.fork() == 0:
            srv.close()
            serve(conn, record)
            os._exit(0)
        conn.close()
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass


def serve(conn, record=None):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.sendall(b'220 ready\r\n')
    buf = b''
    # The bytes received before the recording's name is known.
    seen = b'' if record else None
    out = None
    while True:
        try:
            data = conn.recv(65536)
        except OSError:
            return
        if not data:
            return
        if out:
            out.write(data)
        elif seen is not None:
            seen += data
            if b'\n' in seen:
                first = seen.split(b'\n', 1)[0].rstrip(b'\r').split(b' ')
                tag = first[1].decode('ascii', 'replace') if len(first) == 2 and first[0] == b'USER' else None
                if tag and tag.isalnum():
                    out = open(os.path.join(record, tag), 'wb', buffering=0)
                    out.write(seen)
                seen = None
        buf += data
        # Keep memory bounded for hostile clients sending endless lines.
        if len(buf) > 1 << 20:
            buf = buf[-(1 << 16):]
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            line = line.rstrip(b'\r')
            if line.startswith(b'ECHO '):
                reply = line[5:]
            else:
                reply = b'200 ok'
            try:
                conn.sendall(reply + b'\r\n')
            except OSError:
                return


def wait_hold(hold):
    end = time.time() + 120 * SCALE
    while not os.path.exists(hold) and time.time() < end:
        time.sleep(0.1)


def connect(addr, sport, src=None):
    s = socket.socket(family_of(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if sport or src:
        s.bind((src or ('::' if ':' in addr else '0.0.0.0'), sport))
    s.settimeout(60 * SCALE)
    s.connect((addr, 21))
    f = s.makefile('rb')
    f.readline()
    return s, f


def session(addr, sport, hold, lines):
    s, f = connect(addr, int(sport))
    for line in lines:
        s.sendall(line.encode().replace(b'\\n', b'\n') + b'\r\n')
        print(f.readline().decode().rstrip(), flush=True)
    print('HOLDING', flush=True)
    wait_hold(hold)
    s.close()


def sessions(path, hold):
    conns = []
    for n, spec in enumerate(open(path).read().splitlines(), 1):
        head, *lines = spec.split(';')
        addr, sport, *src = head.split()
        try:
            s, f = connect(addr, int(sport), *src)
            s.settimeout(30 * SCALE)
            for line in lines:
                s.sendall(line.encode() + b'\r\n')
                print(n, f.readline().decode().rstrip(), flush=True)
            conns.append(s)
        except OSError:
            print('TIMEOUT', n, flush=True)
    print('HOLDING', flush=True)
    wait_hold(hold)
    for s in conns:
        s.close()


def raw(addr, hold, path):
    s, f = connect(addr, 0)
    s.sendall(b'USER anonymous\r\n')
    f.readline()
    data = open(path, 'rb').read()
    if hold.endswith('-bytes'):
        for i in range(len(data)):
            s.send(data[i:i + 1])
            time.sleep(0.002)
    elif hold.endswith('-sendfile'):
        with open(path, 'rb') as src:
            sent = 0
            while sent < len(data):
                sent += os.sendfile(s.fileno(), src.fileno(), sent, len(data) - sent)
    else:
        s.sendall(data)
    print('SENT', flush=True)
    wait_hold(hold)
    s.close()


def get(addr, name, out, mode):
    import ftplib
    ftp = ftplib.FTP()
    ftp.connect(addr, 21, timeout=60 * SCALE)
    ftp.login()
    ftp.set_pasv(mode == 'passive')
    with open(out, 'wb') as f:
        ftp.retrbinary('RETR ' + name, f.write)
    ftp.quit()


def mget(addr, mode, out, names):
    import ftplib
    ftp = ftplib.FTP()
    ftp.trust_server_pasv_ipv4_address = True
    ftp.connect(addr, 21, timeout=60 * SCALE)
    ftp.login()
    ftp.set_pasv(mode == 'passive')
    for name in names:
        with open(os.path.join(out, name), 'wb') as f:
            ftp.retrbinary('RETR ' + name, f.write)
    ftp.quit()


def get_port(addr, src, port, hold, name, out):
    import ftplib
    ftp = ftplib.FTP()
    ftp.connect(addr, 21, timeout=60 * SCALE, source_address=(src, 0))
    # Killed while its announcement is unanswered, the client must not
    # leave an orphaned socket behind that keeps retransmitting it: close
    # with a reset.
    ftp.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack('ii', 1, 0))
    ftp.login()
    ftp.voidcmd('TYPE I')
    lsn = socket.create_server((src, int(port)), family=family_of(src))
    if ftp.af == socket.AF_INET:
        ftp.sendport(src, int(port))
    else:
        ftp.sendeprt(src, int(port))
    print('ANNOUNCED', flush=True)
    wait_hold(hold)
    resp = ftp.sendcmd('RETR ' + name)
    if not resp.startswith('1'):
        raise ftplib.error_reply(resp)
    lsn.settimeout(60 * SCALE)
    conn, _ = lsn.accept()
    with conn, open(out, 'wb') as f:
        while data := conn.recv(65536):
            f.write(data)
    ftp.voidresp()
    ftp.quit()


def bench_server(addr):
    import selectors
    sel = selectors.DefaultSelector()
    srv = socket.socket(family_of(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, 21))
    srv.listen(1024)
    srv.setblocking(False)
    sel.register(srv, selectors.EVENT_READ, None)
    while True:
        for key, _ in sel.select():
            if key.data is None:
                try:
                    conn, _ = srv.accept()
                    conn.setblocking(False)
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    conn.send(b'220 ready\r\n')
                except OSError:
                    continue
                sel.register(conn, selectors.EVENT_READ, [b''])
                continue
            conn = key.fileobj
            try:
                data = conn.recv(4096)
            except OSError:
                data = b''
            if not data:
                sel.unregister(conn)
                conn.close()
                continue
            buf = key.data[0] + data
            try:
                while b'\n' in buf:
                    _, buf = buf.split(b'\n', 1)
                    conn.send(b'200 ok\r\n')
            except OSError:
                pass
            key.data[0] = buf[-4096:]


def bench_sessions(addr, seconds, conc):
    import selectors
    import struct
    sel = selectors.DefaultSelector()
    done = failed = 0
    port = 1023

    def start():
        s = socket.socket(family_of(addr), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        s.connect_ex((addr, 21))
        # [replies awaited, bytes received]
        sel.register(s, selectors.EVENT_READ, [3, b''])

    for _ in range(int(conc)):
        start()
    end = time.time() + float(seconds)
    while time.time() < end:
        for key, _ in sel.select(timeout=1):
            s, st = key.fileobj, key.data
            try:
                data = s.recv(4096)
            except OSError:
                data = b''
            if not data:
                failed += 1
                sel.unregister(s)
                s.close()
                start()
                continue
            st[1] += data
            if b'\n' not in st[1]:
                continue
            st[0] -= 1
            st[1] = b''
            if st[0] == 2:
                s.send(b'USER bench\r\n')
            elif st[0] == 1:
                port = port + 1 if port < 65535 else 1024
                ip = s.getsockname()[0]
                if s.family == socket.AF_INET:
                    cmd = 'PORT %s,%d,%d' % (ip.replace('.', ','), port >> 8, port & 255)
                else:
                    cmd = 'EPRT |2|%s|%d|' % (ip, port)
                s.send(cmd.encode() + b'\r\n')
            else:
                done += 1
                sel.unregister(s)
                s.close()
                start()
    print(done, failed, flush=True)


def main():
    cmd = sys.argv[1]
    if cmd == 'echo-server':
        echo_server(*sys.argv[2:4])
    elif cmd == 'session':
        session(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif cmd == 'sessions':
        sessions(sys.argv[2], sys.argv[3])
    elif cmd == 'raw':
        raw(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == 'get':
        get(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == 'mget':
        mget(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif cmd == 'bench-server':
        bench_server(sys.argv[2])
    elif cmd == 'bench-sessions':
        bench_sessions(*sys.argv[2:5])
    elif cmd == 'get-port':
        get_port(*sys.argv[2:8])
    else:
        sys.exit('unknown command ' + cmd)


if __name__ == '__main__':
    main()
