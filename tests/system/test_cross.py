"""The design's build route: `cross` in a local podman image makes the same router binary.

Runs scripts/cross-build.sh (podman, runc, debootstrap and cross installed and the image built when
missing; a cold first run takes minutes, so this test is behind R53_CROSS=1 and not in CI's default
run) for the targets in R53_CROSS_TARGETS (default "mipsel"; "all" for the five), then checks:

- the rustup toolchains are the same before and after (cross 0.2.5 once updated `stable` here);
- each cross binary is within 1 % of scripts/build-static.sh's for the same target;
- each cross binary passes tests/system/test_static.py (static, stripped, right CPU, --version,
  check, keygen, the real signed HTTPS update and the TLS refusal under qemu with the router CPU
  models), run on dist/cross with R53_DIST_DIR and R53_STATIC_PREBUILT=1.

  R53_CROSS=1 python3 -m pytest tests/system/test_cross.py -q
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_static import TARGETS  # noqa: E402  (short name -> rust target, qemu, cpu, machine)

pytestmark = pytest.mark.skipif(os.environ.get("R53_CROSS") != "1",
                                reason="the cross route takes minutes cold: set R53_CROSS=1")

CROSS_DIST = REPO / "dist" / "cross"
# The zig route's output and build directory for the comparison (defaults: dist/bin and build/).
STATIC_DIST = Path(os.environ.get("R53_STATIC_DIST_DIR") or REPO / "dist" / "bin")
STATIC_BUILD = os.environ.get("R53_STATIC_BUILD_DIR")
IMAGE = "localhost/route53-ddns-cross:zig"


def selected():
    raw = os.environ.get("R53_CROSS_TARGETS", "mipsel").split()
    names = list(TARGETS) if raw == ["all"] else raw
    unknown = [n for n in names if n not in TARGETS]
    assert not unknown, f"R53_CROSS_TARGETS: unknown {unknown}, known {list(TARGETS)}"
    return names


def toolchains():
    """Every rustup toolchain with the rustc version it holds now."""
    out = subprocess.run(["rustup", "toolchain", "list"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    return {n: subprocess.run(["rustup", "run", n, "rustc", "--version"], capture_output=True,
                              text=True, timeout=60).stdout.strip() for n in names}


@pytest.fixture(scope="module")
def cross_built():
    names = selected()
    before = toolchains()
    env = {k: v for k, v in os.environ.items() if k not in ("R53_DIST_DIR", "R53_EXTRA_RUSTFLAGS")}
    out = subprocess.run([str(REPO / "scripts" / "cross-build.sh"), *names], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=5400)
    assert out.returncode == 0, out.stderr[-5000:]
    return names, before, toolchains()


def test_cross_leaves_the_rustup_toolchains_as_they_were(cross_built):
    _, before, after = cross_built
    assert after == before


def test_cross_toml_names_the_local_image_for_every_router_target(cross_built):
    text = (REPO / "Cross.toml").read_text()
    for rust_target, *_ in TARGETS.values():
        section = re.search(rf"\[target\.{re.escape(rust_target)}\]\n([^\[]*)", text)
        assert section and f'image = "{IMAGE}"' in section.group(1), rust_target
    exists = subprocess.run(["podman", "image", "exists", IMAGE], timeout=120,
                            env={**os.environ, "CONTAINERS_CONF": str(REPO / "build" / "cross" /
                                                                      "containers.conf")})
    assert exists.returncode == 0, f"{IMAGE} was not built"


@pytest.mark.parametrize("name", selected())
def test_cross_binary_is_within_1_percent_of_the_zig_routes(cross_built, name):
    rust_target = TARGETS[name][0]
    env = {**os.environ, "R53_DIST_DIR": str(STATIC_DIST)}
    if STATIC_BUILD:
        env["R53_BUILD_DIR"] = STATIC_BUILD
    built = subprocess.run([str(REPO / "scripts" / "build-static.sh"), name], cwd=REPO,
                           capture_output=True, text=True, timeout=3600, env=env)
    assert built.returncode == 0, built.stderr[-5000:]
    ours = (CROSS_DIST / rust_target / "route53-ddns").stat().st_size
    theirs = (STATIC_DIST / rust_target / "route53-ddns").stat().st_size
    assert abs(ours - theirs) * 100 <= theirs, (
        f"{rust_target}: cross {ours} B, build-static {theirs} B: more than 1 % apart "
        "(scripts/cross-build.sh's flags or pins drifted from scripts/build-static.sh's?)")


def test_cross_binaries_pass_the_static_proof_under_qemu(cross_built):
    names = cross_built[0]
    env = {**os.environ, "R53_DIST_DIR": str(CROSS_DIST), "R53_STATIC_PREBUILT": "1",
           "R53_STATIC_TARGETS": " ".join(names)}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(REPO / "tests" / "system" / "test_static.py")],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
    assert out.returncode == 0, out.stdout[-5000:] + out.stderr[-2000:]
    summary = out.stdout.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed\b", summary) and "failed" not in summary, summary
