"""Session fixtures shared by every system test (see stack.py for the pieces).

- `stack`: moto (Route53 + SSM) with the zone example.com, the Lambda under
  `cargo lambda watch`, an HTTPS front with a test CA. Built and started once per session.
- `signer`: a fresh Ed25519 router key (Python), not yet registered.
- `name`: a fresh host name in the zone, so tests never share records.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import Signer, Stack  # noqa: E402


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("stack"))
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def signer():
    return Signer()


@pytest.fixture
def name(stack):
    return stack.new_name()


@pytest.fixture
def registered(stack, signer, name):
    """A signer registered for `name` (and nothing else)."""
    stack.register_key(signer.key_id, [name])
    return signer


def pytest_report_header(config):
    return f"route53-ddns system tests (CI={os.environ.get('CI', '')})"
