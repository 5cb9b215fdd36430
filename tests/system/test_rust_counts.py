"""scripts/count-rust-tests.awk, which gives scripts/test.sh its Rust counts: every binary's
"test result:" line adds up exactly (unit, integration and doc-tests), and a binary that
started but never printed a result (it crashed, e.g. an abort) is a failure, wherever it is
in the run, so a crash can neither hide the binaries after it nor pass unnoticed.

The logs are shaped like `cargo test --no-fail-fast 2>&1` output (cargo 1.9x).
"""

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AWK = REPO / "scripts" / "count-rust-tests.awk"


def count(log: str):
    out = subprocess.run(
        ["awk", "-f", str(AWK)], input=log, capture_output=True, text=True, timeout=10, check=True
    )
    passed, failed, ignored = (int(n) for n in out.stdout.split())
    return (passed, failed, ignored), out.stderr


def result(p, f, i, status=None):
    status = status or ("ok" if f == 0 else "FAILED")
    return (
        f"test result: {status}. {p} passed; {f} failed; {i} ignored; 0 measured; "
        "0 filtered out; finished in 0.01s\n"
    )


def binary(name, body):
    return f"     Running {name} (target/debug/deps/x-0123456789abcdef)\n\nrunning 3 tests\n{body}\n"


def crash(name):
    return (
        f"     Running {name} (target/debug/deps/y-0123456789abcdef)\n\nrunning 1 test\n"
        "error: test failed, to rerun pass `-p route53-ddns --test crash`\n\nCaused by:\n"
        "  process didn't exit successfully: `target/debug/deps/y` (signal: 6, SIGABRT: process abort signal)\n"
    )


DOC = "   Doc-tests route53_ddns_protocol\n\nrunning 2 tests\n" + result(2, 0, 0)


def test_every_result_line_adds_up_doc_tests_included():
    log = (
        binary("tests/a.rs", "test x ... ok\n" + result(5, 0, 1))
        + binary("tests/b.rs", "test y ... FAILED\n\nfailures:\n" + result(3, 2, 0))
        + DOC
        + "error: 1 target failed:\n    `-p route53-ddns --test b`\n"
    )
    assert count(log) == ((10, 2, 1), "")


def test_a_binary_that_crashes_in_the_middle_is_a_failure_and_hides_nothing():
    log = (
        binary("tests/a.rs", result(4, 0, 0))
        + crash("tests/crash.rs")
        + binary("tests/c.rs", result(6, 0, 0))
        + DOC
    )
    counts, err = count(log)
    assert counts == (12, 1, 0)
    assert "tests/crash.rs" in err


def test_a_crash_as_the_last_binary_is_a_failure_too():
    counts, err = count(binary("tests/a.rs", result(4, 0, 0)) + crash("tests/last.rs"))
    assert counts == (4, 1, 0)
    assert "tests/last.rs" in err


def test_a_test_printing_a_look_alike_line_does_not_open_a_binary():
    # Captured output of a failing test is indented by nothing, but "Running" from cargo is
    # indented; a test's own "Running" at column 0 must not count as a binary.
    log = binary("tests/a.rs", "---- x stdout ----\nRunning the thing\n" + result(1, 1, 0))
    assert count(log) == ((1, 1, 0), "")
