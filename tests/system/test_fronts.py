"""A proxy in front of the Function URL (CloudFront, an API Gateway HTTP proxy, a reverse
proxy) connects from its own address, so the connection's address is the proxy's. The
caller's address ("auto", dyndns2 without `myip`) is then taken only from a front the
deployment declares (`R53DDNS_FRONT=cloudfront`: its `CloudFront-Viewer-Address` header),
and behind an undeclared proxy it is refused, never the proxy's address published
(lambda/src/caller.rs). Each refusal is checked to have written nothing."""

import base64
import urllib.parse

import pytest

from stack import OBSERVED, Signer, Stack, http_request

CF_VIA = {"via": "2.0 0123456789abcdef.cloudfront.net (CloudFront)",
          "x-amz-cf-id": "Gdlv_y9CuUZiVw5YD6R1aRPpxiwNxyiHmJDZ6vtJlFe8Ue_vbBm5dw=="}
VIEWER = "198.51.100.77"


def nic_update(stack, user, token, headers=None, **params):
    url = stack.http_url + "/nic/update?" + urllib.parse.urlencode(params)
    cred = base64.b64encode(f"{user}:{token}".encode()).decode()
    return http_request(url, headers={"Authorization": f"Basic {cred}", **(headers or {})})


def auto(stack, signer, name, headers=None):
    return stack.post_update(signer, {"hosts": [{"name": name, "ipv4": "auto"}]}, headers=headers)


@pytest.mark.parametrize("headers", [
    CF_VIA,
    {"via": "1.1 proxy.example"},
    {"x-forwarded-for": f"{VIEWER}, 130.176.1.1"},
    {"forwarded": f"for={VIEWER}"},
], ids=["cloudfront", "via", "x-forwarded-for", "forwarded"])
def test_auto_behind_an_undeclared_front_is_refused_not_the_fronts_address(stack, registered, name,
                                                                           headers):
    r = auto(stack, registered, name, headers)
    assert r.status == 400 and r.json()["error"] == "malformed", r
    assert "proxy the deployment does not declare" in r.json()["message"], r
    assert stack.records(name) == {"A": [], "AAAA": [], "TTL": None, "TXT": []}
    assert stack.stamp(name) is None
    # A given address is fine behind any front; and without a proxy "auto" is the connection's.
    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.90"}]}, headers=headers)
    assert r.status == 200 and stack.records(name)["A"] == ["192.0.2.90"], r
    assert auto(stack, registered, name).status == 200
    assert stack.records(name)["A"] == [OBSERVED]


def test_dyndns2_without_myip_behind_an_undeclared_front_writes_nothing(stack, name):
    stack.register_token("front-user", "front-token-0123456789", [name])
    r = nic_update(stack, "front-user", "front-token-0123456789", CF_VIA, hostname=name)
    assert (r.status, r.text) == (200, "dnserr"), r
    assert stack.records(name)["A"] == [] and stack.stamp(name) is None
    # Dyn's fallback (an unusable myip replaced by the connection's) is refused too.
    r = nic_update(stack, "front-user", "front-token-0123456789", CF_VIA, hostname=name, myip="10.0.0.1")
    assert (r.status, r.text) == (200, "dnserr"), r
    r = nic_update(stack, "front-user", "front-token-0123456789", CF_VIA, hostname=name, myip="192.0.2.91")
    assert (r.status, r.text) == (200, "good 192.0.2.91"), r


@pytest.fixture(scope="module")
def cfstack(tmp_path_factory):
    host = Signer.host  # a Stack sets the default signed host: give the session stack's back
    s = Stack(tmp_path_factory.mktemp("cloudfront"), lambda_env={"R53DDNS_FRONT": "cloudfront"})
    try:
        yield s
    finally:
        s.close()
        Signer.host = host


def test_a_declared_cloudfront_front_gives_the_viewer_address_from_its_header(cfstack):
    signer, name = Signer(), cfstack.new_name()
    cfstack.register_key(signer.key_id, [name])
    # CloudFront's X-Forwarded-For is not used, only CloudFront-Viewer-Address.
    headers = {**CF_VIA, "cloudfront-viewer-address": f"{VIEWER}:46532",
               "x-forwarded-for": f"203.0.113.9, {VIEWER}"}
    r = auto(cfstack, signer, name, headers)
    assert r.status == 200, r
    assert r.json()["observed"] == VIEWER
    assert cfstack.records(name)["A"] == [VIEWER], "the viewer's, not the edge's (OBSERVED)"
    cfstack.register_token("cf-user", "cf-token-0123456789", [name])
    r = nic_update(cfstack, "cf-user", "cf-token-0123456789",
                   {**CF_VIA, "cloudfront-viewer-address": "198.51.100.78:1234"}, hostname=name)
    assert (r.status, r.text) == (200, "good 198.51.100.78"), r


def test_a_declared_front_without_its_header_publishes_nothing(cfstack):
    signer, name = Signer(), cfstack.new_name()
    cfstack.register_key(signer.key_id, [name])
    for headers in [CF_VIA, {**CF_VIA, "x-forwarded-for": VIEWER}]:
        r = auto(cfstack, signer, name, headers)
        assert r.status == 400 and "CloudFront-Viewer-Address" in r.json()["message"], r
        assert cfstack.records(name)["A"] == [] and cfstack.stamp(name) is None
