"""Shared helpers for tests/system/test_luci*.py (the LuCI page of route53-ddns)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LUCI_TESTS = REPO / "tests" / "luci"
APP = REPO / "openwrt" / "luci-app-route53-ddns"
RESOURCES = APP / "htdocs" / "luci-static" / "resources"
VIEWS = RESOURCES / "view" / "route53-ddns"
SETTINGS_VIEW = VIEWS / "settings.js"
STATUS_VIEW = VIEWS / "status.js"
# the app's own modules ('require route53-ddns.NAME' loads resources/route53-ddns/NAME.js)
MODULES = sorted((RESOURCES / "route53-ddns").glob("*.js"))
PAGE_FILES = [SETTINGS_VIEW, STATUS_VIEW, *MODULES]
ACL = APP / "root" / "usr" / "share" / "rpcd" / "acl.d" / "luci-app-route53-ddns.json"
MENU = APP / "root" / "usr" / "share" / "luci" / "menu.d" / "luci-app-route53-ddns.json"
UCODE = APP / "root" / "usr" / "share" / "rpcd" / "ucode" / "route53-ddns.uc"
POT = APP / "po" / "templates" / "route53-ddns.pot"
BIN = "/usr/sbin/route53-ddns"


def setup_tools() -> None:
    """npm ci (pinned) and chromium, via tests/luci/setup.sh."""
    subprocess.run([str(LUCI_TESTS / "setup.sh")], check=True, timeout=900)


def build_router_binary() -> Path:
    """Builds the router binary natively (shared target/) and returns its path."""
    subprocess.run(
        ["cargo", "build", "--locked", "-q", "-p", "route53-ddns", "--bin", "route53-ddns"],
        cwd=REPO,
        check=True,
        timeout=1800,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = target / "debug" / "route53-ddns"
    assert path.is_file(), f"cargo build did not produce {path}"
    return path


def node(*args: str, timeout: int = 120) -> str:
    res = subprocess.run(["node", *args], cwd=LUCI_TESTS, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise AssertionError(f"node {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}")
    return res.stdout


def extract_page(samples: dict | None = None, tmp: Path | None = None) -> dict:
    """The options the settings page declares (and its verdicts on samples)."""
    args = [str(LUCI_TESTS / "lib" / "extract.js"), str(SETTINGS_VIEW)]
    if samples is not None:
        assert tmp is not None
        f = tmp / "samples.json"
        f.write_text(json.dumps(samples))
        args.append(str(f))
    return json.loads(node(*args))


def uci_quote(v: str) -> str:
    return "'" + v.replace("'", "'\\''") + "'"


def render_uci(sections: list[tuple[str, str | None, dict[str, str]]]) -> str:
    """A UCI file from (type, name-or-None, {option: value}) triples."""
    out = []
    for kind, name, opts in sections:
        out.append(f"config {kind}" + (f" {uci_quote(name)}" if name else ""))
        for k, v in opts.items():
            out.append(f"\toption {k} {uci_quote(v)}")
        out.append("")
    return "\n".join(out)
