"""The README's first command: the demo must keep doing what the README says it does."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

if os.geteuid() != 0:  # the router side runs in a chroot, as in the OpenWrt tests
    pytest.skip("needs root for chroot", allow_module_level=True)


def test_demo_publishes_changes_and_then_sends_nothing():
    r = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200,
    )
    out = r.stdout
    assert r.returncode == 0, out[-4000:]
    # the record before, after the ifup, after the renumbering
    assert "before:   home.example.com  A -  AAAA -" in out, out
    assert "after:    home.example.com  A 198.51.100.23  AAAA 2001:db8:1::23  (TTL 60)" in out, out
    assert "after:    home.example.com  A 198.51.100.77  AAAA 2001:db8:2::77  (TTL 60)" in out, out
    assert "Route53 changes written: 0" in out, out
    # the router's syslog line and the Lambda's log line carry the same request id
    router_ids = re.findall(r"request ([0-9a-f-]{36})\]", out)
    lambda_ids = re.findall(r'"request_id":"([0-9a-f-]{36})"', out)
    assert len(router_ids) == 2 and router_ids == lambda_ids, out
