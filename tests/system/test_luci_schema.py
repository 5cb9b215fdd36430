"""The LuCI settings page and the router binary agree on the configuration.

The page's options are read by loading settings.js with the stand-in LuCI runtime
(tests/luci/lib/extract.js records every s.option()/s.taboption() call); the binary's
side is `route53-ddns schema` and, for behaviour, `route53-ddns --config F check`
on configs that differ from a valid one in a single value.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "luci"))
import support  # noqa: E402

# Options the binary reads that the page deliberately does not offer, with the reason.
NOT_ON_PAGE = {
    ("global", "key_file"): "the private key's location is not editable from the web page",
}

# Widgets that fit each schema kind.
WIDGET_FOR_KIND = {
    "bool": {"Flag"},
    "enum": {"ListValue"},
    "interface": {"NetworkSelect"},
    "https_url": {"Value"},
    "hostname": {"Value"},
    "ipv6_suffix": {"Value"},
    "uint": {"Value"},
    "path": {"Value"},
    "string": {"Value"},
}

# Values tried on both sides, per kind ('' means: the option is left out).
SAMPLES_BY_KIND = {
    "https_url": [
        "https://abcdefghij.lambda-url.eu-west-1.on.aws/", "https://ddns.example.com",
        "https://ddns.example.com:8443/", "https://[2001:db8::1]:443/", "https://[2001:db8::1]",
        "https://dd_ns.example.com/", "https://ddns.example.com:+443/",
        "http://ddns.example.com/", "HTTPS://ddns.example.com/", "ddns.example.com",
        "https://ddns.example.com/v1/update", "https://ddns.example.com//", "https://user:pw@ddns.example.com/",
        "https://ddns.example.com?x=1", "https://ddns.example.com/#top", "https://", "https:///",
        "https://ddns.example.com:0/", "https://ddns.example.com:65536/", "https://ddns.example.com:/",
        "https://ddns example.com/", "https://[2001:db8::1/", "https://[2001:db8::1]x/", "https://ex!ample.com/",
        "",
    ],
    "hostname": [
        "home.example.com", "Home.Example.COM.", "xn--bcher-kva.example", "bücher.example", "1.2.3.4",
        "a-b.example.com", "router", "*.example.com", "*.Home.Example.com.", "a.*.example.com",
        "*x.example.com", "*", "*.", "*.com", "*.*.example.com", "*..example.com", "a..example.com", "_dmarc.example.com",
        "-a.example.com", "a-.example.com", "a b.example.com", "a" * 64 + ".com", "a" * 63 + ".com",
        "abcdefgh." * 30 + "com", ".", "home.example.com..", "",
    ],
    "ipv6_suffix": [
        "::1234", "::211:32ff:fe12:3456", "::a:b:c:d", "0:0:0:0:1:2:3:4", "::1.2.3.4", "::ffff:1.2.3.4",
        "2001:db8::1", "::", "fe80::1", "1234", "::g", ":::1", "::1:2:3:4:5", "::01.2.3.4",
        "1::2::3", "::12345",
        "02:11:22:33:44:55", "02-11-22-33-44-55", "0211.2233.4455", "AA:BB:CC:DD:EE:FF", "aA-bB-cC-dD-eE-fF",
        "01:00:5e:00:00:fb", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "02:11-22:33:44:55", "2:11:22:33:44:55",
        "02:11:22:33:44", "02:11:22:33:44:55:66", "0211.2233.445", "021122334455", "02:11:22:33:44:5g",
        "",
    ],
    "uint": ["1", "10", "+10", "010", "0", "-1", "1.5", "abc", " 10", "99999999999999999999", ""],
    "enum": ["error", "warn", "info", "debug", "trace", "INFO", ""],
    "path": ["/etc/ssl/certs/ca-certificates.crt", "etc/ssl/certs/ca-certificates.crt", "./ca.pem", "",
             "/etc/route53-ddns/ca.pem", "/etc/route53-ddns/sub/ca.pem", "/etc/route53-ddns/", "/etc/route53-ddns",
             "/etc/route53-ddns/../../tmp/upload.bin", "/etc/route53-ddns/./ca.pem", "/etc/route53-ddns//ca.pem",
             "/tmp/upload.bin", "/etc/config/route53-ddns", "/etc/route53-ddnsx/ca.pem"],
}

BASE_GLOBAL = {
    "enabled": "1",
    "endpoint": "https://abcdefghij.lambda-url.eu-west-1.on.aws/",
    "ipv4_interface": "wan",
    "ipv6_interface": "wan6",
    "lan_interface": "lan",
    "log_level": "info",
}
BASE_HOST = {"name": "home.example.com", "ipv4": "1", "ipv6": "1"}


@pytest.fixture(scope="module")
def binary() -> Path:
    support.setup_tools()
    return support.build_router_binary()


@pytest.fixture(scope="module")
def schema(binary: Path) -> dict:
    out = subprocess.run([str(binary), "schema"], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def page() -> dict:
    support.setup_tools()
    return support.extract_page()


def schema_sections(schema: dict) -> dict[str, dict]:
    return {s["type"]: s for s in schema["sections"]}


def page_sections(page: dict) -> dict[str, dict]:
    return {s["type"]: s for s in page["sections"]}


def test_page_maps_the_binarys_config_file(page: dict) -> None:
    assert page["config"] == "route53-ddns"


def test_sections_agree(page: dict, schema: dict) -> None:
    ss, ps = schema_sections(schema), page_sections(page)
    assert set(ps) == set(ss), "the page edits exactly the section types the binary reads"
    for kind, s in ss.items():
        p = ps[kind]
        if s.get("anonymous"):
            assert p["anonymous"] and p["name"] is None, f"{kind} sections are anonymous in the binary"
            assert p["addremove"], f"the page can add and remove {kind} sections"
            assert p["widget"] in {"TableSection", "GridSection", "TypedSection"}
        else:
            assert p["widget"] == "NamedSection" and p["name"] == s["name"]
            assert not p["addremove"], "the global section cannot be deleted from the page"


def test_every_page_option_is_read_by_the_binary(page: dict, schema: dict) -> None:
    ss = schema_sections(schema)
    unknown = [
        (t, o["name"]) for t, p in page_sections(page).items() for o in p["options"]
        if o["name"] not in {x["name"] for x in ss[t]["options"]}
    ]
    assert unknown == [], "the page writes options the binary ignores"


def test_no_option_the_binary_needs_is_missing(page: dict, schema: dict) -> None:
    ps = page_sections(page)
    for t, s in schema_sections(schema).items():
        on_page = {o["name"] for o in ps[t]["options"]}
        for o in s["options"]:
            if o["name"] in on_page:
                continue
            assert (t, o["name"]) in NOT_ON_PAGE, f"{t}.{o['name']} is missing from the page"
            assert not o.get("required") and "default" in o, f"{t}.{o['name']} is left out but has no default"


def test_kinds_defaults_and_required_agree(page: dict, schema: dict) -> None:
    ps = page_sections(page)
    for t, s in schema_sections(schema).items():
        popts = {o["name"]: o for o in ps[t]["options"]}
        for so in s["options"]:
            po = popts.get(so["name"])
            if po is None:
                continue
            where = f"{t}.{so['name']}"
            assert po["widget"] in WIDGET_FOR_KIND[so["kind"]], f"{where}: {po['widget']} for kind {so['kind']}"
            assert po["has_description"], f"{where} has no help text"
            if so["kind"] == "enum":
                assert po["values"] == so["values"], f"{where}: choices differ"
            if so.get("default") not in (None, ""):
                # either the page preselects the binary's default, or it leaves the option out
                # (the binary then uses its default) and shows that default as the placeholder
                if po["default"] is not None:
                    assert po["default"] == so["default"], f"{where}: default {po['default']} != {so['default']}"
                else:
                    assert po["placeholder"] == so["default"], f"{where}: placeholder is not the default"
            if so["kind"] == "bool":
                assert po["rmempty"] is False, f"{where}: a flag must always be written (0 or 1)"
            if so.get("required"):
                assert po["rmempty"] is False and not po["optional"], f"{where} is required"
            if so["kind"] in SAMPLES_BY_KIND and so["kind"] != "enum":
                assert po["has_validate"], f"{where}: no validation for kind {so['kind']}"


def inside(directory: str, value: str) -> bool:
    """The binary's rule for an option the schema marks `inside` (values::check_confined, which
    tests/owner_commands.rs tests): in the system config, a file within that directory, no
    empty, `.` or `..` segment. A `--config` elsewhere is not confined, so `check` on a temp
    config cannot show it; the page must follow it all the same."""
    rest = value[len(directory):] if value.startswith(directory) else None
    return rest is not None and rest != "" and all(seg not in ("", ".", "..") for seg in rest.split("/"))


def check_accepts(binary: Path, tmp: Path, section: str, option: str, value: str) -> tuple[bool, str]:
    """Does `route53-ddns check` accept the base config with this one value changed?"""
    g, h = dict(BASE_GLOBAL), dict(BASE_HOST)
    g["key_file"] = str(tmp / "key")
    target = g if section == "global" else h
    if value == "":
        target.pop(option, None)
    else:
        target[option] = value
    cfg = tmp / "route53-ddns"
    cfg.write_text(support.render_uci([("global", "global", g), ("host", None, h)]))
    env = dict(os.environ, ROUTE53_DDNS_STATE_DIR=str(tmp / "state"))
    res = subprocess.run([str(binary), "--config", str(cfg), "check"], capture_output=True, text=True,
                         timeout=60, env=env)
    return res.returncode != 4, (res.stdout + res.stderr).strip()


@pytest.fixture(scope="module")
def keyed(binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temp dir whose key file exists, so that `check` exits 4 only for config problems."""
    tmp = tmp_path_factory.mktemp("luci-check")
    (tmp / "state").mkdir()
    cfg = tmp / "route53-ddns"
    g = dict(BASE_GLOBAL, key_file=str(tmp / "key"))
    cfg.write_text(support.render_uci([("global", "global", g), ("host", None, BASE_HOST)]))
    env = dict(os.environ, ROUTE53_DDNS_STATE_DIR=str(tmp / "state"))
    subprocess.run([str(binary), "--config", str(cfg), "keygen"], check=True, capture_output=True, timeout=30, env=env)
    ok, out = check_accepts(binary, tmp, "global", "enabled", "1")
    assert ok, f"the base config must pass `check`: {out}"
    return tmp


def test_page_validation_matches_the_binary(page: dict, schema: dict, binary: Path, keyed: Path) -> None:
    """Every sample value is accepted by the page exactly when the binary accepts it."""
    samples: dict[str, list[str]] = {}
    ps = page_sections(page)
    for t, s in schema_sections(schema).items():
        on_page = {o["name"] for o in ps[t]["options"]}
        for o in s["options"]:
            if o["name"] in on_page and o["kind"] in SAMPLES_BY_KIND:
                samples[f"{t}.{o['name']}"] = SAMPLES_BY_KIND[o["kind"]]
    assert {"global.endpoint", "host.name", "host.ipv6_suffix", "global.check_interval"} <= set(samples)

    verdicts = support.extract_page(samples, keyed)["verdicts"]
    confined = {f"{t}.{o['name']}": o["inside"] for t, s in schema_sections(schema).items()
                for o in s["options"] if "inside" in o}
    assert confined == {"global.key_file": "/etc/route53-ddns/", "global.ca_file": "/etc/route53-ddns/"}
    disagreements = []
    for key, results in verdicts.items():
        section, option = key.split(".", 1)
        for value, verdict in results:
            page_ok = verdict is True
            if key in confined and value != "":
                bin_ok, out = inside(confined[key], value), f"must lie inside {confined[key]}"
            else:
                bin_ok, out = check_accepts(binary, keyed, section, option, value)
            if page_ok != bin_ok:
                disagreements.append(f"{key}={value!r}: page {'accepts' if page_ok else 'refuses (' + verdict + ')'}, "
                                     f"binary {'accepts' if bin_ok else 'refuses'}: {out[:200]}")
    assert disagreements == []


def test_uint_limits_match(page: dict, schema: dict, tmp_path: Path) -> None:
    """For every uint option the page accepts exactly [min, max]."""
    samples = {}
    limits = {}
    for t, s in schema_sections(schema).items():
        for o in s["options"]:
            if o["kind"] == "uint" and (t, o["name"]) not in NOT_ON_PAGE:
                key = f"{t}.{o['name']}"
                limits[key] = (o["min"], o["max"])
                samples[key] = [str(o["min"] - 1), str(o["min"]), str(o["max"]), str(o["max"] + 1)]
    assert limits, "the schema has uint options"
    verdicts = support.extract_page(samples, tmp_path)["verdicts"]
    for key, (lo, hi) in limits.items():
        got = {v: r is True for v, r in verdicts[key]}
        assert got == {str(lo - 1): False, str(lo): True, str(hi): True, str(hi + 1): False}, key
