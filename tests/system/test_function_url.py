"""The Function URL behaviours the function relies on (docs/protocol.md, "What the function
relies on from the Function URL"), through the local Function URL (url_front.py), which
builds the event as AWS documents it: repeated headers comma-joined, `requestContext.
domainName` the URL's own, `x-forwarded-proto`, `x-amzn-tls-version`, the 6 MB payload."""

import http.client
import json
import ssl

import pytest

from stack import http_request, now_ms

PATH = "/v2/update"


def send_lines(stack, lines: list, body: bytes, url=None):
    """POST /v2/update with header lines sent exactly as listed (a name may repeat)."""
    ctx = ssl.create_default_context(cafile=str(stack.ca_file))
    host, port = (url or stack.function_url).split("://", 1)[1].split(":")
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=60)
    try:
        conn.putrequest("POST", PATH, skip_host=True, skip_accept_encoding=True)
        for k, v in lines:
            conn.putheader(k, v)
        conn.putheader("content-length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


def signed_lines(stack, signer, body: bytes, host: str, t: int | None = None):
    h = signer.headers(body, t, host=host)
    return [("host", host), ("content-type", "application/json")] + [
        (k, v) for k, v in h.items() if k.lower().startswith("x-r53ddns-")]


def body_for(name, ip):
    return json.dumps({"hosts": [{"name": name, "ipv4": ip}]}).encode()


def test_a_signed_update_through_the_function_url(stack, registered, name):
    body = body_for(name, "192.0.2.150")
    status, j = send_lines(stack, signed_lines(stack, registered, body, stack.url_front.domain), body)
    assert status == 200 and j["result"] == "updated", j
    assert stack.records(name)["A"] == ["192.0.2.150"]


@pytest.mark.parametrize("header", ["x-r53ddns-time", "x-r53ddns-key", "x-r53ddns-signature", "x-r53ddns-host"])
def test_a_header_sent_twice_arrives_comma_joined_and_is_refused_by_name(stack, registered, name, header):
    """Two lines of one header reach the function as one value joined with a comma (the
    emulator's own endpoint would pass only the first line, and the request would pass)."""
    body = body_for(name, "192.0.2.151")
    lines = signed_lines(stack, registered, body, stack.url_front.domain)
    value = dict(lines)[header]
    status, j = send_lines(stack, lines + [(header, value)], body)
    assert status == 401 and j["error"] == "bad_signature" and header in j["message"], j
    assert stack.records(name)["A"] == []


def test_the_authority_checked_is_the_urls_domain_name_not_the_host_header(stack, registered, name):
    domain = stack.url_front.domain
    body = body_for(name, "192.0.2.152")
    # Signed for the URL's domain, whatever Host says: accepted.
    lines = [(k, "attacker.example" if k == "host" else v)
             for k, v in signed_lines(stack, registered, body, domain)]
    status, j = send_lines(stack, lines, body)
    assert status == 200, j
    # Signed for another host, and Host set to match it: refused.
    for other in ["attacker.example", "localhost"]:
        status, j = send_lines(stack, signed_lines(stack, registered, body_for(name, "192.0.2.153"), other), body_for(name, "192.0.2.153"))
        assert status == 401 and j["error"] == "wrong_endpoint", (other, j)
    assert stack.records(name)["A"] == ["192.0.2.152"]


def test_a_request_signed_for_localhost_passes_only_the_emulators_own_endpoint(stack, registered, name):
    """`cargo lambda watch` reports the domain name `localhost` for every request: signed for
    `localhost`, a request passes there. The Function URL (and the real one) refuses it."""
    body = body_for(name, "192.0.2.154")
    r = stack.post_update(registered, body, host="localhost")
    assert r.status == 200, r
    t = now_ms() + 1
    status, j = send_lines(stack, signed_lines(stack, registered, body_for(name, "192.0.2.155"), "localhost", t),
                           body_for(name, "192.0.2.155"))
    assert status == 401 and j["error"] == "wrong_endpoint", j
    assert stack.records(name)["A"] == ["192.0.2.154"]


def test_the_url_says_https_and_its_tls_version(stack):
    front = stack.url_front
    ctx = ssl.create_default_context(cafile=str(stack.ca_file))
    r = http_request(stack.function_url + "/healthz", context=ctx)
    assert r.status == 404 and json.loads(r.body)["error"] == "not_found"
    event = front.last_event
    assert event["headers"]["x-forwarded-proto"] == "https"
    assert event["headers"]["x-amzn-tls-version"] in ("TLSv1.2", "TLSv1.3")
    assert event["requestContext"]["domainName"] == front.domain
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"


def test_the_payload_limit_is_the_urls_and_the_body_limit_the_functions(stack, registered, name):
    """Up to 6 MB the function is invoked and refuses the body itself (413 too_large, a JSON
    error); beyond, the URL answers 413 and the function never runs."""
    ctx = ssl.create_default_context(cafile=str(stack.ca_file))
    front = stack.url_front
    for size, invoked in [(5 * 1024 * 1024, 1), (7 * 1024 * 1024, 0)]:
        before = front.invocations
        r = http_request(stack.function_url + PATH, "POST", b"{" + b" " * size + b"}",
                         {"content-type": "application/json"}, context=ctx)
        assert r.status == 413, r
        assert front.invocations - before == invoked, size
        assert (json.loads(r.body).get("error") == "too_large") == bool(invoked), r
