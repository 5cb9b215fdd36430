"""The local Function URL: an HTTPS server that turns each request into the event a Lambda
Function URL sends, invokes the function with it through the emulator's Invoke API
(`cargo lambda watch` serves `POST /2015-03-31/functions/<name>/invocations`), and turns the
function's answer into the HTTP response. Re-exported by stack.py as `FunctionUrlFront`.

`cargo lambda watch`'s own HTTP endpoint keeps only the first line of a repeated header and
reports the domain name `localhost` whatever was reached. This front does what AWS documents
instead; each rule and its source:

- The event is payload format 2.0 (AWS Lambda Developer Guide, "Invoking Lambda function
  URLs", Request payload format): `version`, `rawPath`, `rawQueryString` (without `?`),
  `headers`, `queryStringParameters`, `requestContext` (`domainName`, `domainPrefix`, `http`
  with `method`, `path`, `protocol`, `sourceIp` = the address of the immediate TCP connection,
  `userAgent`), `body`, `isBase64Encoded`; cookies go to `cookies`, not to `headers`.
- Header names are lower case, and a repeated header is one entry with the values joined by
  commas: the same guide's example (`"header2": "value1,value2"`) and the API Gateway
  Developer Guide, "Create AWS Lambda proxy integrations for HTTP APIs" (format 2.0:
  "Duplicate headers are combined with commas").
- `requestContext.domainName` is the URL's own domain, whatever `Host` the client sent; here
  `127.0.0.1:<port>` (the local URL has a port; a real one is `<url-id>.lambda-url.<region>.on.aws`).
- The URL adds `x-forwarded-proto: https`, `x-forwarded-port`, `x-forwarded-for` (the
  connection's address), `x-amzn-tls-version` and `x-amzn-tls-cipher-suite` (the Function URL
  sample event in the Powertools for AWS Lambda parser docs, `LambdaFunctionUrlSchema`). A
  client's own `x-forwarded-for` is kept with the connection's address appended: assumed
  (API Gateway and CloudFront append), not documented for Function URLs.
- The body is base64-encoded unless it is text (JSON, form, text/*), as the guide says for
  binary content types.
- The invocation payload is at most 6 MB (AWS Lambda Developer Guide, "Lambda quotas":
  invocation payload, synchronous, 6 MB): a larger event is answered 413 and the function is
  not invoked. (The text of AWS's 413 body is not documented; only the status is relied on.)
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_PAYLOAD = 6 * 1024 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024
TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/")


class FunctionUrlFront:
    """HTTPS on 127.0.0.1:<port>, invoking `function` at the emulator on `lambda_port`."""

    def __init__(self, cert: Path, key: Path, lambda_port: int, function: str = "bootstrap"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        front = self
        self.invoke_url = f"http://127.0.0.1:{lambda_port}/2015-03-31/functions/{function}/invocations"
        self.invocations = 0
        self.last_event: dict | None = None  # the last event sent, for tests to inspect

        class Handler(_Handler):
            owner = front

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.ctx = ctx
        self.port = self.server.server_address[1]
        self.domain = f"127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class _Server(ThreadingHTTPServer):
    """TLS is set up in each connection's own thread, with a deadline, so a client that
    connects and says nothing holds up no one."""

    daemon_threads = True
    ctx: ssl.SSLContext

    def finish_request(self, request, client_address):
        request.settimeout(30)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            request.close()
            return
        self.RequestHandlerClass(tls, client_address, self)


class _Handler(BaseHTTPRequestHandler):
    owner: FunctionUrlFront
    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, *args):
        pass

    def _any(self):
        if "transfer-encoding" in self.headers:
            self.close_connection = True
            return self._reply(411, {"content-type": "application/json"}, b'{"Message":"Length Required"}')
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            return self._reply(400, {}, b'{"Message":"Bad Request"}')
        if length < 0 or length > MAX_PAYLOAD:
            self.close_connection = True
            left = min(max(length, 0), DRAIN_LIMIT)  # read (bounded) so the client gets the answer
            while left > 0 and (chunk := self.rfile.read(min(left, 1 << 16))):
                left -= len(chunk)
            return self._reply(413, {"content-type": "application/json"}, b'{"Message":"Request Entity Too Large"}')
        body = self.rfile.read(length)
        self.owner.last_event = parsed = self._event(body)
        event = json.dumps(parsed).encode()
        if len(event) > MAX_PAYLOAD:
            return self._reply(413, {"content-type": "application/json"}, b'{"Message":"Request Entity Too Large"}')
        self.owner.invocations += 1
        req = urllib.request.Request(self.owner.invoke_url, data=event, method="POST",
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                out = json.loads(r.read(MAX_PAYLOAD + 1))
        except (OSError, ValueError):
            return self._reply(502, {"content-type": "application/json"}, b'{"Message":"Internal Server Error"}')
        raw = out.get("body") or ""
        data = base64.b64decode(raw) if out.get("isBase64Encoded") else raw.encode()
        return self._reply(int(out.get("statusCode", 200)), out.get("headers") or {}, data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _any

    def _event(self, body: bytes) -> dict:
        path, _, query = self.path.partition("?")
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in self.headers.items():
            name = name.lower()
            if name == "cookie":
                cookies += [c.strip() for c in value.split(";") if c.strip()]
                continue
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        peer = self.client_address[0]
        tls = self.connection
        headers["x-forwarded-for"] = f"{headers['x-forwarded-for']}, {peer}" if "x-forwarded-for" in headers else peer
        headers.update({"x-forwarded-proto": "https", "x-forwarded-port": str(self.owner.port),
                        "x-amzn-tls-version": tls.version() or "",
                        "x-amzn-tls-cipher-suite": (tls.cipher() or ("",))[0]})
        params: dict[str, str] = {}
        for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True):
            params[k] = f"{params[k]},{v}" if k in params else v
        ctype = headers.get("content-type", "")
        text = ctype.startswith(TEXT_TYPES)
        if text:
            try:
                body_text, b64 = body.decode("utf-8"), False
            except UnicodeDecodeError:
                text = False
        if not text:
            body_text, b64 = base64.b64encode(body).decode(), True
        event = {
            "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": "anonymous", "apiId": "local", "domainName": self.owner.domain,
                "domainPrefix": "127", "http": {"method": self.command, "path": path,
                                                "protocol": self.request_version, "sourceIp": peer,
                                                "userAgent": headers.get("user-agent", "")},
                "requestId": "local", "routeKey": "$default", "stage": "$default",
            },
            "isBase64Encoded": b64,
        }
        if cookies:
            event["cookies"] = cookies
        if params:
            event["queryStringParameters"] = params
        if body:
            event["body"] = body_text
        return event

    def _reply(self, status: int, headers: dict, body: bytes):
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
