#!/usr/bin/env python3
"""The whole job end to end, on local stand-ins, printed step by step (README: "Try it").

Cloud side: moto as Route53 + SSM on 127.0.0.1, the real Lambda in the real runtime loop
(`cargo lambda watch`) behind a local TLS front with a throwaway CA.
Router side: the static x86_64 build of the router binary installed from its .ipk into a
minimal OpenWrt-like root (busybox as /bin/sh), driven by netifd's hotplug-call exactly as
on a router. Only netifd itself (a stand-in `ubus` that prints the interface status) and
logd (a socket this script reads) are stood in.

Run it through scripts/demo.sh, which installs the prerequisites first.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))
sys.path.insert(0, str(REPO / "tests" / "openwrt"))

from openwrt_harness import PKG, Root, build_static_x86_64, hotplug_env, make_packages  # noqa: E402
from stack import REGION, Stack  # noqa: E402

NAME = "home.example.com"
ROUTER_PATH = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
BOLD, DIM, GREEN, RESET = "\033[1m", "\033[2m", "\033[32m", "\033[0m"
if not sys.stdout.isatty():
    BOLD = DIM = GREEN = RESET = ""


def step(n: int, text: str) -> None:
    print(f"\n{BOLD}[{n}] {text}{RESET}", flush=True)


def show(text: str, prefix: str = "    ") -> None:
    for line in text.rstrip().splitlines():
        print(f"{prefix}{line}")


def records(stack: Stack) -> str:
    r = stack.records(NAME)
    a = ", ".join(r["A"]) or "-"
    aaaa = ", ".join(r["AAAA"]) or "-"
    return f"{NAME}  A {a}  AAAA {aaaa}  (TTL {r['TTL'] or '-'})"


def wan_status(v4: str, v6: str) -> tuple[dict, dict]:
    """What `ubus call network.interface.wan|wan6 status` prints on a PPPoE + DHCPv6 line."""
    common = {"up": True, "pending": False, "available": True, "autostart": True,
              "dynamic": False, "uptime": 42, "l3_device": "pppoe-wan", "device": "pppoe-wan",
              "route": [], "dns-server": [], "dns-search": [], "neighbors": [],
              "inactive": {}, "data": {}, "ipv6-prefix": [], "ipv6-prefix-assignment": []}
    wan = {**common, "proto": "pppoe", "ipv4-address": [{"address": v4, "mask": 32}],
           "ipv6-address": []}
    wan6 = {**common, "proto": "dhcpv6", "ipv4-address": [],
            "ipv6-address": [{"address": v6, "mask": 64, "preferred": 3600, "valid": 7200}]}
    return wan, wan6


def set_wan(root: Root, v4: str, v6: str) -> None:
    """netifd's side: the stand-in `ubus` (tests/openwrt/ubus) prints /tmp/netifd/<if>.json."""
    ubus = root.file("/bin/ubus")
    if not ubus.exists():
        shutil.copy2(REPO / "tests" / "openwrt" / "ubus", ubus)
    netifd = root.file("/tmp/netifd")
    netifd.mkdir(exist_ok=True)
    wan, wan6 = wan_status(v4, v6)
    (netifd / "wan.json").write_text(json.dumps(wan))
    (netifd / "wan6.json").write_text(json.dumps(wan6))


def hotplug(root: Root, env: dict) -> None:
    """netifd's way: `/sbin/hotplug-call iface` with the event's variables; the hotplug script
    returns at once and the updater runs detached, so wait for it too."""
    reaped = root.run_reaped(["/sbin/hotplug-call", "iface"], env)
    assert reaped.returned() == 0
    reaped.all_exited()


def print_syslog(root: Root) -> None:
    """What reached logd (the socket at the root's /dev/log) since the last call."""
    lines = [line.strip() for line in root.syslog()]
    show("\n".join(lines) or "(nothing logged)", f"    {DIM}syslog:{RESET} ")


def print_lambda_log(stack: Stack) -> None:
    """The Lambda's structured line for the last request (same request id as the router's)."""
    lines = [line for line in stack.lambda_log().splitlines() if '"request_id"' in line]
    show(lines[-1] if lines else "(nothing logged)", f"    {DIM}lambda:{RESET} ")


def router(root: Root, *args: str) -> str:
    r = root.run([f"/usr/sbin/{PKG}", *args], ROUTER_PATH)
    return r.stdout + r.stderr


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="route53-ddns-demo."))
    step(1, "Build: the static router binary, its .ipk, and the Lambda (first run takes minutes)")
    binary = build_static_x86_64()
    r = make_packages(work / "pkg", "--arch", "x86_64", "--no-apk")
    if r.returncode != 0:
        print(r.stderr)
        return 1
    (ipk,) = (work / "pkg").glob("*_x86_64.ipk")
    show(f"{binary.relative_to(REPO)}  {binary.stat().st_size:,} bytes\n{ipk.name}")

    step(2, "Cloud side: moto as Route53 + SSM, zone example.com, the Lambda under `cargo lambda watch`")
    (work / "stack").mkdir()
    stack = Stack(work / "stack")
    root = None
    try:
        show(f"endpoint  {stack.https_url}  (TLS front, test CA)\nzone      {stack.zone} ({stack.zone_id})")
        show(f"before:   {records(stack)}")

        step(3, "Router: `opkg install` — first boot generates the key and logs the public key")
        root = Root.create(work / "router", ipk, binary=binary)
        root.listen_syslog()
        root.run(["/bin/sh", "-c", f"cd /etc/uci-defaults && ( . ./{PKG} ) && rm -f ./{PKG}"],
                 ROUTER_PATH)
        print_syslog(root)
        key = root.file(f"/etc/{PKG}/key")
        show(f"{key.relative_to(root.path)}: mode {oct(key.stat().st_mode & 0o777)}, never leaves the router")

        step(4, "Configure (what LuCI writes to /etc/config/route53-ddns), then `route53-ddns check`")
        shutil.copy2(stack.ca_file, root.file(f"/etc/{PKG}/ca.pem"))
        root.set_options(enabled="1", endpoint=stack.https_url, ca_file=f"/etc/{PKG}/ca.pem")
        cfg = root.file(f"/etc/config/{PKG}")
        cfg.write_text(cfg.read_text() + f"\nconfig host\n\toption name '{NAME}'\n")
        show(router(root, "check"))

        step(5, "Provision: `route53-ddns pubkey` prints the registration command; run it (AWS CLI → moto)")
        out = router(root, "pubkey")
        show(out)
        command = next(line.strip() for line in out.splitlines() if line.strip().startswith("aws "))
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": stack.moto_url}
        subprocess.run(shlex.split(command), env=env, check=True, stdout=subprocess.DEVNULL)
        show(f"{GREEN}registered{RESET} (aws ssm put-parameter against {stack.moto_url})")

        step(6, "netifd brings the WAN up: ACTION=ifup INTERFACE=wan → /sbin/hotplug-call iface")
        set_wan(root, "198.51.100.23", "2001:db8:1::23")
        show("wan: pppoe 198.51.100.23   wan6: 2001:db8:1::23")
        hotplug(root, hotplug_env("ifup", "wan", "pppoe-wan"))
        print_syslog(root)
        print_lambda_log(stack)
        show(f"after:    {GREEN}{records(stack)}{RESET}")

        step(7, "The ISP renumbers: ACTION=ifupdate IFUPDATE_ADDRESSES=1 — A and AAAA change together")
        set_wan(root, "198.51.100.77", "2001:db8:2::77")
        hotplug(root, hotplug_env("ifupdate", "wan", "pppoe-wan", addresses="1"))
        print_syslog(root)
        print_lambda_log(stack)
        show(f"after:    {GREEN}{records(stack)}{RESET}")

        step(8, "wan6 reports the same addresses again: nothing is sent at all")
        changes = stack.change_count()
        hotplug(root, hotplug_env("ifup", "wan6", "pppoe-wan"))
        print_syslog(root)
        show(f"Route53 changes written: {stack.change_count() - changes}")

        step(9, "`route53-ddns status` on the router")
        show(router(root, "status"))
        print(f"\n{GREEN}Done.{RESET} The record changed twice, and a repeated event sent nothing.")
        return 0
    finally:
        if root is not None:
            root.cleanup()
        stack.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
