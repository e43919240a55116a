#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Scripted FTP peers for the FTP conntrack helper tests.
#
#   ftp_peer.py echo-server ADDR
#       An FTP-like server on ADDR port 21: greets with 220, answers a line
#       "ECHO <text>" with <text> and any other line with "200 ok".
#   ftp_peer.py session ADDR SPORT HOLD LINE...
#       Connects from source port SPORT (0: any) to ADDR port 21, sends each
#       LINE ("\n" escapes allowed) and reads one reply to each, then keeps
#       the connection open until the file HOLD exists (or for 120 s).
#   ftp_peer.py sessions FILE HOLD
#       Like session, for every line "ADDR SPORT;LINE;LINE..." of FILE, all
#       held open together; a session whose reply does not come within 30 s
#       is reported as "TIMEOUT <line number>".
#   ftp_peer.py raw ADDR HOLD FILE
#       Sends the bytes of FILE after the greeting, one byte per segment if
#       HOLD ends in "-bytes", else in one write; then waits like session.
#   ftp_peer.py get ADDR FILE OUT active|passive
#       Downloads FILE with ftplib to OUT.

import os
import socket
import sys
import time


def family_of(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET


def echo_server(addr):
    srv = socket.socket(family_of(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, 21))
    srv.listen(64)
    while True:
        conn, _ = srv.accept()
        if os.fork() == 0:
            srv.close()
            serve(conn)
            os._exit(0)
        conn.close()
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass


def serve(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.sendall(b'220 ready\r\n')
    buf = b''
    while True:
        try:
            data = conn.recv(65536)
        except OSError:
            return
        if not data:
            return
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
    end = time.time() + 120
    while not os.path.exists(hold) and time.time() < end:
        time.sleep(0.1)


def connect(addr, sport):
    s = socket.socket(family_of(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if sport:
        s.bind(('::' if ':' in addr else '0.0.0.0', sport))
    s.settimeout(60)
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
        addr, sport = head.split()
        try:
            s, f = connect(addr, int(sport))
            s.settimeout(30)
            for line in lines:
                s.sendall(line.encode() + b'\r\n')
                f.readline()
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
    else:
        s.sendall(data)
    print('SENT', flush=True)
    wait_hold(hold)
    s.close()


def get(addr, name, out, mode):
    import ftplib
    ftp = ftplib.FTP()
    ftp.connect(addr, 21, timeout=60)
    ftp.login()
    ftp.set_pasv(mode == 'passive')
    with open(out, 'wb') as f:
        ftp.retrbinary('RETR ' + name, f.write)
    ftp.quit()


def main():
    cmd = sys.argv[1]
    if cmd == 'echo-server':
        echo_server(sys.argv[2])
    elif cmd == 'session':
        session(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif cmd == 'sessions':
        sessions(sys.argv[2], sys.argv[3])
    elif cmd == 'raw':
        raw(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == 'get':
        get(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        sys.exit('unknown command ' + cmd)


if __name__ == '__main__':
    main()
