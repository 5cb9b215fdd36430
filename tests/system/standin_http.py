"""The HTTP side both AWS stand-ins share (r53_standin.py, ssm_standin.py): a threaded server
on 127.0.0.1, bodies read only up to MAX_BODY bytes (a Content-Length that is not a number
or is larger is refused, and the connection closed), each read within READ_TIMEOUT_S, and an
answer with our own Content-Length."""

from __future__ import annotations

import http.server
import threading

MAX_BODY = 1 << 20
READ_TIMEOUT_S = 30
# Headers of the answer that the server writes itself, never copied from upstream.
_OWN = ("content-length", "transfer-encoding", "connection", "date", "server")


class BoundedHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_S

    def log_message(self, *args):
        pass

    def read_body(self) -> bytes | None:
        """The request body, or None (connection to be closed) when its length is refused."""
        raw = (self.headers.get("content-length") or "0").strip()
        if not raw.isdigit() or int(raw) > MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(int(raw)) if int(raw) else b""

    def answer(self, status: int, headers, out: bytes):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in _OWN:
                self.send_header(k, v)
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def serve(handler: type[BoundedHandler]) -> http.server.ThreadingHTTPServer:
    """Starts `handler` on a free loopback port, in a daemon thread; `.server_address[1]`
    is the port, `.shutdown()` and `.server_close()` stop it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
