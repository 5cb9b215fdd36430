"""The static router binaries, built by scripts/build-static.sh, run under qemu-user.

Each binary proves itself on its architecture: `--version`, `check` on a sample UCI config
(and a broken one), `keygen`, and a real signed HTTPS update against the local Lambda + moto
(the `stack` fixture) that must change the Route53 records. netifd is a stand-in `ubus` that
prints real-shaped `ubus call network.interface.<if> status` JSON with documentation-range
addresses.

Targets: mipsel and armv7 by default (CI); R53_STATIC_TARGETS="all" (or a space-separated list of
short names) for the release route. The session fixture runs scripts/build-static.sh for those
targets (a no-op when the build is fresh); R53_STATIC_PREBUILT=1 tests dist/bin as it is, and
R53_DIST_DIR another build's output (e.g. one made with Debian's rustc-web).
"""

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from router_files import RouterFiles, iface

REPO = Path(__file__).resolve().parents[2]
# The build script's output directory (it honours R53_DIST_DIR too), so another build can be proven.
DIST = Path(os.environ.get("R53_DIST_DIR") or REPO / "dist" / "bin")
BASELINE = REPO / "bench" / "size-baseline"

TARGETS = {
    # short name: (rust target, qemu-user binary or None for native, the CPU qemu emulates (a real
    # router core: the 24Kc has no FPU, so a hard-float instruction would fault), ELF machine as
    # `file` names it)
    "mipsel": ("mipsel-unknown-linux-musl", "qemu-mipsel-static", "24Kc", "MIPS, MIPS32 rel2"),
    "mips": ("mips-unknown-linux-musl", "qemu-mips-static", "24Kc", "MIPS, MIPS32 rel2"),
    "armv7": ("armv7-unknown-linux-musleabihf", "qemu-arm-static", "cortex-a9", "ARM, EABI5"),
    "aarch64": ("aarch64-unknown-linux-musl", "qemu-aarch64-static", "cortex-a53", "ARM aarch64"),
    "x86_64": ("x86_64-unknown-linux-musl", None, None, "x86-64"),
}


def selected():
    raw = os.environ.get("R53_STATIC_TARGETS", "mipsel armv7").split()
    if raw == ["all"]:
        return list(TARGETS)
    unknown = [t for t in raw if t not in TARGETS]
    assert not unknown, f"R53_STATIC_TARGETS: unknown {unknown}, known {list(TARGETS)}"
    return raw


def version():
    return tomllib.loads((REPO / "Cargo.toml").read_text())["workspace"]["package"]["version"]


@pytest.fixture(scope="session")
def built():
    """{short name: path of dist/bin/<target>/route53-ddns}, built now unless R53_STATIC_PREBUILT=1."""
    names = selected()
    if os.environ.get("R53_STATIC_PREBUILT") != "1":
        out = subprocess.run([str(REPO / "scripts" / "build-static.sh"), *names], cwd=REPO,
                             capture_output=True, text=True, timeout=3600)
        assert out.returncode == 0, out.stderr[-5000:]
    bins = {n: DIST / TARGETS[n][0] / "route53-ddns" for n in names}
    for n, p in bins.items():
        assert p.is_file(), f"{p} was not built"
    return bins


@pytest.fixture(params=selected())
def target(request, built):
    name = request.param
    _, qemu, cpu, machine = TARGETS[name]
    if qemu:
        assert shutil.which(qemu), f"{qemu} missing: apt-get install qemu-user-static (scripts/setup.sh)"
        qemu = [qemu, "-cpu", cpu]
    return name, built[name], qemu, machine


def run(target, *args, env=None, timeout=300):
    _, binary, qemu, _ = target
    argv = (qemu or []) + [str(binary), *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


class Router(RouterFiles):
    """A router's files for one static binary, run under qemu (slower: longer timeouts)."""

    def __init__(self, target, tmp: Path, endpoint: str, ca_file, hosts: str):
        _, binary, qemu, _ = target
        super().__init__((qemu or []) + [str(binary)], tmp, endpoint, ca_file, hosts,
                         timeouts=(10, 60), env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})

    def run(self, *args, env=None):
        return super().run(*args, env=env, timeout=300)


def test_binary_is_static_stripped_and_for_its_cpu(target):
    name, binary, _, machine = target
    desc = subprocess.run(["file", "-b", str(binary)], capture_output=True, text=True, check=True).stdout
    assert machine in desc, desc
    assert "statically linked" in desc or "static-pie linked" in desc, desc
    assert "stripped" in desc and "not stripped" not in desc, desc
    headers = subprocess.run(["readelf", "-lW", str(binary)], capture_output=True, text=True).stdout
    assert "INTERP" not in headers, "a static binary asks for no dynamic loader"
    if name.startswith("mips"):
        # OpenWrt's mips_24kc/mipsel_24kc have no FPU: soft-float, and no static-pie (segfaulted).
        attrs = subprocess.run(["readelf", "-A", str(binary)], capture_output=True, text=True).stdout
        assert "Soft float" in attrs, attrs
        assert "EXEC" in subprocess.run(["readelf", "-h", str(binary)], capture_output=True,
                                        text=True).stdout


def test_version_runs_under_qemu(target):
    out = run(target, "--version")
    assert out.returncode == 0, out.stderr
    assert re.search(rf"\broute53-ddns {re.escape(version())}\b", out.stdout), out.stdout


def test_check_reads_a_sample_config_and_rejects_a_broken_one(target, tmp_path):
    r = Router(target, tmp_path, "https://ddns.example.com", None,
               "\nconfig host\n\toption name 'home.example.com'\n"
               "\nconfig host\n\toption name 'nas.example.com'\n\toption ipv4 '0'\n"
               "\toption ipv6_suffix '::1234'\n")
    # No key yet: check says so and fails with the config/key exit code.
    out = r.run("check")
    assert out.returncode == 4, out.stdout + out.stderr
    keygen = r.run("keygen")
    assert keygen.returncode == 0, keygen.stderr
    key_id = keygen.stdout.split()[0]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", key_id), keygen.stdout
    pub = r.run("pubkey")
    assert pub.returncode == 0 and pub.stdout.split()[0] == key_id
    # ca_file unset: the system bundle is used; point it at a real PEM so the check is about us.
    bundle = tmp_path / "ca.pem"
    bundle.write_text(_some_ca_pem())
    r.config.write_text(r.config.read_text().replace(
        "config host", f"\toption ca_file '{bundle}'\n\nconfig host", 1))
    out = r.run("check")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"key: {key_id}" in out.stdout
    assert "host home.example.com: ipv4 on, ipv6 on" in out.stdout
    assert "host nas.example.com: ipv4 off, ipv6 on (LAN host, suffix ::1234)" in out.stdout
    assert "config ok: 2 host(s), endpoint https://ddns.example.com" in out.stdout

    r.config.write_text(r.config.read_text().replace("https://ddns.example.com", "ftp://x"))
    bad = r.run("check")
    assert bad.returncode == 4, bad.stdout + bad.stderr
    assert "endpoint" in bad.stdout + bad.stderr


def _some_ca_pem():
    from stack import make_ca  # the system-test CA maker (tests/system/stack.py)
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        ca, _, _ = make_ca(Path(d))
        return ca.read_text()


def test_signed_https_update_changes_the_records(target, stack, tmp_path):
    name = stack.new_name(f"static-{target[0].replace('_', '-')}")
    r = Router(target, tmp_path, stack.https_url, stack.ca_file,
               f"\nconfig host\n\toption name '{name}'\n")
    # A documentation-range WAN address: not behind NAT, so the router publishes it as it is.
    r.set_iface("wan", iface(v4="192.0.2.77"))
    r.set_iface("wan6", iface(v6="2001:db8:77::1"))
    keygen = r.run("keygen")
    assert keygen.returncode == 0, keygen.stderr
    key_id = keygen.stdout.split()[0]
    stack.register_key(key_id, [name])
    assert stack.records(name)["A"] == []

    out = r.run("update", "--interface", "wan", env={"ACTION": "ifup", "INTERFACE": "wan"})
    assert out.returncode == 0, out.stdout + out.stderr + "\n".join(r.log_lines())
    rec = stack.records(name)
    assert rec["A"] == ["192.0.2.77"]
    assert rec["AAAA"] == ["2001:db8:77::1"]

    st = r.run("status", "--json")
    assert st.returncode == 0, st.stderr
    h = json.loads(st.stdout)["hosts"][0]
    assert (h["name"], h["ipv4"], h["ipv6"], h["result"]) == (name, "192.0.2.77", "2001:db8:77::1",
                                                              "updated")
    assert h["request_id"]
    assert any(h["request_id"] in line for line in r.log_lines())

    # Nothing changed: no request at all (exit 3); a new lease: one more update.
    assert r.run("update", "--interface", "wan").returncode == 3
    r.set_iface("wan", iface(v4="192.0.2.78"))
    again = r.run("update", "--interface", "wan")
    assert again.returncode == 0, again.stderr
    assert stack.records(name)["A"] == ["192.0.2.78"]
    r.log.close()


def test_an_untrusted_certificate_is_refused_with_its_reason(target, stack, tmp_path):
    """The reason reaches the user although the size build prints no Debug (-Zfmt-debug=none)."""
    name = stack.new_name(f"static-tls-{target[0].replace('_', '-')}")
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text(_some_ca_pem())
    r = Router(target, tmp_path, stack.https_url, other_ca, f"\nconfig host\n\toption name '{name}'\n")
    r.set_iface("wan", iface(v4="192.0.2.79"))
    keygen = r.run("keygen")
    assert keygen.returncode == 0, keygen.stderr
    stack.register_key(keygen.stdout.split()[0], [name])
    # --no-wait: record the scheduled retry and exit (else the run waits for it, see
    # docs/config.md "Retries").
    out = r.run("update", "--interface", "wan", "--no-wait")
    assert out.returncode == 6, out.stdout + out.stderr
    h = json.loads(r.run("status", "--json").stdout)["hosts"][0]
    assert h["result"] == "error" and h["error"]["permanent"] is False, h
    # The other CA has the same name as the real one: rustls says BadSignature (UnknownIssuer for
    # a differently named CA). src/tls.rs words it, as rustls' own text is Debug-made.
    assert re.search(r"invalid peer certificate: (BadSignature|UnknownIssuer): \w",
                     h["error"]["message"]), h["error"]
    assert stack.records(name)["A"] == []
    r.log.close()


def test_mipsel_size_stays_within_5_percent_of_the_baseline(built):
    """bench/size-baseline records the mipsel size; growing > 5 % over it fails here.

    After a deliberate growth (or a saving), record the new size: bench/size-check.sh --record.
    """
    if "mipsel" not in built:
        pytest.skip("mipsel not among R53_STATIC_TARGETS")
    recorded = None
    for line in BASELINE.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == TARGETS["mipsel"][0]:
            recorded = int(parts[1])
    assert recorded, f"no {TARGETS['mipsel'][0]} line in {BASELINE}"
    size = built["mipsel"].stat().st_size
    limit = recorded * 105 // 100
    assert size <= limit, (
        f"mipsel binary is {size} B, more than 5 % over the recorded {recorded} B (limit {limit}); "
        "find what grew with bench/size-bloat.sh (per crate and function), or record a deliberate growth "
        "with bench/size-check.sh --record"
    )


# Issue 12's budget is not met with the design's crates (ureq, syslog) and TLS 1.2 + 1.3: the
# smallest build reached is recorded in bench/size_levers.md with where the bytes go. Strict: the
# day the binary fits, this XPASSes and fails, so the marker must come off.
@pytest.mark.xfail(strict=True, reason="900,000 B budget not met with ureq + syslog (bench/size_levers.md)")
def test_mipsel_fits_the_900_kb_flash_budget(built):
    """The size budget: mipsel <= 900,000 bytes stripped, with ureq, syslog and TLS 1.2 + 1.3."""
    if "mipsel" not in built:
        pytest.skip("mipsel not among R53_STATIC_TARGETS")
    size = built["mipsel"].stat().st_size
    assert size <= 900_000, (
        f"mipsel binary is {size} B, over the 900,000 B budget; bench/size-bloat.sh shows what grew"
    )
