"""dyndns2 (GET /nic/update), the protocol by hand. The real clients, set up as
docs/clients.md says, are in test_clients.py; the routers that cannot run here are replayed
in test_client_shapes.py. Every case reads Route53 back with boto3."""

import base64
import ssl
import urllib.parse
import uuid

import pytest

from stack import OBSERVED, http_request, now_ms, read_stamp, stamp_id, stamp_name

EMPTY = {"A": [], "AAAA": [], "TTL": None, "TXT": []}


@pytest.fixture
def account(stack):
    """A fresh dyndns2 user with a token, allowed one fresh name."""
    user = "u" + uuid.uuid4().hex[:8]
    token = uuid.uuid4().hex
    name = stack.new_name("dyn")
    stack.register_token(user, token, [name])
    return user, token, name


def nic_update(stack, user, token, **params):
    url = stack.http_url + "/nic/update?" + urllib.parse.urlencode(params)
    headers = {"User-Agent": "route53-ddns-tests/1"}
    if user is not None:
        cred = base64.b64encode(f"{user}:{token}".encode()).decode()
        headers["Authorization"] = f"Basic {cred}"
    return http_request(url, headers=headers)


def test_good_then_nochg(stack, account):
    user, token, name = account
    before = stack.change_count()
    r = nic_update(stack, user, token, hostname=name, myip="192.0.2.70")
    assert (r.status, r.text) == (200, "good 192.0.2.70")
    assert stack.records(name)["A"] == ["192.0.2.70"]
    assert stack.change_count() == before + 1
    assert read_stamp(stack.stamp(name))[1] == stamp_id("u=" + user)
    assert user not in stack.stamp(name), "public DNS names no user"
    stamp = stack.stamp(name)
    r = nic_update(stack, user, token, hostname=name, myip="192.0.2.70")
    assert (r.status, r.text) == (200, "nochg 192.0.2.70")
    # Unchanged inside the 24-hour quiet period (lambda/src/quiet.rs): nothing is written.
    assert stack.change_count() == before + 1
    assert stack.stamp(name) == stamp and stack.records(name)["A"] == ["192.0.2.70"]
    # After it, an unchanged request writes the stamp (its place in the name's order) once.
    stack.age_stamp(name, 25 * 3600)
    aged = stack.stamp(name)
    r = nic_update(stack, user, token, hostname=name, myip="192.0.2.70")
    assert (r.status, r.text) == (200, "nochg 192.0.2.70")
    assert stack.stamp(name) != aged and stack.records(name)["A"] == ["192.0.2.70"]
    r = nic_update(stack, user, token, hostname=name, myip="192.0.2.70")
    assert (r.status, r.text) == (200, "nochg 192.0.2.70")
    assert stack.change_count() == before + 3, "the aging write and one stamp write, no more"


def test_an_earlier_txt_stamp_ahead_of_the_clock_is_moved_past_and_removed(stack, account):
    """An earlier version's TXT stamp ("t=<ms> u=<user>") a minute ahead of the server's
    clock: the dyndns2 stamp moves past it (the newest stamp counts), then the TXT is gone."""
    user, token, name = account
    ahead = now_ms() + 60_000
    stack.set_records(stamp_name(name), "TXT", [f'"t={ahead} u={user}"'])
    r = nic_update(stack, user, token, hostname=name, myip="192.0.2.75")
    assert (r.status, r.text) == (200, "good 192.0.2.75")
    assert read_stamp(stack.stamp(name)) == (ahead + 1, stamp_id("u=" + user))
    assert stack.legacy_stamp(name) is None


def test_dual_stack_forms(stack, account):
    user, token, name = account
    r = nic_update(stack, user, token, hostname=name, myip="192.0.2.71,2001:db8::71")
    assert r.text == "good 192.0.2.71,2001:db8::71"
    rec = stack.records(name)
    assert (rec["A"], rec["AAAA"]) == (["192.0.2.71"], ["2001:db8::71"])
    r = nic_update(stack, user, token, hostname=name, myipv6="2001:db8::72")
    assert r.text == "good 2001:db8::72", "only the family sent is echoed"
    rec = stack.records(name)
    assert (rec["A"], rec["AAAA"]) == (["192.0.2.71"], ["2001:db8::72"])


def test_no_address_means_the_observed_one(stack, account):
    user, token, name = account
    r = nic_update(stack, user, token, hostname=name)
    assert r.text == f"good {OBSERVED}"
    assert stack.records(name)["A"] == [OBSERVED]


def test_an_address_that_cannot_be_published_falls_back_to_the_observed_one(stack, account):
    user, token, name = account
    r = nic_update(stack, user, token, hostname=name, myip="192.168.1.20")
    assert r.text == f"good {OBSERVED}"
    assert stack.records(name)["A"] == [OBSERVED]


def test_bad_credentials_change_nothing(stack, account):
    user, token, name = account
    before = stack.change_count()
    for u, t in [(user, "wrong"), ("nobody", token), (user, token.upper()), ("bad/user", token)]:
        r = nic_update(stack, u, t, hostname=name, myip="192.0.2.73")
        assert (r.status, r.text) == (200, "badauth"), (u, r)
    r = nic_update(stack, None, None, hostname=name, myip="192.0.2.73")
    assert (r.status, r.text) == (401, "badauth")
    assert r.headers["www-authenticate"].startswith("Basic")
    assert stack.records(name) == EMPTY
    assert stack.change_count() == before
    stack.revoke_token(user)
    assert nic_update(stack, user, token, hostname=name, myip="192.0.2.73").text == "badauth"
    assert stack.records(name) == EMPTY


def test_per_host_answers(stack, account):
    user, token, name = account
    other = stack.new_name("notmine")
    r = nic_update(stack, user, token, hostname=f"{name},{other},bad_name,a.*.example.com,*.example.com",
                   myip="192.0.2.74")
    assert r.text.splitlines() == ["good 192.0.2.74", "nohost", "notfqdn", "notfqdn", "nohost"]
    assert stack.records(name)["A"] == ["192.0.2.74"]
    assert stack.records(other) == EMPTY
    assert nic_update(stack, user, token, myip="192.0.2.74").text == "notfqdn"
    many = ",".join(stack.new_name("n") for _ in range(21))
    assert nic_update(stack, user, token, hostname=many, myip="192.0.2.74").text == "numhost"


def test_route53_trouble_is_911(stack, account):
    user, token, name = account
    stack.throttle(1000)
    try:
        r = nic_update(stack, user, token, hostname=name, myip="192.0.2.75")
    finally:
        stack.throttle(0)
    assert r.text == "911"
    assert stack.records(name) == EMPTY


def test_post_and_trailing_slash_as_pfsense_and_others_send_them(stack, account):
    user, token, name = account
    cred = base64.b64encode(f"{user}:{token}".encode()).decode()
    form = urllib.parse.urlencode({"hostname": name, "myip": "192.0.2.76"}).encode()
    r = http_request(stack.http_url + "/nic/update", "POST", form,
                     {"Authorization": f"Basic {cred}", "Content-Type": "application/x-www-form-urlencoded"})
    assert (r.status, r.text) == (200, "good 192.0.2.76"), r
    r = http_request(stack.http_url + "/nic/update/?" + urllib.parse.urlencode({"hostname": name, "myip": "192.0.2.77"}),
                     headers={"Authorization": f"Basic {cred}"})
    assert (r.status, r.text) == (200, "good 192.0.2.77"), r
    assert stack.records(name)["A"] == ["192.0.2.77"]


def test_every_answer_on_the_dyndns2_path_is_dyndns2_text(stack, account):
    for method in ["PUT", "DELETE"]:
        r = http_request(stack.http_url + "/nic/update", method, b"")
        assert (r.status, r.text) == (405, "badagent"), (method, r)
        assert r.headers["content-type"].startswith("text/plain")
    r = nic_update(stack, None, None, hostname="x.example.com")
    assert r.headers["content-type"].startswith("text/plain") and "v1" not in r.text and "{" not in r.text


def test_credentials_in_the_query_over_https_but_never_plain_http_and_never_logged(stack, account):
    user, token, name = account
    q = urllib.parse.urlencode({"hostname": name, "myip": "192.0.2.78", "username": user, "password": token})
    # Through the Function URL, which says https in X-Forwarded-Proto.
    ctx = ssl.create_default_context(cafile=str(stack.ca_file))
    r = http_request(stack.function_url + "/nic/update?" + q, context=ctx)
    assert (r.status, r.text) == (200, "good 192.0.2.78"), r
    # A front that says plain HTTP, or says nothing (the emulator's own endpoint), or a proxy
    # the deployment does not declare: the credentials in the query are not used.
    for headers in [{"X-Forwarded-Proto": "http"}, {}, {"X-Forwarded-Proto": "https", "Via": "1.1 proxy"}]:
        r = http_request(stack.http_url + "/nic/update?" + q.replace("78", "79"), headers=headers)
        assert (r.status, r.text) == (401, "badauth"), (headers, r)
    assert stack.records(name)["A"] == ["192.0.2.78"]
    assert token not in stack.lambda_log()


def test_offline_is_answered_not_silently_applied(stack, account):
    user, token, name = account
    before = stack.change_count()
    r = nic_update(stack, user, token, hostname=name, myip="192.0.2.80", offline="YES")
    assert (r.status, r.text) == (200, "!donator"), r
    assert stack.records(name) == EMPTY and stack.change_count() == before


def test_a_malformed_entry_is_badauth_to_whoever_lacks_the_token(stack):
    """Only a caller holding the token learns that the entry is broken (`nohost`, and the
    operator's log line names the parameter); everyone else gets the unknown-user answer."""
    user, token = "u" + uuid.uuid4().hex[:8], uuid.uuid4().hex
    name = stack.new_name("dyn")
    stack.register_token(user, token, [name, "bad..name"])
    assert nic_update(stack, user, "wrong", hostname=name, myip="192.0.2.82").text == "badauth"
    assert nic_update(stack, user, token, hostname=name, myip="192.0.2.82").text == "nohost"
    assert f"/route53-ddns/tokens/{user}" in stack.lambda_log()
    assert stack.records(name) == EMPTY
