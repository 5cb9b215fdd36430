"""Static checks of luci-app-route53-ddns: eslint with LuCI's globals, the rpcd ACL, the rpcd
ucode backend's command lines, the menu, the package Makefile and the translation template."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "luci"))
import support  # noqa: E402

ACL_GROUP = "luci-app-route53-ddns"
UBUS_OBJECT = "luci.route53-ddns"


@pytest.fixture(scope="module")
def tools() -> None:
    support.setup_tools()


@pytest.fixture(scope="module")
def acl() -> dict:
    return json.loads(support.ACL.read_text())


@pytest.fixture(scope="module")
def ucode() -> str:
    return support.UCODE.read_text()


def test_eslint_passes_on_the_views(tools: None) -> None:
    eslint = support.LUCI_TESTS / "node_modules" / ".bin" / "eslint"
    res = subprocess.run(
        [str(eslint), "--max-warnings", "0", "--config", "tests/luci/eslint.config.mjs",
         "openwrt/luci-app-route53-ddns/htdocs"],
        cwd=support.REPO, capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_eslint_really_lints_the_views(tools: None) -> None:
    """The config is not vacuous: a view with an undefined name and innerHTML fails.
    (Linted from stdin under a view's name, so no file is written into the package.)"""
    probe = ("'use strict';\n'require view';\nreturn view.extend({ render() { "
             "document.body.innerHTML = undefinedThing; } });\n")
    eslint = support.LUCI_TESTS / "node_modules" / ".bin" / "eslint"
    res = subprocess.run(
        [str(eslint), "--config", "tests/luci/eslint.config.mjs", "--stdin", "--stdin-filename",
         str((support.VIEWS / "probe.js").relative_to(support.REPO))],
        cwd=support.REPO, input=probe, capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 1, res.stdout + res.stderr
    assert "'undefinedThing' is not defined" in res.stdout
    assert "never assign innerHTML" in res.stdout


def test_views_are_modern_client_side_luci() -> None:
    app_files = [p for p in support.APP.rglob("*") if p.is_file()]
    assert not [p for p in app_files if p.suffix in (".lua", ".htm")], "no Lua or server-side templates"
    for view in (support.SETTINGS_VIEW, support.STATUS_VIEW):
        src = view.read_text()
        assert src.startswith("'use strict';\n'require view';\n"), view.name
        requires = re.findall(r"^'require ([\w.]+)(?: as \w+)?';$", src, re.M)
        assert "fs" not in requires, f"{view.name} must not read files (and the ACL grants none)"
        assert ".innerHTML" not in src
    for module in support.MODULES:
        src = module.read_text()
        assert src.startswith("'use strict';\n'require baseclass';\n"), module.name
        assert "fs" not in re.findall(r"^'require ([\w.-]+)(?: as \w+)?';$", src, re.M), module.name
        assert ".innerHTML" not in src, module.name
    settings = support.SETTINGS_VIEW.read_text()
    for req in ("form", "uci", "tools.widgets as widgets"):
        assert f"'require {req}';" in settings
    status = support.STATUS_VIEW.read_text()
    for req in ("rpc", "uci", "ui", "poll"):
        assert f"'require {req}';" in status


def test_the_views_modules_are_shipped_where_luci_loads_them() -> None:
    """luci.js loads 'require a.b' from luci-static/resources/a/b.js and wants a class from it:
    each module the views name is a file there returning baseclass.extend(), and every
    module shipped is one a view names."""
    named = set()
    for view in (support.SETTINGS_VIEW, support.STATUS_VIEW):
        named |= set(re.findall(r"^'require (route53-ddns\.[\w-]+)(?: as \w+)?';$", view.read_text(), re.M))
    assert named == {"route53-ddns.status", "route53-ddns.key", "route53-ddns.checks"}
    files = {"route53-ddns." + m.stem for m in support.MODULES}
    assert files == named
    for name in named:
        src = (support.RESOURCES / (name.replace(".", "/") + ".js")).read_text()
        assert re.search(r"^return baseclass\.extend\(\{$", src, re.M), name


def test_acl_grants_only_uci_route53_ddns_and_the_plugin(acl: dict) -> None:
    assert list(acl) == [ACL_GROUP]
    group = acl[ACL_GROUP]
    assert set(group) <= {"description", "read", "write"}
    for mode in ("read", "write"):
        grants = group[mode]
        assert set(grants) == {"ubus", "uci"}, f"{mode}: only ubus and uci (no file, no cgi-io)"
        assert grants["uci"] == ["route53-ddns"], f"{mode}: uci scope is route53-ddns only"
        assert list(grants["ubus"]) == [UBUS_OBJECT], f"{mode}: only the plugin's ubus object"
    assert sorted(group["read"]["ubus"][UBUS_OBJECT]) == ["pubkey", "status"]
    assert group["write"]["ubus"][UBUS_OBJECT] == ["update"]


def test_acl_has_no_path_to_the_key_or_any_exec(acl: dict) -> None:
    text = json.dumps(acl)
    assert "/etc/route53-ddns" not in text, "no grant mentions the key directory"
    assert '"file"' not in text and "exec" not in text and "cgi-io" not in text
    assert "*" not in text, "no wildcards"


def _constants(src: str) -> dict[str, str]:
    return dict(re.findall(r"^const (\w+) = (.+);$", src, re.M))


def test_plugin_runs_only_fixed_route53_ddns_commands(ucode: str) -> None:
    consts = _constants(ucode)
    assert consts["BIN"] == "'/usr/sbin/route53-ddns'"
    # every popen() gets one of two constant command lines, nothing else
    popen_args = re.findall(r"\bpopen\(([^,)]+)", ucode)
    assert popen_args == ["cmd"], "popen only inside run(cmd)"
    run_args = re.findall(r"\brun\(([^)]*)\)", ucode)
    assert sorted(a for a in run_args if a != "cmd") == ["PUBKEY_CMD", "STATUS_CMD"]
    assert consts["STATUS_CMD"] == "'/usr/sbin/route53-ddns status --json 2>/dev/null'"
    assert consts["PUBKEY_CMD"] == "'/usr/sbin/route53-ddns pubkey 2>/dev/null'"
    # system() only with constant argv arrays: never a string (which would go to a shell)
    system_args = re.findall(r"\bsystem\((\[[^\]]*\]|\w+), \d+\)", ucode)
    assert len(system_args) == len(re.findall(r"\bsystem\(", ucode))
    # one: the binary detaches itself (own session, no inherited descriptor) and, during a
    # run, queues one more pass instead of being refused (no start-stop-daemon matching)
    assert system_args == ["UPDATE_ARGV"]
    assert consts["UPDATE_ARGV"] == "[ BIN, 'update', '--force', '--detach' ]"
    assert "start-stop-daemon" not in ucode
    # nothing from UCI or the request can reach a command
    assert "from 'uci'" not in ucode and "cursor" not in ucode
    code = re.sub(r"//.*", "", ucode)
    assert "request" not in code and "args" not in code, "methods take no arguments"
    assert not re.search(r"`[^`]*\$\{", ucode), "no template strings building commands"
    assert "/etc/route53-ddns" not in code, "the key directory is never touched"
    assert "readfile" not in ucode and "open(" not in ucode.replace("popen(", "")


def test_plugin_exposes_exactly_the_acl_methods(ucode: str, acl: dict) -> None:
    assert f"return {{ '{UBUS_OBJECT}': methods }};" in ucode
    methods = re.findall(r"^\t(\w+): \{$", ucode, re.M)
    group = acl[ACL_GROUP]
    granted = group["read"]["ubus"][UBUS_OBJECT] + group["write"]["ubus"][UBUS_OBJECT]
    assert sorted(methods) == sorted(granted)


def test_plugin_returns_only_a_well_formed_public_key(ucode: str) -> None:
    """pubkey passes on nothing but a 43-character base64url key id."""
    assert "match(key, /^[A-Za-z0-9_-]{43}$/)" in ucode
    assert "return { key_id: key };" in ucode


def test_menu_points_at_the_views_and_acl() -> None:
    menu = json.loads(support.MENU.read_text())
    root = menu["admin/services/route53-ddns"]
    assert root["title"] == "Route53 DDNS"
    assert root["depends"]["acl"] == [ACL_GROUP]
    assert root["depends"]["uci"] == {"route53-ddns": True}
    views = [n["action"]["path"] for n in menu.values() if n["action"]["type"] == "view"]
    assert sorted(views) == ["route53-ddns/settings", "route53-ddns/status"]
    for v in views:
        assert (support.APP / "htdocs" / "luci-static" / "resources" / "view" / f"{v}.js").is_file()


def test_makefile_uses_luci_mk() -> None:
    mk = (support.APP / "Makefile").read_text()
    assert re.search(r"^LUCI_TITLE:=\S", mk, re.M)
    assert re.search(r"^LUCI_DEPENDS:=\+luci-base \+route53-ddns$", mk, re.M)
    assert re.search(r"^LUCI_PKGARCH:=all$", mk, re.M)
    assert re.search(r"^include \S*luci\.mk$", mk, re.M)
    assert "BuildPackage" in mk, "OpenWrt's package scan looks for this word"


def test_translation_template_is_complete_and_current() -> None:
    res = subprocess.run([sys.executable, str(support.LUCI_TESTS / "i18n_scan.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    pot = support.POT.read_text()
    for must in ("Update now", "Route53 DDNS", "Carrier-grade NAT (CGNAT) detected.", "Endpoint URL"):
        assert f'msgid "{must}"' in pot


def test_every_user_visible_string_is_translatable() -> None:
    """No bare English text nodes: user-facing strings in E() children go through _()."""
    for view in support.PAGE_FILES:
        src = view.read_text()
        bare = re.findall(r"E\('(?:p|div|span|strong|em|h2|h3|button|th|td)'[^\n]*?\[ '([A-Za-z][^']{3,})'", src)
        bare = [b for b in bare if not re.fullmatch(r"[A-Z]+: ", b)]  # record types (A, AAAA) stay as they are
        assert bare == [], f"{view.name}: untranslated {bare}"
