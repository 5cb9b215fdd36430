"""The import graph of each crate (scripts/import_graph.py): no module of src/, lambda/src or
protocol/src depends on itself through others, so the data flows one way. The checker is
tested on small made-up crates first, so a green run means it can see a circle."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "import_graph.py"
CRATES = ["src", "lambda/src", "protocol/src"]


def run(*dirs):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, dirs)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def crate(root: Path, files: dict) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize("src", CRATES)
def test_no_import_circle(src):
    out = run(REPO / src)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "CYCLE" not in out.stdout


def test_a_circle_through_three_modules_fails(tmp_path):
    src = crate(
        tmp_path,
        {
            "lib.rs": "pub mod a;\npub mod b;\npub mod c;\n",
            "a.rs": "use crate::b::B;\n",
            "b.rs": "pub struct B(crate::c::C);\n",
            "c.rs": "pub struct C;\nfn f() { crate::a::g() }\n",
        },
    )
    out = run(src)
    assert out.returncode == 1, out.stdout
    assert "CYCLE [a, b, c]" in out.stdout


def test_grouped_and_submodule_imports_count(tmp_path):
    src = crate(
        tmp_path,
        {
            "lib.rs": "pub mod a;\npub mod b;\n",
            "a.rs": "use crate::{b::{x, y}, a};\n",
            "b.rs": "mod inner;\n",
            "b/inner.rs": "use crate::a::Thing;\n",
        },
    )
    out = run(src)
    assert out.returncode == 1, out.stdout
    assert "CYCLE [a, b]" in out.stdout


def test_tests_and_comments_do_not_count(tmp_path):
    src = crate(
        tmp_path,
        {
            "lib.rs": "pub mod a;\npub mod b;\n",
            "a.rs": "pub fn f() { crate::b::g() }\n",
            "b.rs": (
                "//! Used by [`crate::a`].\n"
                "pub fn g() {} // not crate::a::f\n"
                "/* crate::a */\n"
                "#[cfg(test)]\nmod tests {\n    use crate::a::f;\n    fn t() { f() }\n}\n"
                "#[cfg(test)]\nuse crate::a::f as _f;\n"
            ),
        },
    )
    out = run(src)
    assert out.returncode == 0, out.stdout
    assert "a -> b" in out.stdout and "b -> -" in out.stdout


def test_test_modules_in_their_own_files_do_not_count(tmp_path):
    """`#[cfg(test)] mod tests;` (b/tests.rs) and `#[cfg(test)] #[path = ...] mod x;`
    (b_tests.rs) are test code like an inline test module; b/inner.rs is not."""
    files = {
        "lib.rs": "pub mod a;\npub mod b;\n",
        "a.rs": "pub fn f() { crate::b::g() }\n",
        "b.rs": (
            "pub fn g() {}\n"
            "#[cfg(test)]\nmod tests;\n"
            '#[cfg(test)]\n#[path = "b_tests.rs"]\nmod more;\n'
        ),
        "b/tests.rs": "use crate::a::f;\n",
        "b_tests.rs": "use crate::a::f;\n",
    }
    out = run(crate(tmp_path / "tests_apart", files))
    assert out.returncode == 0, out.stdout
    assert "b -> -" in out.stdout and "b_tests" not in out.stdout
    files["b.rs"] += "mod inner;\n"
    files["b/inner.rs"] = "use crate::a::f;\n"
    out = run(crate(tmp_path / "inner_counts", files))
    assert out.returncode == 1, out.stdout
    assert "CYCLE [a, b]" in out.stdout
