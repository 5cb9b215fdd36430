"""What the client tests (test_clients.py, test_client_shapes.py) share: the configurations
as docs/clients.md prints them, filled in for the local stack, a public-address service
the clients can ask, and bounded runs of the clients.

A configuration is the fenced block right after a `<!-- test: NAME -->` line in the guide;
`fill()` replaces only the guide's placeholders (ENDPOINT, nas, TOKEN, nas.example.com),
so a wrong line in the guide is a wrong line in the test.
"""

from __future__ import annotations

import http.server
import re
import ssl
import subprocess
import textwrap
import threading
import time
import uuid
from pathlib import Path

from stack import REPO

GUIDE = REPO / "docs" / "clients.md"


def block(marker: str) -> str:
    """The fenced block that follows `<!-- test: marker -->` in docs/clients.md."""
    lines = GUIDE.read_text().splitlines()
    tag = f"<!-- test: {marker} -->"
    starts = [i for i, line in enumerate(lines) if line.strip() == tag]
    assert len(starts) == 1, f"docs/clients.md has {len(starts)} blocks marked {tag!r}"
    i = starts[0] + 1
    assert lines[i].lstrip().startswith("```"), f"{tag} is not followed by a fenced block"
    end = next(j for j in range(i + 1, len(lines)) if lines[j].lstrip().startswith("```"))
    return textwrap.dedent("\n".join(lines[i + 1:end]) + "\n")


def fields(marker: str) -> dict:
    """A block of `Field: value` lines (a web form as the guide prints it), as a dict."""
    out = {}
    for line in block(marker).splitlines():
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


def section(heading: str) -> str:
    """The text of the guide from `heading` up to the next heading of the same level."""
    text = GUIDE.read_text()
    level = heading.split(" ", 1)[0]
    start = text.index(heading + "\n")
    nxt = re.search(rf"^#{{1,{len(level)}}} ", text[start + len(heading):], re.M)
    return text[start:start + len(heading) + nxt.start()] if nxt else text[start:]


def fill(text: str, authority: str, user: str, token: str, name: str) -> str:
    """The guide's placeholders replaced with this test's endpoint, user, token and name."""
    text = text.replace("nas.example.com", name).replace("ENDPOINT", authority)
    text = text.replace("TOKEN", token)
    return re.sub(r"\bnas\b", user, text)


def authority(url: str) -> str:
    return url.split("://", 1)[1].rstrip("/")


def endpoint(stack) -> str:
    """ENDPOINT for the local stack: its Function URL (HTTPS, the test CA, `x-forwarded-proto`
    and the rest of the event as AWS builds it)."""
    return authority(stack.function_url)


def new_account(stack, names=None):
    """A fresh user and token, allowed `names` (default: one fresh name): (user, token, name)."""
    user = "u" + uuid.uuid4().hex[:8]
    token = uuid.uuid4().hex
    names = names or [stack.new_name("cl")]
    stack.register_token(user, token, names)
    return user, token, names[0]


def write_private(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def run(argv, timeout=120, **kw) -> subprocess.CompletedProcess:
    """One bounded run of a client; its output (stdout then stderr) is in `.out`."""
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       stdin=kw.pop("stdin", subprocess.DEVNULL), **kw)
    p.out = p.stdout + p.stderr
    return p


def requests_from(stack, user: str) -> int:
    """How many requests of `user` reached the endpoint so far (its log lines name the user)."""
    return stack.lambda_log().count(f'"principal":"dyndns2:{user}"')


def wait_for(predicate, timeout: float, what: str, step=0.2):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


class AddressService:
    """A what-is-my-IP service over HTTPS (the stack's test certificate) on 127.0.0.1: every
    GET answers `address` as plain text, as api.ipify.org does."""

    def __init__(self, workdir: Path, address: str):
        self.address = address
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = (service.address + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = 10
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(workdir / "server.pem", workdir / "server.key")
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
