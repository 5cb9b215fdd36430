"""Key rotation without a gap (issue 14 item 4), end to end: the real router binary against
the real Lambda (`cargo lambda watch`) with moto as SSM and the strict Route53 stand-in.
The registry commands are the ones the router prints, run with the AWS CLI against moto.

current key registered -> keygen --next -> update (next refused, same pass falls back:
succeeds on the current key) -> register the next key -> update (accepted with the next key,
promoted) -> the old key removed from the registry -> update succeeds. No update fails.
"""

import os
import subprocess

import pytest
from stack import read_stamp, stamp_id
from test_router import Router, calls, lan_status, router, router_bin, wan6_status, wan_status  # noqa: F401

PREFIX = "/route53-ddns"


def aws(stack, command: str):
    """Runs a command the router printed, as the owner would paste it into a shell."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL_SSM=stack.moto_url)
    env.pop("AWS_ENDPOINT_URL", None)
    r = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def stamp(stack, name):
    """(time ms, sender id) of the name's ordering stamp; compare the id with `by(key id)`."""
    read = read_stamp(stack.stamp(name))
    assert read, stack.stamp(name)
    return read


def by(key_id: str) -> str:
    """The id a stamp written by `key_id` carries."""
    return stamp_id(f"k={key_id}")


def registered(stack, key_id):
    try:
        stack.ssm.get_parameter(Name=f"{PREFIX}/keys/{key_id}")
        return True
    except stack.ssm.exceptions.ParameterNotFound:
        return False


def command_line(text: str, *must: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("aws ")]
    (line,) = [line for line in lines if all(m in line for m in must)]
    return line


def test_rotation_without_a_failed_update(stack, router, name):
    old = router.key_id
    stack.register_key(old, [name])
    assert router.hotplug("wan").returncode == 0
    assert stamp(stack, name)[1] == by(old)

    # keygen --next: a next key beside the current one; the key file is untouched.
    key_before = router.key.read_bytes()
    out = router.run("keygen", "--next")
    assert out.returncode == 0, out.stderr
    new = out.stdout.splitlines()[0]
    assert new != old
    st = router.status()
    assert st["key"] == {"id": old, "next_pending": True, "next_key_id": new,
                         "old_key_id": None, "old_key_remove": None}
    text = router.run("status").stdout
    assert f"next key: {new} (pending" in text, text

    # The next update: signed with the next key first, refused (not registered), sent again
    # with the current key in the same run. Nothing changed, yet a pending key is tried.
    router.log_lines()
    stack.age_stamp(name)  # the last write long ago: an unchanged update is written again
    t0 = stamp(stack, name)[0]
    out = router.hotplug("wan")
    assert out.returncode == 0, out.stderr + str(router.log_lines())
    assert calls(stack, new) == 1
    assert calls(stack, old) == 2
    t1, who = stamp(stack, name)
    assert who == by(old) and t1 > t0
    assert router.key.read_bytes() == key_before, "still on the current key"
    assert router.status()["key"]["next_pending"] is True
    h = router.status()["hosts"][0]
    assert h["result"] == "unchanged" and h["error"] is None
    lines = router.log_lines()
    assert any(f"does not accept the next key {new} yet (bad_signature)" in x for x in lines), lines
    # ... and is not tried again on every event: at most hourly (or with --force).
    assert router.hotplug("wan").returncode == 3
    assert calls(stack, new) == 1

    # Register the next key by copying the current key's entry (the command pubkey --next prints).
    printed = router.run("pubkey", "--next").stdout
    aws(stack, command_line(printed, "get-parameter"))
    assert registered(stack, new)

    # The next update (a new lease): accepted with the next key, which is promoted.
    router.set_iface("wan", wan_status("192.0.2.20"))
    out = router.hotplug("wan", action="ifupdate")
    assert out.returncode == 0, out.stderr + str(router.log_lines())
    assert stack.records(name)["A"] == ["192.0.2.20"]
    assert calls(stack, new) == 2
    assert calls(stack, old) == 2, "no request with the old key"
    t2, who = stamp(stack, name)
    assert who == by(new) and t2 > t1, "a later signed time: not superseded by the old key's stamp"
    assert router.run("pubkey").stdout.splitlines()[0] == new
    assert not router.key.with_name("key.next").exists()
    lines = router.log_lines()
    delete = f"aws ssm delete-parameter --name '{PREFIX}/keys/{old}'"
    assert any("key rotation" in x and new in x and delete in x for x in lines), lines
    st = router.status()
    assert st["key_id"] == new
    assert st["key"] == {"id": new, "next_pending": False, "next_key_id": None,
                         "old_key_id": old, "old_key_remove": delete}

    # The old key, removed from the registry with the one command pubkey --old prints.
    printed = router.run("pubkey", "--old").stdout
    assert printed.splitlines()[0] == old
    aws(stack, command_line(printed, "delete-parameter"))
    assert not registered(stack, old)
    assert registered(stack, new)

    # Updates go on with the new key.
    router.set_iface("wan", wan_status("192.0.2.30"))
    out = router.hotplug("wan", action="ifupdate")
    assert out.returncode == 0, out.stderr
    assert stack.records(name)["A"] == ["192.0.2.30"]
    assert stamp(stack, name)[1] == by(new)
    stack.age_stamp(name)
    assert router.run("update", "--force").returncode == 0


def test_a_next_key_granted_fewer_names_is_not_used_yet(router_bin, stack, tmp_path, name):  # noqa: F811
    nas = stack.new_name("nas")
    r = Router(router_bin, stack, tmp_path,
               f"\nconfig host\n\toption name '{name}'\n\nconfig host\n\toption name '{nas}'\n\toption ipv6 '0'\n")
    r.set_iface("wan", wan_status("192.0.2.40"))
    r.set_iface("wan6", wan6_status("2001:db8:4::40", "2001:db8:dd"))
    try:
        stack.register_key(r.key_id, [name, nas])
        out = r.run("keygen", "--next")
        new = out.stdout.splitlines()[0]
        stack.register_key(new, [name])  # a mistake: nas is missing
        out = r.hotplug("wan")
        assert out.returncode == 0, out.stderr + str(r.log_lines())
        assert stack.records(nas)["A"] == ["192.0.2.40"]
        assert stamp(stack, nas)[1] == by(r.key_id)
        assert r.status()["key"]["next_pending"] is True
        assert any("(name_not_allowed)" in x for x in r.log_lines())
        # Fixed with the explicit command pubkey --next prints (the config's names), run
        # again with --overwrite as docs/protocol.md says for changing a key's names.
        aws(stack, command_line(r.run("pubkey", "--next").stdout, "--value '") + " --overwrite")
        stack.age_stamp(name)
        stack.age_stamp(nas)
        assert r.run("update", "--force").returncode == 0
        assert stamp(stack, nas)[1] == by(new)
        assert r.status()["key"]["next_pending"] is False
    finally:
        r.log.close()
