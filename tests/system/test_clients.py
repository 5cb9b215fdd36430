"""Stock dyndns2 clients set up exactly as docs/clients.md says (the configuration is read
from the guide; only its placeholders and the public-address source are replaced), run
unmodified against the local endpoint over HTTPS: Debian's ddclient 3.10 and inadyn 2.10,
dyndnsc and noipy from PyPI. Each is checked for what the guide promises: the first run
answers `good`, a second run sends nothing (or gets `nochg`, one Route53 change), and
`badauth` and `911` are handled as the guide's table says. Route53 changes are counted by
the stand-in; requests that reached the endpoint are counted in the Lambda's log."""

import os
import re
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from clients_doc import (AddressService, block, endpoint, fill, new_account, requests_from, run,
                         wait_for, write_private)

EMPTY = {"A": [], "AAAA": [], "TTL": None, "TXT": []}


@pytest.fixture
def address_service(stack):
    svc = AddressService(stack.workdir, "192.0.2.90")
    yield svc
    svc.stop()


# --- ddclient 3.10 (Debian 12) ------------------------------------------------------------------

def ddclient(stack, tmp_path, acct, address_service):
    """Runs the guide's ddclient 3.10 configuration once, as Debian's service does each cycle."""
    assert shutil.which("ddclient"), "ddclient is installed by scripts/setup.sh (apt: ddclient)"
    conf = fill(block("ddclient-3.10"), endpoint(stack), *acct)
    assert "=ipify-ipv4" in conf, "the guide's address source changed; update this test"
    conf = conf.replace("=ipify-ipv4", f"={address_service.url}")
    # The test CA: the only line the guide does not have (a deployment has a public certificate).
    path = write_private(tmp_path / "ddclient.conf", f"ssl_ca_file={stack.ca_file}\n" + conf)
    return run(["ddclient", "-daemon=0", "-foreground", "-verbose", "-file", str(path),
                "-cache", str(tmp_path / "ddclient.cache")])


def age_cache(cache, field, seconds):
    """Time passes for ddclient: its cache's record of the last update (mtime) or attempt
    (atime) moves `seconds` back."""
    text = cache.read_text()
    then = int(re.search(rf"\b{field}=(\d+)", text).group(1))
    cache.write_text(re.sub(rf"\b{field}=\d+", f"{field}={then - seconds}", text))


def test_ddclient_310_updates_once_then_sends_nothing_until_the_address_changes(
        stack, tmp_path, address_service):
    user, token, name = acct = new_account(stack)
    changes, sent = stack.change_count(), requests_from(stack, user)
    p = ddclient(stack, tmp_path, acct, address_service)
    assert f"good: IP address set to 192.0.2.90" in p.out, p.out[-3000:]
    assert stack.records(name)["A"] == ["192.0.2.90"]
    assert (stack.change_count(), requests_from(stack, user)) == (changes + 1, sent + 1)
    p = ddclient(stack, tmp_path, acct, address_service)
    assert "skipped: IP address was already set to 192.0.2.90" in p.out, p.out[-3000:]
    assert (stack.change_count(), requests_from(stack, user)) == (changes + 1, sent + 1)
    address_service.address = "192.0.2.91"
    age_cache(tmp_path / "ddclient.cache", "mtime", 31)  # past min-interval (30 s)
    p = ddclient(stack, tmp_path, acct, address_service)
    assert "good: IP address set to 192.0.2.91" in p.out, p.out[-3000:]
    assert stack.records(name)["A"] == ["192.0.2.91"]


def test_ddclient_310_reports_badauth_and_changes_nothing(stack, tmp_path, address_service):
    user, token, name = new_account(stack)
    changes = stack.change_count()
    p = ddclient(stack, tmp_path, (user, "not-the-token", name), address_service)
    assert re.search(r"FAILED: +updating .*badauth", p.out), p.out[-3000:]
    assert stack.records(name) == EMPTY and stack.change_count() == changes


def test_ddclient_310_after_911_caches_nothing_and_retries_5_minutes_later(
        stack, tmp_path, address_service):
    user, token, name = acct = new_account(stack)
    stack.throttle(1000)
    try:
        p = ddclient(stack, tmp_path, acct, address_service)
    finally:
        stack.throttle(0)
    assert re.search(r"FAILED: +updating .*unexpected status \(911\)", p.out), p.out[-3000:]
    assert stack.records(name) == EMPTY
    sent = requests_from(stack, user)
    p = ddclient(stack, tmp_path, acct, address_service)
    assert "Wait at least 5 minutes between update attempts" in p.out, p.out[-3000:]
    assert requests_from(stack, user) == sent, "retried before min-error-interval"
    age_cache(tmp_path / "ddclient.cache", "atime", 301)  # past min-error-interval (5 min)
    p = ddclient(stack, tmp_path, acct, address_service)
    assert "good: IP address set to 192.0.2.90" in p.out, p.out[-3000:]
    assert stack.records(name)["A"] == ["192.0.2.90"]


# --- inadyn 2.10 -----------------------------------------------------------------------------------

def inadyn_conf(stack, tmp_path, acct, address="192.0.2.92", marker="inadyn.conf"):
    """The guide's inadyn.conf (or inadyn6.conf), trusting the test CA and taking its address
    from a command instead of the guide's public check-IP server."""
    assert shutil.which("inadyn"), "inadyn is installed by scripts/setup.sh (apt: inadyn)"
    conf = fill(block(marker), endpoint(stack), *acct)
    conf = f"ca-trust-file = {stack.ca_file}\n" + conf
    check = f'    checkip-command = "echo {address}"\n'
    if "checkip-server" in conf:
        conf = re.sub(r"^ *checkip-server *=.*\n", check, conf, flags=re.M)
    else:
        conf = conf.replace("\n}\n", "\n" + check + "}\n", 1)
    cache = tmp_path / "inadyn-cache"
    cache.mkdir(exist_ok=True)
    return write_private(tmp_path / marker, conf), cache


def inadyn_once(stack, tmp_path, acct):
    conf, cache = inadyn_conf(stack, tmp_path, acct)
    return run(["inadyn", "--once", "--foreground", "-l", "debug", "-f", str(conf),
                "--cache-dir", str(cache), "-P", str(tmp_path / "inadyn.pid")])


def unit_command(conf, root, continue_on_error=True, marker="inadyn.service"):
    """ExecStart of the guide's systemd unit, its /etc and /var/cache paths moved under this
    test's `root` (the same path in the guide is the same path here)."""
    line = next(x for x in block(marker).splitlines() if x.startswith("ExecStart="))
    argv = shlex.split(line[len("ExecStart="):])
    for i, a in enumerate(argv):
        if a.startswith("/etc/inadyn"):
            argv[i] = str(root / a.split("/")[-1])
            if argv[i] != str(conf):
                Path(argv[i]).write_bytes(conf.read_bytes())
        elif a.startswith("/var/cache/"):
            argv[i] = str(root / ("cache-" + a.split("/")[-1]))
            Path(argv[i]).mkdir(exist_ok=True)
    assert "--continue-on-error" in argv, "the guide's unit must keep inadyn alive after a 911"
    return argv if continue_on_error else [a for a in argv if a != "--continue-on-error"]


def test_inadyn_updates_once_then_sends_nothing(stack, tmp_path):
    user, token, name = acct = new_account(stack)
    changes, sent = stack.change_count(), requests_from(stack, user)
    p = inadyn_once(stack, tmp_path, acct)
    assert "good 192.0.2.92" in p.out and "Successful alias table update" in p.out, p.out[-3000:]
    assert stack.records(name)["A"] == ["192.0.2.92"]
    assert "Authorization: Basic" in p.out and token not in stack.lambda_log()
    p = inadyn_once(stack, tmp_path, acct)
    assert "Sending IP# update" not in p.out, p.out[-3000:]
    assert (stack.change_count(), requests_from(stack, user)) == (changes + 1, sent + 1)


def test_inadyn_dual_stack_as_two_instances_each_caching_its_family(stack, tmp_path):
    user, token, name = acct = new_account(stack)
    instances = []
    for family, address in [("", "192.0.2.97"), ("6", "2001:db8::97")]:
        d = tmp_path / f"v{family or 4}"
        d.mkdir()
        conf, _ = inadyn_conf(stack, d, acct, address, f"inadyn{family}.conf")
        argv = unit_command(conf, tmp_path, marker=f"inadyn{family}.service")
        instances.append(argv + ["--once", "-l", "debug"])
    outs = [run(argv).out for argv in instances]
    assert "good 192.0.2.97" in outs[0] and "good 2001:db8::97" in outs[1], outs
    rec = stack.records(name)
    assert (rec["A"], rec["AAAA"]) == (["192.0.2.97"], ["2001:db8::97"])
    changes, sent = stack.change_count(), requests_from(stack, user)
    for argv in instances:
        p = run(argv)
        assert "Sending IP# update" not in p.out, p.out[-3000:]
    assert (stack.change_count(), requests_from(stack, user)) == (changes, sent)


def test_inadyn_reports_badauth_and_changes_nothing(stack, tmp_path):
    user, token, name = new_account(stack)
    changes = stack.change_count()
    p = inadyn_once(stack, tmp_path, (user, "not-the-token", name))
    assert "badauth" in p.out and "Error response from DDNS server" in p.out, p.out[-3000:]
    assert stack.records(name) == EMPTY and stack.change_count() == changes


def start_daemon(argv, log):
    out = open(log, "wb")
    return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def stop_daemon(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.parametrize("continue_on_error", [True, False], ids=["unit-as-written", "without-C"])
def test_inadyn_as_the_guides_unit_runs_it_survives_a_911(stack, tmp_path, continue_on_error):
    """With the unit's `--continue-on-error` inadyn stays up through a 911 and updates at its
    next check (SIGUSR2 stands for `period` passing); without it, inadyn exits, as the guide
    warns."""
    user, token, name = acct = new_account(stack)
    conf, cache = inadyn_conf(stack, tmp_path, acct)
    log = tmp_path / "inadyn.log"
    stack.throttle(1000)
    proc = start_daemon(unit_command(conf, tmp_path, continue_on_error) + ["-l", "info"], log)
    try:
        wait_for(lambda: "911" in log.read_text(errors="replace"), 120, "inadyn's first answer")
        stack.throttle(0)
        if not continue_on_error:
            proc.wait(timeout=30)
            assert "exiting!" in log.read_text(errors="replace")
            assert stack.records(name) == EMPTY
            return
        wait_for(lambda: "ignoring" in log.read_text(errors="replace"), 30, "inadyn to go on")
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        assert stack.records(name) == EMPTY
        proc.send_signal(signal.SIGUSR2)
        wait_for(lambda: "Successful alias table update" in log.read_text(errors="replace"), 60,
                 "inadyn's retry")
        assert proc.poll() is None
        assert stack.records(name)["A"] == ["192.0.2.92"]
    finally:
        stack.throttle(0)
        stop_daemon(proc)


# --- dyndnsc and noipy (PyPI) ---------------------------------------------------------------------

def python_client_env(stack):
    """requests (inside both clients) trusts the test CA: the only thing the guide leaves out."""
    return dict(os.environ, REQUESTS_CA_BUNDLE=str(stack.ca_file))


def dyndnsc(stack, tmp_path, acct, address, debug=True):
    assert shutil.which("dyndnsc"), "dyndnsc is installed by scripts/setup.sh (requirements.txt)"
    conf = fill(block("dyndnsc.ini"), endpoint(stack), *acct)
    assert "detector = webcheck4" in conf, "the guide's address source changed; update this test"
    conf = conf.replace("detector = webcheck4", f"detector = command\ndetector-command = echo {address}")
    path = write_private(tmp_path / "dyndnsc.ini", conf)
    return run(["dyndnsc", "--config", str(path), *(["--debug"] if debug else [])],
               env=python_client_env(stack), start_new_session=True)


def test_dyndnsc_good_then_nochg(stack, tmp_path):
    """dyndnsc compares with the name's DNS answer, which the test zone never gives: so its
    second run sends again and gets `nochg`, and writes nothing: unchanged inside the name's
    24-hour quiet period (lambda/src/quiet.rs)."""
    user, token, name = acct = new_account(stack)
    changes = stack.change_count()
    p = dyndnsc(stack, tmp_path, acct, "192.0.2.93")
    assert "status 200, good 192.0.2.93" in p.out, p.out[-3000:]
    assert stack.records(name)["A"] == ["192.0.2.93"] and stack.change_count() == changes + 1
    p = dyndnsc(stack, tmp_path, acct, "192.0.2.93")
    assert "status 200, nochg 192.0.2.93" in p.out, p.out[-3000:]
    assert stack.change_count() == changes + 1


@pytest.mark.parametrize("trouble", ["badauth", "911"])
def test_dyndnsc_is_silent_about_failures_unless_debugging(stack, tmp_path, trouble):
    user, token, name = new_account(stack)
    acct = (user, "not-the-token" if trouble == "badauth" else token, name)
    stack.throttle(1000 if trouble == "911" else 0)
    try:
        quiet = dyndnsc(stack, tmp_path, acct, "192.0.2.94", debug=False)
        loud = dyndnsc(stack, tmp_path, acct, "192.0.2.94")
    finally:
        stack.throttle(0)
    assert quiet.returncode == 0 and trouble not in quiet.out, quiet.out[-3000:]
    assert f"status 200, {trouble}" in loud.out, loud.out[-3000:]
    assert stack.records(name) == EMPTY


def noipy(stack, tmp_path, acct, address):
    """The guide's two noipy commands: store the credentials (password on stdin, as typed at
    the prompt; no terminal, so getpass reads stdin), then update."""
    assert shutil.which("noipy"), "noipy is installed by scripts/setup.sh (requirements.txt)"
    user, token, name = acct
    cfg = tmp_path / "noipy"
    if not cfg.exists():
        store = fill(block("noipy-store"), endpoint(stack), *acct).strip()
        store = store.replace("/etc/noipy", str(cfg))
        p = run(["sh", "-c", store], input=token + "\n", stdin=None, start_new_session=True)
        assert p.returncode == 0, p.out
        stored = cfg / ".noipy" / "generic"
        assert stored.stat().st_mode & 0o077 == 0, "the stored credentials are readable by others"
        assert token not in p.out
    cmd = fill(block("noipy-run"), endpoint(stack), *acct).strip()
    argv = [str(cfg) if a == "/etc/noipy" else a for a in shlex.split(cmd)]
    return run(argv + [address], env=python_client_env(stack), start_new_session=True)


def test_noipy_good_then_nochg(stack, tmp_path):
    user, token, name = acct = new_account(stack)
    changes = stack.change_count()
    p = noipy(stack, tmp_path, acct, "192.0.2.95")
    assert "SUCCESS: DNS hostname IP (192.0.2.95) successfully updated." in p.out, p.out[-3000:]
    assert stack.records(name)["A"] == ["192.0.2.95"] and stack.change_count() == changes + 1
    p = noipy(stack, tmp_path, acct, "192.0.2.95")
    assert "SUCCESS: IP address (192.0.2.95) is up to date" in p.out, p.out[-3000:]
    assert stack.change_count() == changes + 1, "nochg inside the quiet period writes nothing"


@pytest.mark.parametrize("trouble,message", [("badauth", "ERROR: Invalid username or password"),
                                             ("911", "ERROR: Problem on server side")])
def test_noipy_prints_an_error_and_exits_0(stack, tmp_path, trouble, message):
    user, token, name = new_account(stack)
    if trouble == "badauth":
        stack.revoke_token(user)
    stack.throttle(1000 if trouble == "911" else 0)
    try:
        p = noipy(stack, tmp_path, (user, token, name), "192.0.2.96")
    finally:
        stack.throttle(0)
    assert message in p.out and p.returncode == 0, p.out[-3000:]
    assert stack.records(name) == EMPTY
