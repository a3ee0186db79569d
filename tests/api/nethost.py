"""Helpers the cross-host test runs inside its network namespaces (tests/api/test_cross_host.py):

  nethost.py relay LISTEN TARGET   forward every connection to LISTEN to TARGET, where each is
                                   tcp:HOST:PORT or unix:PATH (a unix socket crosses namespaces:
                                   that is how the test reaches a gateway in one)
  nethost.py probe HOST PORT [DIR] a TLS handshake with HOST:PORT, with the credential in DIR
                                   (none: no certificate); exit 0 when the server keeps the
                                   connection, 3 when it refuses it"""

import os
import signal
import socket
import ssl
import sys
import threading


def address(spec):
    kind, _, rest = spec.partition(":")
    if kind == "unix":
        return socket.AF_UNIX, rest
    host, _, port = rest.rpartition(":")
    return socket.AF_INET, (host, int(port))


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def relay(listen, target):
    family, where = address(listen)
    server = socket.socket(family, socket.SOCK_STREAM)
    if family == socket.AF_INET:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    elif os.path.exists(where):
        os.unlink(where)
    server.bind(where)
    server.listen(64)
    tfamily, twhere = address(target)
    while True:
        conn, _ = server.accept()
        out = socket.socket(tfamily, socket.SOCK_STREAM)
        try:
            out.connect(twhere)
        except OSError:
            conn.close()
            out.close()
            continue
        for a, b in ((conn, out), (out, conn)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


def probe(host, port, cred=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cred:
        ctx.load_cert_chain(os.path.join(cred, "cert.pem"), os.path.join(cred, "key.pem"))
    with socket.create_connection((host, port), timeout=20) as raw:
        try:
            with ctx.wrap_socket(raw) as s:
                # TLS 1.2: a server that refuses the client's certificate answers the client's
                # Finished with an alert, or closes; either shows on the first read, while an SP
                # peer that accepted greets with its header.
                s.settimeout(5)
                try:
                    return s.recv(1) != b""
                except socket.timeout:
                    return True
        except (ssl.SSLError, ConnectionError, OSError):
            return False


def main(argv):
    if len(argv) == 3 and argv[0] == "relay":
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # stopped as the farm's parts are
        relay(argv[1], argv[2])
    elif len(argv) in (3, 4) and argv[0] == "probe":
        return 0 if probe(argv[1], int(argv[2]), argv[3] if len(argv) == 4 else None) else 3
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
