"""The LuCI views rendered in headless Debian Chromium.

CI has no OpenWrt: the views run on tests/luci/lib/luci-stub.js, a STAND-IN for LuCI's client
runtime (form/rpc/uci/ui), in tests/luci/harness/index.html. These tests therefore prove what
the views themselves do with the data they get (what a user reads, what is copied, that the
layout fits a phone) but not LuCI's own rendering; that was checked on a real LuCI stack by
hand (tests/luci/README.md). The status data comes from the real binary where it can: its
`status --json` and `pubkey` output on a temporary config.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "luci"))
import support  # noqa: E402

KEY = "UoRXhawXBG0U86JWDEqbJFFDHYxYBg-Sq1w5F_gIrOM"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}

UCI = {"route53-ddns": [
    {".name": "global", ".type": "global", "enabled": "1", "endpoint": "https://ddns.example.com/"},
    {".name": "cfg01", ".type": "host", "name": "home.example.com", "ipv4": "1", "ipv6": "1"},
    {".name": "cfg02", ".type": "host", "name": "NAS.Example.com.", "ipv4": "0", "ipv6": "1", "ipv6_suffix": "::1234"},
]}


def host(name: str, **kw: object) -> dict:
    h = {"name": name, "ipv4": None, "ipv6": None, "result": "never", "time": None, "request_id": None,
         "observed": None, "wan_ipv4": None, "nat": None, "diagnosis": None, "error": None}
    h.update(kw)
    return h


IDLE = {"state": "idle", "since": None, "attempt": None, "next_try": None, "waiting": False, "last_error": None}


def status(hosts: list[dict], **kw: object) -> dict:
    st = {"version": "0.1.0", "enabled": True, "config_error": None, "key_id": KEY,
          "last_run": 1764130000, "next_check": 1764130600, "run": IDLE, "hosts": hosts}
    st.update(kw)
    return st


@pytest.fixture(scope="module")
def tools() -> None:
    support.setup_tools()


@pytest.fixture()
def render(tools: None, tmp_path: Path):
    def run(view: str, rpc: dict, *, actions: list[str] | None = None, viewport: dict | None = None,
            after: dict | None = None, uci: dict | None = None) -> dict:
        sc = {"view": view, "rpc": rpc, "uci": uci or UCI, "actions": actions or [],
              "viewport": viewport or DESKTOP, "screenshot": str(tmp_path / f"{view}.png"),
              "networks": ["lan", "wan", "wan6"]}
        if after is not None:
            sc["status_after_update"] = after
        f = tmp_path / "scenario.json"
        f.write_text(json.dumps(sc))
        facts = json.loads(support.node(str(support.LUCI_TESTS / "lib" / "render.js"), str(f), timeout=180))
        assert facts["errors"] == [], "no JavaScript errors"
        assert (tmp_path / f"{view}.png").stat().st_size > 10_000, "a screenshot was taken"
        return facts
    return run


def rpc_for(st: dict, key: str | None = KEY) -> dict:
    return {"luci.route53-ddns.status": st,
            "luci.route53-ddns.pubkey": {"key_id": key} if key else {"error": "no key (route53-ddns pubkey exit code 4)"}}


def test_cgnat_warning_names_both_addresses(render) -> None:
    st = status([host("home.example.com", ipv4="198.51.100.7", result="updated", time=1764130000,
                      request_id="req-3f2a", observed="198.51.100.7", wan_ipv4="100.64.12.34", nat="cgnat")])
    f = render("status", rpc_for(st))
    assert len(f["nat_warnings"]) == 1
    w = f["nat_warnings"][0]
    assert "Carrier-grade NAT (CGNAT)" in w and "100.64.12.34" in w and "198.51.100.7" in w
    assert "IPv6" in w, "the warning says what to do"
    row = {c["title"]: c["text"] for c in f["hosts"][0]["cells"]}
    assert "198.51.100.7" in row["Published"] and "Updated" in row["Last result"]
    assert "req-3f2a" in row["Last result"], "the request id is shown"
    assert "198.51.100.7" in row["Public address seen"] and "100.64.12.34" in row["Public address seen"]


def test_one_nat_warning_for_all_hosts_and_no_duplicate_line(render) -> None:
    """The NAT is the router's: said once above the table, not again under each host."""
    diag = "the WAN address 100.64.12.34 is carrier-grade NAT: 198.51.100.7 is not this router's"
    hosts = [host(n, ipv4="198.51.100.7", result="updated", time=1764130000, observed="198.51.100.7",
                  wan_ipv4="100.64.12.34", nat="cgnat", diagnosis=diag)
             for n in ("home.example.com", "nas.example.com", "cam.example.com")]
    f = render("status", rpc_for(status(hosts)))
    assert len(f["nat_warnings"]) == 1
    assert f["diagnoses"] == []
    assert f["body_text"].count("Carrier-grade NAT") == 1


def test_double_nat_warning(render) -> None:
    st = status([host("home.example.com", observed="203.0.113.9", wan_ipv4="192.168.0.2", nat="nat",
                      result="updated", time=1764130000)])
    f = render("status", rpc_for(st))
    assert len(f["nat_warnings"]) == 1
    assert "Double NAT" in f["nat_warnings"][0] and "192.168.0.2" in f["nat_warnings"][0]
    assert "bridge mode" in f["nat_warnings"][0]


def test_cgnat_warning_before_the_endpoint_has_answered(render) -> None:
    """The router knows its WAN address is CGNAT before any answer: no "?" for the public one."""
    st = status([host("home.example.com", wan_ipv4="100.64.12.34", nat="cgnat", result="error")])
    f = render("status", rpc_for(st))
    assert "100.64.12.34" in f["nat_warnings"][0] and "?" not in f["nat_warnings"][0]


def test_no_nat_warning_on_a_public_wan(render) -> None:
    st = status([host("home.example.com", ipv4="203.0.113.9", observed="203.0.113.9", wan_ipv4="203.0.113.9",
                      nat="none", result="unchanged", time=1764130000)])
    f = render("status", rpc_for(st))
    assert f["nat_warnings"] == []
    assert "Up to date" in f["hosts"][0]["cells"][2]["text"]


def test_error_with_advice(render) -> None:
    err = {"code": "name_not_allowed", "message": "this key may not update nas.example.com",
           "advice": "Add nas.example.com to the key's names in the registry.", "permanent": True}
    st = status([host("nas.example.com", result="error", time=1764130000, request_id="r-9", error=err)])
    f = render("status", rpc_for(st))
    shown = f["errors_shown"][0]
    assert "name_not_allowed" in shown and "may not update nas.example.com" in shown
    assert "What to do: Add nas.example.com" in shown
    assert "not retried until the configuration changes" in shown


def test_provisioning_command_and_copy_buttons(render) -> None:
    f = render("status", rpc_for(status([host("home.example.com")])), actions=["copy-command", "copy-key"])
    names = json.dumps({"names": ["home.example.com", "nas.example.com"]}, separators=(",", ":"))
    want = f"aws ssm put-parameter --name /route53-ddns/keys/{KEY} --type String --value '{names}'"
    assert f["command"] == want, "names come from the config, canonical (lower case, no trailing dot)"
    assert f["copy-command"] == want
    assert f["copy-key"] == KEY
    assert "private key never leaves the router" in f["key_section"]


def test_no_key_yet(render) -> None:
    f = render("status", rpc_for(status([host("home.example.com")], key_id=None), key=None))
    assert f["key_id"] is None and f["command"] is None
    assert "route53-ddns keygen" in f["key_section"]


def test_update_now_runs_an_update_and_shows_the_new_result(render) -> None:
    before = status([host("home.example.com")], last_run=None)
    after = status([host("home.example.com", ipv4="203.0.113.9", result="updated", time=1764130100,
                         request_id="req-new", observed="203.0.113.9", nat="none")], last_run=1764130100)
    f = render("status", rpc_for(before), actions=["update"], after=after)
    assert "luci.route53-ddns.update" in f["rpc_calls"]
    row = {c["title"]: c["text"] for c in f["hosts"][0]["cells"]}
    assert "req-new" in row["Last result"] and "203.0.113.9" in row["Published"]
    # the run showed up in the status: its "Update started" banner is gone
    assert f["banners"] == [] and f["notifications"] == []


def test_update_banners_do_not_pile_up(render) -> None:
    """Two clicks, the second while the page waits for its run: one banner, no stack of
    notifications."""
    before = status([host("home.example.com")], last_run=None)
    after = status([host("home.example.com", result="updated", time=1764130100)], last_run=1764130100)
    f = render("status", rpc_for(before), actions=["update", "update"], after=after)
    assert f["rpc_calls"].count("luci.route53-ddns.update") == 2
    assert f["notifications"] == []
    assert len(f["banners"]) <= 1, f["banners"]


def test_update_now_reports_the_exit_code_when_the_backend_waited(render) -> None:
    """Without start-stop-daemon the plugin waits for the run and passes its exit code on."""
    st = status([host("home.example.com")])
    rpc = dict(rpc_for(st), **{"luci.route53-ddns.update": {"started": True, "finished": True, "code": 6}})
    f = render("status", rpc, actions=["update"], after=st)
    assert len(f["banners"]) == 1 and "failed for now" in f["banners"][0]


def test_status_refresh_keeps_the_table(render) -> None:
    """After a refresh the host rows are rebuilt, not replaced by text."""
    st = status([host("home.example.com", result="unchanged", time=1764130000)])
    f = render("status", rpc_for(st), actions=["update"], after=st)
    assert [h["name"] for h in f["hosts"]] == ["home.example.com"]
    assert "[object" not in f["body_text"]


def test_text_from_the_network_is_never_html(render) -> None:
    """Error texts, names and addresses come from the endpoint and the state file: shown as text."""
    evil = '<img id="xss1" src=x onerror="document.body.dataset.pwned=1">'
    err = {"code": '<b id="xss2">c</b>', "message": evil, "advice": '<i id="xss3">a</i>', "permanent": False}
    st = status([host('<u id="xss4">h</u>.example.com', result="error", error=err, observed=evil,
                      diagnosis='<s id="xss5">d</s>', request_id='<p id="xss6">r</p>')],
                config_error='<em id="xss7">e</em>')
    f = render("status", rpc_for(st), actions=["click-update"])  # the banner quotes config_error
    assert f["injected_nodes"] == 0
    assert 'onerror="document.body.dataset.pwned=1"' in f["body_text"], "shown literally"


@pytest.mark.parametrize("st,expect", [
    ({"enabled": False}, 'tick "Enable" on the Settings tab'),
    ({"config_error": "line 1: global section has no endpoint (required)"}, "Fix the configuration first: line 1"),
])
def test_update_now_explains_why_nothing_would_run(tmp_path: Path, tools: None, st: dict, expect: str) -> None:
    """Disabled or misconfigured: no update is started, the user is told why."""
    sc = {"view": "status", "uci": UCI, "actions": ["click-update"], "viewport": DESKTOP,
          "rpc": rpc_for(status([host("home.example.com")], **st))}
    f = tmp_path / "scenario.json"
    f.write_text(json.dumps(sc))
    facts = json.loads(support.node(str(support.LUCI_TESTS / "lib" / "render.js"), str(f), timeout=180))
    assert facts["errors"] == []
    assert "luci.route53-ddns.update" not in facts["rpc_calls"]
    assert len(facts["banners"]) == 1 and expect in facts["banners"][0]


def test_status_polls_every_two_seconds(render) -> None:
    """A run's first failure shows within ~2 s: the page asks for the status that often."""
    f = render("status", rpc_for(status([host("home.example.com")])))
    assert f["polls"] == [2]


def _summary(f: dict) -> dict[str, str]:
    rows = {}
    for line in f["summary"]:
        for title in ("Service", "Current run", "Last run", "Next check", "IPv6 from", "Version"):
            if line.startswith(title):
                rows[title] = line[len(title):].strip()
    return rows


def test_a_run_in_progress_its_failure_and_the_next_try_are_shown(render) -> None:
    running = status([host("home.example.com")], last_run=None,
                     run=dict(IDLE, state="running", since=1764130000, attempt=1))
    f = render("status", rpc_for(running))
    assert "Sending now (try 1)" in _summary(f)["Current run"], f["summary"]
    err = {"code": "unavailable", "message": "the endpoint refused the update (HTTP 503, unavailable): busy",
           "advice": "the endpoint had a temporary problem; it will be retried", "permanent": False}
    retrying = status([host("home.example.com", result="error", time=1764130001, error=err)],
                      run=dict(IDLE, state="retrying", since=1764130000, attempt=2, next_try=1764130072,
                               waiting=True, last_error=err))
    f = render("status", rpc_for(retrying))
    row = _summary(f)["Current run"]
    assert "2 tries failed since" in row and "next try" in row, row
    assert "HTTP 503" in row and "What to do: the endpoint had a temporary problem" in row, row
    assert "sent by the first check" not in row, "a process waits for the next try and sends it on time"
    # the wait is longer than the check interval: the process exits, the timer sends it
    retrying["run"] = dict(retrying["run"], waiting=False)
    row = _summary(render("status", rpc_for(retrying)))["Current run"]
    assert "(sent by the first check or interface event after that)" in row, row


def test_a_run_whose_start_is_not_recorded_yet_does_not_say_since_never(render) -> None:
    """Seen on a real LuCI stack: for a moment after the lock is taken, `run.since` is still null."""
    st = status([host("home.example.com")], last_run=None, run=dict(IDLE, state="running", since=None, attempt=1))
    row = _summary(render("status", rpc_for(st)))["Current run"]
    assert row == "Sending now (try 1)", row


PPPOE_NOTE = ("found automatically: it has a global IPv6 address; netifd's dynamic interface of PPPoE with "
              "ipv6 auto; wan6 is down or not there")


@pytest.mark.parametrize("ipv6_interface, option, expect", [
    ({"name": "wan_6", "automatic": True, "note": PPPOE_NOTE}, None,
     "wan_6 (PPPoE, found automatically) " + PPPOE_NOTE),
    ({"name": "wan6", "automatic": True, "note": "found automatically: it has a global IPv6 address"}, None,
     "wan6 (found automatically) found automatically: it has a global IPv6 address"),
    ({"name": "wan", "automatic": False, "note": "set by ipv6_interface: it has a global IPv6 address"}, "wan",
     "wan (set in Settings: IPv6 interface) set by ipv6_interface: it has a global IPv6 address"),
])
def test_the_interface_ipv6_came_from_is_shown(render, ipv6_interface: dict, option: str | None,
                                               expect: str) -> None:
    """Issue 13 item 6: with ipv6_interface left at wan6 the router may take IPv6 from PPPoE's wan_6."""
    uci = json.loads(json.dumps(UCI))
    if option:
        uci["route53-ddns"][0]["ipv6_interface"] = option
    f = render("status", rpc_for(status([host("home.example.com")], ipv6_interface=ipv6_interface)), uci=uci)
    assert _summary(f).get("IPv6 from") == expect, f["summary"]


def test_no_ipv6_source_row_before_the_router_has_looked(render) -> None:
    f = render("status", rpc_for(status([host("home.example.com")], ipv6_interface=None)))
    assert "IPv6 from" not in _summary(f), f["summary"]


@pytest.mark.parametrize("last_run, expect", [
    (None, "now (the first check runs as the service starts)"),
    (1764130000, "now"),
])
def test_next_check_is_right_before_the_first_run(render, last_run, expect) -> None:
    """Enabled, and the check is due (the binary says so with next_check <= now)."""
    import time
    st = status([host("home.example.com")], last_run=last_run, next_check=int(time.time()))
    row = _summary(render("status", rpc_for(st)))["Next check"]
    assert row == expect, row


def test_backend_and_config_errors_are_shown(render) -> None:
    f = render("status", rpc_for({"error": "route53-ddns is not installed"}, key=None))
    assert f["backend_error"] == ["Could not read the status: route53-ddns is not installed"]
    f = render("status", rpc_for(status([], config_error="line 3: endpoint: the endpoint must be an https:// URL")))
    assert "must be an https:// URL" in f["config_error"][0]


def test_real_status_json_from_the_binary(render, tmp_path: Path) -> None:
    """The page reads what `route53-ddns status --json` and `pubkey` really print."""
    binary = support.build_router_binary()
    cfg = tmp_path / "route53-ddns"
    cfg.write_text(support.render_uci([
        ("global", "global", {"enabled": "1", "endpoint": "https://ddns.example.com/", "key_file": str(tmp_path / "key")}),
        ("host", None, {"name": "home.example.com"}),
        ("host", None, {"name": "nas.example.com", "ipv4": "0", "ipv6_suffix": "::1234"}),
    ]))
    env = dict(os.environ, ROUTE53_DDNS_STATE_DIR=str(tmp_path / "state"))
    run = lambda *a: subprocess.run([str(binary), "--config", str(cfg), *a], capture_output=True, text=True,  # noqa: E731
                                    timeout=60, env=env)
    assert run("keygen").returncode == 0
    st = json.loads(run("status", "--json").stdout)
    key_id = run("pubkey").stdout.splitlines()[0]  # what the rpcd plugin keeps
    f = render("status", rpc_for(st, key_id))
    assert [h["name"] for h in f["hosts"]] == ["home.example.com", "nas.example.com"]
    assert all("Not yet sent" in h["cells"][2]["text"] for h in f["hosts"])
    assert f["key_id"] == key_id == st["key_id"]
    assert f"/route53-ddns/keys/{key_id} " in f["command"]


def srgb(css: str) -> float:
    """Relative luminance (WCAG 2) of a computed `rgb(r, g, b)` colour."""
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", css)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_result_badges_are_readable(render) -> None:
    """WCAG AA: badge text at least 4.5:1 against its background, for every result."""
    hosts = [host("a.example.com", result="updated", time=1764130000),
             host("b.example.com", result="unchanged", time=1764130000),
             host("c.example.com", result="error", time=1764130000),
             host("d.example.com")]
    f = render("status", rpc_for(status(hosts)))
    assert len(f["badges"]) == 4
    for b in f["badges"]:
        hi, lo = sorted((srgb(b["color"]), srgb(b["background"])), reverse=True)
        ratio = (hi + 0.05) / (lo + 0.05)
        assert ratio >= 4.5, f"{b['text']}: {b['color']} on {b['background']} is {ratio:.2f}:1"


def test_a_rotation_in_progress_from_the_binary(render, tmp_path: Path) -> None:
    """`keygen --next` pending and an old key recorded: the page shows the waiting key with
    its registration command, and the command that removes the old key, as the binary
    prints them (`status --json`)."""
    binary = support.build_router_binary()
    cfg = tmp_path / "route53-ddns"
    key = tmp_path / "key"
    cfg.write_text(support.render_uci([
        ("global", "global", {"enabled": "1", "endpoint": "https://ddns.example.com/", "key_file": str(key)}),
        ("host", None, {"name": "home.example.com"}),
    ]))
    env = dict(os.environ, ROUTE53_DDNS_STATE_DIR=str(tmp_path / "state"))
    run = lambda *a: subprocess.run([str(binary), "--config", str(cfg), *a], capture_output=True, text=True,  # noqa: E731
                                    timeout=60, env=env)
    assert run("keygen").returncode == 0
    old = run("pubkey").stdout.splitlines()[0]
    key.with_name("key.old-id").write_text(old + "\n")  # as a promotion leaves it
    assert run("keygen", "--force").returncode == 0
    assert run("keygen", "--next").returncode == 0
    st = json.loads(run("status", "--json").stdout)
    nxt = st["key"]["next_key_id"]
    assert nxt and st["key"]["old_key_id"] == old
    f = render("status", rpc_for(st, st["key_id"]))
    assert f["next_key"] == nxt
    # the names come from the page's UCI config, as for the current key
    names = json.dumps({"names": ["home.example.com", "nas.example.com"]}, separators=(",", ":"))
    assert f["next_command"] == f"aws ssm put-parameter --name /route53-ddns/keys/{nxt} --type String --value '{names}'"
    assert f["old_remove"] == st["key"]["old_key_remove"]
    assert old in f["old_key"] and "pubkey --old" in f["old_key"]


def test_the_endpoint_field_shows_a_whole_function_url(render) -> None:
    url = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/"
    action = f"fits:cbid.route53-ddns.global.endpoint={url}"
    f = render("settings", {}, actions=[action])
    fit = f[action]
    assert fit["scroll"] <= fit["client"], f"{url} is cut: {fit}"


def test_real_status_json_names_pppoes_wan_6(render, tmp_path: Path) -> None:
    """The real binary on a PPPoE WAN with `ipv6 auto` (no wan6, netifd's dynamic wan_6): its
    `status --json` after a pass names wan_6, and the page shows that."""
    binary = support.build_router_binary()
    wan = {"up": True, "pending": False, "available": True, "autostart": True, "dynamic": False, "uptime": 8123,
           "l3_device": "pppoe-wan", "proto": "pppoe", "device": "eth0.2",
           "ipv4-address": [{"address": "87.123.45.67", "mask": 32, "ptpaddress": "87.123.0.1"}],
           "ipv6-address": [{"address": "fe80::a4b1:2c3d:4e5f:6071", "mask": 128}], "ipv6-prefix": [],
           "ipv6-prefix-assignment": [], "route": [], "dns-server": [], "data": {}}
    wan_6 = {"up": True, "pending": False, "available": True, "autostart": True, "dynamic": True, "uptime": 8110,
             "l3_device": "pppoe-wan", "proto": "dhcpv6", "device": "pppoe-wan", "ipv4-address": [],
             "ipv6-address": [{"address": "2a02:8070:a1b2:ff00::1c3", "mask": 128, "preferred": 1500, "valid": 3300}],
             "ipv6-prefix": [], "ipv6-prefix-assignment": [], "route": [], "dns-server": [], "data": {}}
    (tmp_path / "wan.json").write_text(json.dumps(wan))
    (tmp_path / "wan_6.json").write_text(json.dumps(wan_6))
    ubus = tmp_path / "ubus"
    ubus.write_text("#!/bin/sh\n"
                    f'f="{tmp_path}/${{2#network.interface.}}.json"\n'
                    'if [ "$1" = call ] && [ "$3" = status ] && [ -f "$f" ]; then exec cat "$f"; fi\n'
                    "echo 'Command failed: Not found' >&2\nexit 4\n")
    ubus.chmod(0o755)
    cfg = tmp_path / "route53-ddns"
    cfg.write_text(support.render_uci([
        # nothing listens on 127.0.0.1:9: the pass fails at once, after choosing the interface
        ("global", "global", {"enabled": "1", "endpoint": "https://127.0.0.1:9", "key_file": str(tmp_path / "key")}),
        ("host", None, {"name": "home.example.com"}),
    ]))
    env = dict(os.environ, ROUTE53_DDNS_STATE_DIR=str(tmp_path / "state"), ROUTE53_DDNS_UBUS=str(ubus),
               ROUTE53_DDNS_SYSLOG_SOCKET=str(tmp_path / "no-syslog"))
    argv = [str(binary), "--config", str(cfg)]
    assert subprocess.run([*argv, "keygen"], capture_output=True, env=env, timeout=60).returncode == 0
    st = json.loads(subprocess.run([*argv, "status", "--json"], capture_output=True, env=env, timeout=60).stdout)
    assert st["ipv6_interface"] is None, "nothing chosen before the first pass"
    # the failed pass then waits for its retry: stop it once the status has the choice
    upd = subprocess.Popen([*argv, "update", "--force"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        import time
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            st = json.loads(subprocess.run([*argv, "status", "--json"], capture_output=True, env=env,
                                           timeout=60).stdout)
            if st["ipv6_interface"] is not None:
                break
            time.sleep(0.2)
    finally:
        os.killpg(upd.pid, 15)
        upd.wait(timeout=30)
    assert st["ipv6_interface"]["name"] == "wan_6" and st["ipv6_interface"]["automatic"] is True, st
    row = _summary(render("status", rpc_for(st)))["IPv6 from"]
    assert row.startswith("wan_6 (PPPoE, found automatically) "), row
    assert st["ipv6_interface"]["note"] in row, row


@pytest.mark.parametrize("view", ["status", "settings"])
def test_fits_a_phone_screen(render, view: str) -> None:
    err = {"code": "transient", "message": "connection timed out after 10 s",
           "advice": "Check the WAN connection.", "permanent": False}
    st = status([host("a-rather-long-host-name-for-a-phone.subdomain.example.com", ipv6="2001:db8:1234:5678:9abc:def0:1234:5678",
                      result="error", request_id="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", error=err,
                      observed="198.51.100.7", wan_ipv4="100.64.0.1", nat="cgnat")])
    f = render(view, rpc_for(st), viewport=PHONE)
    assert f["page_width"] <= PHONE["width"], "no horizontal scrolling on a phone"


def test_settings_form_has_every_option_with_help(render) -> None:
    f = render("settings", {})
    names = {n.split(".")[-1] for n in f["inputs"]}
    assert {"enabled", "endpoint", "ipv4_interface", "ipv6_interface", "lan_interface", "ca_file",
            "check_interval", "force_interval", "log_level", "name", "ipv4", "ipv6", "ipv6_suffix"} <= names
    assert "key_file" not in names
    assert "cbid.route53-ddns.cfg02.name" in f["inputs"], "one row per configured host"


@pytest.mark.parametrize("field,value,ok", [
    ("cbid.route53-ddns.global.endpoint", "http://ddns.example.com/", False),
    ("cbid.route53-ddns.global.endpoint", "https://ddns.example.com/v1/update", False),
    ("cbid.route53-ddns.global.endpoint", "https://abcdefghij.lambda-url.eu-west-1.on.aws/", True),
    ("cbid.route53-ddns.cfg01.name", "router", False),
    ("cbid.route53-ddns.cfg01.name", "nas.example.com", False),  # already listed in cfg02
    ("cbid.route53-ddns.cfg01.name", "www.example.com", True),
    ("cbid.route53-ddns.cfg02.ipv6_suffix", "2001:db8::1", False),
    ("cbid.route53-ddns.cfg02.ipv6_suffix", "::1234", True),
    ("cbid.route53-ddns.cfg02.ipv6_suffix", "02:11:22:33:44:55", True),
    ("cbid.route53-ddns.cfg02.ipv6_suffix", "01:00:5e:00:00:fb", False),
    ("cbid.route53-ddns.global.check_interval", "0", False),
])
def test_settings_validation_as_typed(render, field: str, value: str, ok: bool) -> None:
    f = render("settings", {}, actions=[f"type:{field}={value}"])
    got = f[f"type:{field}={value}"]
    assert got["invalid"] is (not ok), got
    if not ok:
        assert got["tooltip"], "the reason is shown"


def test_settings_refuses_more_names_than_one_update_carries(render) -> None:
    """The binary refuses more than protocol::MAX_HOSTS (20) names; so does the page."""
    max_hosts = int(re.search(r"pub const MAX_HOSTS: usize = (\d+);",
                              (support.REPO / "protocol" / "src" / "lib.rs").read_text()).group(1))
    many = {"route53-ddns": [UCI["route53-ddns"][0]] + [
        {".name": f"cfg{i:02d}", ".type": "host", "name": f"h{i}.example.com"} for i in range(max_hosts + 1)]}
    f = render("settings", {}, uci=many, actions=["type:cbid.route53-ddns.cfg00.name=h0.example.com"])
    got = f["type:cbid.route53-ddns.cfg00.name=h0.example.com"]
    assert got["invalid"] and f"At most {max_hosts} host names" in got["tooltip"]
    fewer = {"route53-ddns": many["route53-ddns"][:-1]}
    f = render("settings", {}, uci=fewer, actions=["type:cbid.route53-ddns.cfg00.name=h0.example.com"])
    assert not f["type:cbid.route53-ddns.cfg00.name=h0.example.com"]["invalid"]


def test_an_interface_that_is_down_is_not_lost(render) -> None:
    """PPPoE's dynamic wan_6 exists only while it is up: the picker keeps it selected."""
    uci = json.loads(json.dumps(UCI))
    uci["route53-ddns"][0]["ipv6_interface"] = "wan_6"
    f = render("settings", {}, uci=uci, actions=["value:cbid.route53-ddns.global.ipv6_interface"])
    assert f["value:cbid.route53-ddns.global.ipv6_interface"] == "wan_6"
    f = render("settings", {}, actions=["value:cbid.route53-ddns.global.ipv6_interface"])
    assert f["value:cbid.route53-ddns.global.ipv6_interface"] == "wan6", "the default when unset"
