"""A TCP relay in front of moto that can be told to stall: it then accepts connections and
reads the request but never answers, as a hung AWS endpoint would. The stack puts it
in front of SNS so tests can prove a change notification never holds an update up."""

from __future__ import annotations

import socket
import threading
import time


def splice(a: socket.socket, b: socket.socket, join_s: float = 60):
    """Copies bytes both ways between two connected sockets until either side closes, then
    closes both. (ssl.SSLError is an OSError: TLS sockets work too.)"""

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

    t = threading.Thread(target=pump, args=(b, a), daemon=True)
    t.start()
    pump(a, b)
    t.join(timeout=join_s)
    a.close()
    b.close()


class Relay:
    """A listener on 127.0.0.1 (an ephemeral port) that serves each connection in its own
    thread with `self._serve(conn)`, relaying to `upstream_port`."""

    def __init__(self, upstream_port: int):
        self.upstream = upstream_port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket):
        raise NotImplementedError

    def stop(self):
        self.stopped = True
        self.sock.close()


class Gate(Relay):
    def __init__(self, upstream_port: int):
        self.stall = False
        self.stalled = 0  # connections held without an answer
        super().__init__(upstream_port)

    def _serve(self, conn: socket.socket):
        (self._hold if self.stall else self._relay)(conn)

    def _hold(self, conn: socket.socket):
        self.stalled += 1
        conn.settimeout(1)
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline and not self.stopped:
                try:
                    if not conn.recv(65536):
                        break
                except socket.timeout:
                    continue
        except OSError:
            pass
        finally:
            conn.close()

    def _relay(self, conn: socket.socket):
        try:
            up = socket.create_connection(("127.0.0.1", self.upstream), timeout=30)
        except OSError:
            conn.close()
            return

        splice(conn, up)
