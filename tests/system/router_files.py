"""One simulated OpenWrt router's files for the router binary, shared by test_router.py
(native build) and test_static.py (each static build, under qemu): the UCI config, the key
path, a stand-in `ubus` (netifd is the far side) printing /<dir>/<iface>.json, the state
dir, and a datagram socket standing in for logd's /dev/log."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import textwrap
from pathlib import Path


def iface(v4=None, v6=None, uptime=42):
    """`ubus call network.interface.<if> status` shaped like netifd's answer for a DHCP or
    DHCPv6 interface (modelled on a real netifd's output; fields the router does not read
    are there so that it is read as a whole): DHCP adds the server, lease time and host
    name the client's script reported under `data`."""
    data = {"dhcpserver": "192.0.2.254", "hostname": "OpenWrt", "leasetime": 3600} if v4 else {}
    return {
        "up": True, "pending": False, "available": True, "autostart": True, "dynamic": False,
        "uptime": uptime, "l3_device": "eth1", "proto": "dhcpv6" if v6 else "dhcp", "device": "eth1",
        "ipv4-address": [{"address": v4, "mask": 24}] if v4 else [],
        "ipv6-address": [{"address": v6, "mask": 128, "preferred": 3600, "valid": 7200}] if v6 else [],
        "ipv6-prefix": [], "ipv6-prefix-assignment": [], "route": [], "dns-server": [],
        "dns-search": [], "neighbors": [], "inactive": {}, "data": data,
    }


class RouterFiles:
    """`command` runs the binary (e.g. [path] or [qemu, -cpu, X, path]); `timeouts` are the
    config's (connect, total) seconds; `env` is the base environment of every run."""

    def __init__(self, command: list[str], tmp: Path, endpoint: str, ca_file, hosts: str,
                 timeouts=(5, 30), env: dict | None = None):
        self.command = command
        self.dir = tmp
        self.key = tmp / "etc" / "route53-ddns" / "key"
        self.config = tmp / "route53-ddns"
        ca = f"\toption ca_file '{ca_file}'\n" if ca_file else ""
        self.config.write_text(textwrap.dedent(f"""\
            package route53-ddns

            config global 'global'
            \toption enabled '1'
            \toption endpoint '{endpoint}'
            \toption key_file '{self.key}'
            \toption connect_timeout '{timeouts[0]}'
            \toption timeout '{timeouts[1]}'
            """) + ca + hosts)
        ubus = tmp / "ubus"
        ubus.write_text(
            "#!/bin/sh\n"
            f'f="{tmp}/${{2#network.interface.}}.json"\n'
            'if [ "$1" = call ] && [ "$3" = status ] && [ -f "$f" ]; then exec cat "$f"; fi\n'
            "echo 'Command failed: Not found' >&2\nexit 4\n"
        )
        ubus.chmod(ubus.stat().st_mode | stat.S_IXUSR)
        self.log_path = tmp / "log.sock"
        self.log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.log.bind(str(self.log_path))
        self.log.setblocking(False)
        self.env = dict(os.environ if env is None else env)
        self.env.update({
            "ROUTE53_DDNS_UBUS": str(ubus),
            "ROUTE53_DDNS_STATE_DIR": str(tmp / "state"),
            "ROUTE53_DDNS_SYSLOG_SOCKET": str(self.log_path),
        })

    def set_iface(self, name, status):
        (self.dir / f"{name}.json").write_text(json.dumps(status, indent="\t"))

    def run(self, *args, env=None, timeout=900):
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run([*self.command, "--config", str(self.config), *args],
                              env=e, capture_output=True, text=True, timeout=timeout)

    def log_lines(self):
        """What reached the logd stand-in since the last call."""
        lines = []
        while True:
            try:
                lines.append(self.log.recv(4096).decode(errors="replace"))
            except BlockingIOError:
                return lines
