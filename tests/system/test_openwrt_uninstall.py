"""Removing the package (issue 14 item 7): `opkg remove` and `apk del` run the package's
prerm as OpenWrt's default_prerm does, under busybox sh in a chroot holding the package,
with the real static binary. The log then says what stays on the router (config, key
files) and in AWS (the key in the registry, each name's records and stamp), with the
commands that remove it; those commands, run as printed (a shell on the router; the AWS
CLI against moto), leave nothing behind.

Stand-in: /lib/functions.sh's default_prerm (OpenWrt's base-files), reduced to what removal
uses: it sources the opkg package's prerm-pkg in a subshell; init scripts are not stopped.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openwrt"))

from apk_reader import read_apk  # noqa: E402
from openwrt_harness import PKG, Root, build_static_x86_64, make_packages, read_ipk  # noqa: E402
from stack import stamp_name  # noqa: E402

if os.geteuid() != 0:  # CI and the developers' machines run as root
    pytest.skip("needs root for chroot", allow_module_level=True)

ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
FUNCTIONS = """\
# TEST STAND-IN for OpenWrt's /lib/functions.sh: default_prerm's removal part.
default_prerm() {
\tlocal root="${IPKG_INSTROOT}"
\t[ -n "$pkgname" ] || local pkgname="$(basename ${1%.*})"
\tif [ -f "$root/usr/lib/opkg/info/${pkgname}.prerm-pkg" ]; then
\t\t( . "$root/usr/lib/opkg/info/${pkgname}.prerm-pkg" )
\tfi
\techo "$pkgname" >>/tmp/default_prerm.calls
}
"""


@pytest.fixture(scope="module")
def binary():
    return build_static_x86_64()


@pytest.fixture(scope="module")
def packages(binary, tmp_path_factory):
    out = tmp_path_factory.mktemp("pkgs")
    r = make_packages(out, "--arch", "x86_64")
    assert r.returncode == 0, r.stderr
    (ipk,) = out.glob("*_x86_64.ipk")
    (apk,) = out.glob("*_x86_64.apk")
    return ipk, apk


def iface(v4=None, v6=None):
    return {
        "up": True, "pending": False, "available": True, "autostart": True, "dynamic": False,
        "uptime": 42, "l3_device": "eth1", "proto": "dhcp" if v4 else "dhcpv6", "device": "eth1",
        "ipv4-address": [{"address": v4, "mask": 24}] if v4 else [],
        "ipv6-address": [{"address": v6, "mask": 128, "preferred": 3600, "valid": 7200}] if v6 else [],
        "ipv6-prefix": [], "ipv6-prefix-assignment": [], "route": [], "dns-server": [],
        "dns-search": [], "neighbors": [], "inactive": {}, "data": {},
    }


def installed(tmp_path, ipk, binary, stack, names):
    """The package installed, its key made and registered, the names published."""
    root = Root.create(tmp_path / "root", ipk, binary=binary)
    root.listen_syslog()
    r = root.run(["/bin/sh", "-c", f"cd /etc/uci-defaults && ( . ./{PKG} ) && rm -f ./{PKG}"], ENV)
    assert r.returncode == 0, r
    key_id = root.run([f"/usr/sbin/{PKG}", "pubkey"], ENV).stdout.splitlines()[0]
    stack.register_key(key_id, names)
    shutil.copy2(stack.ca_file, root.file(f"/etc/{PKG}/ca.pem"))
    root.set_options(enabled="1", endpoint=stack.https_url, ca_file=f"/etc/{PKG}/ca.pem")
    cfg = root.file(f"/etc/config/{PKG}")
    cfg.write_text(cfg.read_text() + "".join(f"\nconfig host\n\toption name '{n}'\n" for n in names))
    shutil.copy2(Path(__file__).resolve().parents[1] / "openwrt" / "ubus", root.file("/bin/ubus"))
    root.file("/tmp/netifd").mkdir()
    root.file("/tmp/netifd/wan.json").write_text(json.dumps(iface(v4="192.0.2.10")))
    root.file("/tmp/netifd/wan6.json").write_text(json.dumps(iface(v6="2001:db8:1::10")))
    r = root.run([f"/usr/sbin/{PKG}", "update", "--no-wait"], ENV)
    assert r.returncode == 0, r.stderr
    for n in names:
        assert stack.records(n)["A"] == ["192.0.2.10"] and stack.stamp(n)
    root.file("/lib/functions.sh").write_text(FUNCTIONS)
    root.syslog()
    return root, key_id


def opkg_remove(root, ipk, env=ENV):
    """What `opkg remove` runs before deleting the files: the control's prerm."""
    info = root.file("/usr/lib/opkg/info")
    info.mkdir(parents=True, exist_ok=True)
    for name, blob in read_ipk(ipk).control_files.items():
        if name in ("./prerm", "./prerm-pkg"):
            f = info / f"{PKG}.{name[2:]}"
            f.write_bytes(blob)
            f.chmod(0o755)
    return root.run([f"/usr/lib/opkg/info/{PKG}.prerm", "remove"], env)


def apk_del(root, apk, env=ENV):
    """What `apk del` runs before deleting the files: the package's pre-deinstall."""
    f = root.file("/tmp/pre-deinstall")
    f.write_bytes(read_apk(apk).scripts["pre-deinstall"])
    f.chmod(0o755)
    return root.run(["/tmp/pre-deinstall"], env)


def messages(root):
    """The route53-ddns lines that reached syslog, without the syslog header."""
    return [m.split(f"{PKG}: ", 1)[1].rstrip("\n") for m in root.syslog() if f"{PKG}: " in m]


def aws(stack, command):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=stack.moto_url)
    r = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def deploy_stack_record(stack):
    """The CloudFormation stack's HostedZoneId parameter, as lambda/deploy.sh leaves it."""
    cfn = boto3.client(
        "cloudformation", endpoint_url=stack.moto_url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing")
    template = {"Parameters": {"HostedZoneId": {"Type": "String"}},
                "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
    try:
        cfn.describe_stacks(StackName="route53-ddns")
    except cfn.exceptions.ClientError:
        cfn.create_stack(StackName="route53-ddns", TemplateBody=json.dumps(template),
                         Parameters=[{"ParameterKey": "HostedZoneId", "ParameterValue": stack.zone_id}])


@pytest.mark.parametrize("manager", ["opkg", "apk"])
def test_removal_logs_what_stays_and_its_commands_remove_it(stack, tmp_path, packages, binary, manager):
    ipk, apk = packages
    names = [stack.new_name(), stack.new_name("nas")]
    root, key_id = installed(tmp_path, ipk, binary, stack, names)
    try:
        r = opkg_remove(root, ipk) if manager == "opkg" else apk_del(root, apk)
        assert r.returncode == 0, r.stderr
        assert root.file("/tmp/default_prerm.calls").read_text() == f"{PKG}\n"
        log = messages(root)
        first = log[0]
        assert first.startswith(f"{PKG} removed: left on the router are /etc/{PKG}/ (key /etc/{PKG}/key, key id {key_id})")
        assert f"/etc/config/{PKG} if you changed it" in first
        # the private key never
        assert root.file(f"/etc/{PKG}/key").read_bytes().hex() not in " ".join(log)
        assert all(len(m) < 1000 for m in log), "each line fits one syslog message"

        # On the router: the rm command removes config and key files.
        rm = first.split("remove them with: ", 1)[1]
        assert rm.startswith(f"rm -rf '/etc/{PKG}' '/etc/config/{PKG}'"), rm
        # What an upgrade over an edited config leaves (opkg's -opkg, apk's .apk-new) goes too.
        for left in (f"/etc/config/{PKG}-opkg", f"/etc/config/{PKG}.apk-new"):
            root.file(left).write_text("config global 'global'\n")
        r = root.run(["/bin/sh", "-c", rm], ENV)
        assert r.returncode == 0, r.stderr
        for gone in (f"/etc/{PKG}", f"/etc/config/{PKG}", f"/etc/config/{PKG}-opkg", f"/etc/config/{PKG}.apk-new"):
            assert not root.file(gone).exists(), gone

        # Where the AWS credentials are: revoke the key, delete records and stamps.
        (revoke,) = [m for m in log if "delete-parameter" in m]
        assert key_id in revoke
        aws(stack, revoke[revoke.index("aws ssm "):])
        with pytest.raises(stack.ssm.exceptions.ParameterNotFound):
            stack.ssm.get_parameter(Name=f"/route53-ddns/keys/{key_id}")
        (zone_line,) = [m for m in log if "set ZONE" in m]
        zone = re.search(r"ZONE=\$\(.*?--output text\)", zone_line).group(0)
        deploy_stack_record(stack)
        lines = [m.split(": ", 1)[1] for m in log if m.startswith("records of ")]
        assert len(lines) == 2 and all(n in zone_line for n in names)
        other = stack.new_name()  # a name of the zone this router never had: untouched
        stack.set_records(other, "A", ["192.0.2.99"])
        stack.set_records(stamp_name(names[0]), "TXT", ['"t=1 u=old"'])  # an earlier version's stamp
        aws(stack, "; ".join([zone, *lines]))
        for n in names:
            assert stack.records(n) == {"A": [], "AAAA": [], "TTL": None, "TXT": []}
            assert stack.stamp(n) is None and stack.legacy_stamp(n) is None
        assert stack.records(other)["A"] == ["192.0.2.99"]
        # Run again (say, pasted twice): nothing left to delete, no error.
        aws(stack, "; ".join([zone, *lines]))
    finally:
        root.cleanup()


def test_an_upgrade_logs_nothing(stack, tmp_path, packages, binary):
    ipk, _ = packages
    root, _ = installed(tmp_path, ipk, binary, stack, [stack.new_name()])
    try:
        r = opkg_remove(root, ipk, env={**ENV, "PKG_UPGRADE": "1"})
        assert r.returncode == 0, r.stderr
        assert messages(root) == []
    finally:
        root.cleanup()


def test_without_a_working_binary_a_fixed_line_still_says_what_stays(stack, tmp_path, packages, binary):
    ipk, _ = packages
    root, _ = installed(tmp_path, ipk, binary, stack, [stack.new_name()])
    try:
        root.file(f"/usr/sbin/{PKG}").write_text("#!/bin/sh\nexit 1\n")
        r = opkg_remove(root, ipk)
        assert r.returncode == 0, r.stderr
        (line,) = messages(root)
        assert line.endswith(
            f"remove them with: rm -rf /etc/{PKG} /etc/config/{PKG} /etc/config/{PKG}-opkg /etc/config/{PKG}.apk-new")
    finally:
        root.cleanup()
