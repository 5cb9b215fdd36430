"""The LuCI status page end to end with the real parts: the provisioning command the page shows
is run with the AWS CLI against moto's SSM, which makes the real Lambda (behind the HTTPS front)
accept the router binary's signed update; the page then shows what `status --json` reports.

Stand-ins: the page runs on tests/luci/lib/luci-stub.js (not LuCI's runtime, see tests/luci/README.md)
and netifd is a `ubus` script printing netifd-shaped JSON (as in test_router.py).
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "luci"))
import support  # noqa: E402
from stack import OBSERVED  # noqa: E402  (the source address the test Lambda reports)

CGNAT_WAN = "100.64.1.2"


def iface(ipv4: list[dict], ipv6: list[dict]) -> dict:
    return {"up": True, "pending": False, "available": True, "proto": "dhcp", "device": "eth1",
            "l3_device": "eth1", "ipv4-address": ipv4, "ipv6-address": ipv6, "ipv6-prefix": [],
            "ipv6-prefix-assignment": [], "route": [], "dns-server": [], "data": {}}


@pytest.fixture
def router(stack, tmp_path: Path, name: str):
    """A router config for `name` on the test stack, its key, a netifd stand-in with a CGNAT WAN."""
    binary = support.build_router_binary()
    (tmp_path / "wan.json").write_text(json.dumps(iface([{"address": CGNAT_WAN, "mask": 22}], [])))
    (tmp_path / "wan6.json").write_text(json.dumps(iface([], [])))
    ubus = tmp_path / "ubus"
    ubus.write_text(
        "#!/bin/sh\n"
        f'f="{tmp_path}/${{2#network.interface.}}.json"\n'
        'if [ "$1" = call ] && [ "$3" = status ] && [ -f "$f" ]; then exec cat "$f"; fi\n'
        "echo 'Command failed: Not found' >&2\nexit 4\n"
    )
    ubus.chmod(ubus.stat().st_mode | stat.S_IXUSR)
    cfg = tmp_path / "route53-ddns"
    cfg.write_text(support.render_uci([
        ("global", "global", {"enabled": "1", "endpoint": stack.https_url, "ca_file": str(stack.ca_file),
                              "key_file": str(tmp_path / "key")}),
        ("host", None, {"name": name, "ipv4": "1", "ipv6": "1"}),
    ]))
    env = dict(os.environ, ROUTE53_DDNS_UBUS=str(ubus), ROUTE53_DDNS_STATE_DIR=str(tmp_path / "state"),
               ROUTE53_DDNS_SYSLOG_SOCKET=str(tmp_path / "no-syslog"))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(binary), "--config", str(cfg), *args], capture_output=True, text=True,
                              timeout=300, env=env)

    assert run("keygen").returncode == 0
    return run


def render_status(tmp: Path, run, name: str) -> dict:
    st = json.loads(run("status", "--json").stdout)
    key_id = run("pubkey").stdout.splitlines()[0]  # what the rpcd plugin passes on
    sc = {"view": "status", "viewport": {"width": 1280, "height": 900}, "actions": [],
          "uci": {"route53-ddns": [{".name": "global", ".type": "global", "enabled": "1"},
                                   {".name": "cfg01", ".type": "host", "name": name}]},
          "rpc": {"luci.route53-ddns.status": st, "luci.route53-ddns.pubkey": {"key_id": key_id}}}
    f = tmp / "scenario.json"
    f.write_text(json.dumps(sc))
    facts = json.loads(support.node(str(support.LUCI_TESTS / "lib" / "render.js"), str(f), timeout=180))
    assert facts["errors"] == []
    return facts


def test_the_pages_provisioning_command_lets_the_router_update(stack, router, name: str, tmp_path: Path) -> None:
    support.setup_tools()
    before = render_status(tmp_path, router, name)
    assert "Not yet sent" in before["hosts"][0]["cells"][2]["text"]

    # unregistered: the Lambda refuses the key
    assert router("update", "--force").returncode == 5

    # run exactly what the page shows, with AWS credentials for the test stack
    argv = shlex.split(before["command"])
    assert argv[:3] == ["aws", "ssm", "put-parameter"]
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL_SSM=stack.moto_url)
    env.pop("AWS_ENDPOINT_URL", None)
    reg = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert reg.returncode == 0, reg.stderr

    out = router("update", "--force")
    assert out.returncode == 0, out.stdout + out.stderr
    assert stack.records(name)["A"] == [OBSERVED]

    after = render_status(tmp_path, router, name)
    row = {c["title"]: c["text"] for c in after["hosts"][0]["cells"]}
    assert "Updated" in row["Last result"] and "Request ID" in row["Last result"]
    assert OBSERVED in row["Published"] and OBSERVED in row["Public address seen"]
    assert len(after["nat_warnings"]) == 1
    assert CGNAT_WAN in after["nat_warnings"][0] and OBSERVED in after["nat_warnings"][0]

