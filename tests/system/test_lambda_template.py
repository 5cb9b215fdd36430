"""The deployment template: cfn-lint and checkov clean, and the IAM role as narrow as claimed."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from cfnlint.decode import decode

TEMPLATE = Path(__file__).resolve().parents[2] / "lambda" / "template.yaml"


def test_cfn_lint_is_clean():
    p = subprocess.run(["cfn-lint", "--", str(TEMPLATE)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr


def test_checkov_is_clean_and_every_suppression_is_justified():
    p = subprocess.run(
        ["checkov", "-f", str(TEMPLATE), "--skip-download", "--output", "json"],
        capture_output=True, text=True, timeout=600,
    )
    report = json.loads(p.stdout)
    summary = report["summary"]
    assert summary["failed"] == 0, json.dumps(report["results"]["failed_checks"], indent=1)[:4000]
    assert summary["passed"] >= 10
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped["check_result"].get("suppress_comment", "")) > 40, skipped["check_id"]


def role_statements(template, zones=1) -> list:
    """The role's statements as deployed with `zones` zone slots filled: its own policy plus
    each policy attached to it whose condition holds."""
    res = template["Resources"]
    statements = list(res["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"])
    filled = {"HasZone2": zones >= 2, "HasZone3": zones >= 3}
    for name, r in res.items():
        if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"] == [{"Ref": "Role"}]:
            assert r.get("Condition") in filled, f"{name} is attached whatever the zones"
            if filled[r["Condition"]]:
                statements += r["Properties"]["PolicyDocument"]["Statement"]
    return statements


@pytest.mark.parametrize("zones", [1, 2, 3])
def test_the_role_may_change_only_a_aaaa_of_each_zones_names_in_that_zone(zones):
    template, errors = decode(str(TEMPLATE))
    assert not errors
    statements = role_statements(template, zones)
    # TXT: only DELETE at stamp names, never CREATE/UPSERT (tests/system/test_iam_stamps.py proves it).
    assert [s["Sid"] for s in statements if s["Effect"] != "Allow"] == ["NoTxtWrites"]
    deletes = [s for s in statements if s.get("Sid") == "DeleteEarlierStamps"]
    assert len(deletes) == zones
    statements = [s for s in statements if s["Effect"] == "Allow" and s.get("Sid") != "DeleteEarlierStamps"]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == ["logs:CreateLogStream", "logs:PutLogEvents"] + ["route53:ChangeResourceRecordSets"] * zones + [
        "route53:ListResourceRecordSets"] * zones + ["ssm:GetParameter", "ssm:GetParametersByPath", "ssm:PutParameter"]
    assert all(s["Effect"] == "Allow" and "*" not in json.dumps(s["Resource"]).replace("/*", "") for s in statements)
    suffix = ["", "2", "3"][:zones]
    arn = "arn:${{AWS::Partition}}:route53:::hostedzone/${{HostedZoneId{}}}"
    reads = [s["Resource"] for s in statements if s["Action"] == "route53:ListResourceRecordSets"]
    assert reads == [{"Fn::Sub": arn.format(n)} for n in suffix]
    changes = [s for s in statements if s["Action"] == "route53:ChangeResourceRecordSets"]
    assert len(changes) == zones
    for n, change in zip(suffix, changes):
        # Each zone's patterns are scoped to that zone's ARN alone.
        assert change["Resource"] == {"Fn::Sub": arn.format(n)}
        cond = change["Condition"]
        assert cond["ForAllValues:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"] == {
            "Ref": f"RecordNamePatterns{n}"}
        assert cond["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"] == ["A", "AAAA"]
        assert sorted(cond["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsActions"]) == [
            "CREATE", "DELETE", "UPSERT"]
    env = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    assert "R53DDNS_ZONE_ID" not in env and "R53DDNS_ZONES" in env
    for n in ("2", "3"):
        assert template["Rules"][f"Zone{n}IsComplete"]["Assertions"], "a zone id needs its name and patterns"
    fn = template["Resources"]["Function"]["Properties"]
    assert fn["Architectures"] == ["arm64"] and fn["Runtime"] == "provided.al2023"
    assert "R53DDNS_OBSERVED_IP_OVERRIDE" not in fn["Environment"]["Variables"]
    assert "R53DDNS_ALLOW_DOCUMENTATION_ADDRESSES" not in fn["Environment"]["Variables"]
    assert template["Resources"]["Url"]["Properties"]["AuthType"] == "NONE"


def iam_like(pattern: str, value: str) -> bool:
    """IAM StringLike: * matches any run of characters (dots too), ? one; nothing else is special."""
    return re.fullmatch("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                        value) is not None


def normalised(name: str) -> str:
    """A record name as route53:ChangeResourceRecordSetsNormalizedRecordNames sees it: lower
    case, no trailing dot, every character but a-z 0-9 - _ . as \\ddd octal (* -> \\052)."""
    name = name.rstrip(".").lower()
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else f"\\{ord(c):03o}" for c in name)


def test_wildcard_patterns_cover_the_record_and_its_stamp_as_iam_sees_them():
    """docs/protocol.md: *.home.example.com is written with its stamp
    _r53ddns._wildcard.home.example.com; IAM sees \\052.home.example.com."""
    wild, stamp = normalised("*.home.example.com."), normalised("_r53ddns._wildcard.home.example.com")
    assert wild == "\\052.home.example.com"
    exact = ["\\052.home.example.com", "_r53ddns._wildcard.home.example.com"]
    assert all(any(iam_like(p, n) for p in exact) for n in (wild, stamp))
    assert not any(iam_like(p, normalised("www.home.example.com")) for p in exact)
    broad = ["*.home.example.com"]
    assert all(iam_like(broad[0], n) for n in (wild, stamp))
    template, _ = decode(str(TEMPLATE))
    pattern = re.compile(template["Parameters"]["RecordNamePatterns"]["AllowedPattern"])
    assert all(pattern.fullmatch(p) for p in exact + broad)


def test_name_patterns_that_can_never_match_are_refused_at_deploy_time():
    """IAM compares normalised names (lower case, no trailing dot): such patterns match nothing,
    so every write would be AccessDenied. CloudFormation applies AllowedPattern to each item."""
    import re
    template, errors = decode(str(TEMPLATE))
    assert not errors
    pattern = re.compile(template["Parameters"]["RecordNamePatterns"]["AllowedPattern"])
    for good in ["*.dyn.example.com", "home.example.com", "router-?.example.com", "_r53ddns.*.example.com",
                 "\\052.dyn.example.com", "_r53ddns._wildcard.dyn.example.com"]:
        assert pattern.fullmatch(good), good
    for bad in ["Home.example.com", "*.dyn.example.com.", "example", "", "a b.example.com", "*.EXAMPLE.com",
                "a.\\052.example.com", "\\052", "\\053.example.com"]:
        assert not pattern.fullmatch(bad), bad
    for n in ("2", "3"):
        extra = re.compile(template["Parameters"][f"RecordNamePatterns{n}"]["AllowedPattern"])
        assert extra.fullmatch("") and extra.fullmatch("*.dyn.example.net") and not extra.fullmatch("X.net")
        zone_id = re.compile(template["Parameters"][f"HostedZoneId{n}"]["AllowedPattern"])
        assert zone_id.fullmatch("") and zone_id.fullmatch("Z0123456789ABCDEFGHIJ")
        assert not zone_id.fullmatch("/hostedzone/Z1") and not zone_id.fullmatch("z1")
    hosts = re.compile(template["Parameters"]["EndpointHosts"]["AllowedPattern"])
    for good in ["", "ddns.example.com", "ddns.example.com:8443"]:
        assert hosts.fullmatch(good), good
    for bad in ["DDNS.example.com", "https://ddns.example.com", "ddns.example.com/"]:
        assert not hosts.fullmatch(bad), bad
    env = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    assert env["R53DDNS_ENDPOINT_HOSTS"] == {"Fn::Join": [",", {"Ref": "EndpointHosts"}]}


def test_the_role_writes_ssm_only_under_seen_and_publishes_only_to_the_change_topic():
    """Last seen must not widen what the function may write: PutParameter under
    <prefix>/seen/ only (the registry, keys/ and tokens/, stays read-only), and sns:Publish
    exists only when notifications are on, on that one topic."""
    template, errors = decode(str(TEMPLATE))
    assert not errors
    statements = template["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    put = [s for s in statements if s["Action"] == "ssm:PutParameter"]
    assert len(put) == 1
    assert put[0]["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
                                             ":parameter${RegistryPrefix}/seen/*"}
    assert "Condition" not in put[0]
    assert not [s for s in statements if "sns" in json.dumps(s["Action"])]
    publish = template["Resources"]["ChangePublishPolicy"]
    assert publish["Condition"] == "NotifyChanges"
    assert publish["Properties"]["RoleName"] == {"Ref": "Role"}
    assert publish["Properties"]["PolicyDocument"]["Statement"] == [
        {"Sid": "PublishChanges", "Effect": "Allow", "Action": "sns:Publish", "Resource": {"Ref": "ChangeTopic"}}]
    assert template["Parameters"]["ChangeNotifications"]["Default"] == "false"
    assert template["Conditions"]["NotifyChanges"] == {"Fn::Equals": [{"Ref": "ChangeNotifications"}, "true"]}
    assert template["Resources"]["ChangeTopic"]["Condition"] == "NotifyChanges"
    env = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    assert env["R53DDNS_CHANGE_TOPIC_ARN"] == {"Fn::If": ["NotifyChanges", {"Ref": "ChangeTopic"}, ""]}


def test_the_e_mail_subscription_is_optional():
    import re
    template, errors = decode(str(TEMPLATE))
    assert not errors
    res = template["Resources"]
    assert res["AlarmEmail"]["Condition"] == "HasEmail"
    assert res["AlarmEmail"]["Properties"]["Protocol"] == "email"
    assert res["ChangeEmail"]["Condition"] == "EmailChanges"
    param = template["Parameters"]["NotificationEmail"]
    assert param["Default"] == ""
    pattern = re.compile(param["AllowedPattern"])
    for good in ["", "owner@example.com"]:
        assert pattern.fullmatch(good), good
    for bad in ["owner", "a b@example.com", "owner@example"]:
        assert not pattern.fullmatch(bad), bad
    for alarm in ("SilenceAlarm", "PermanentErrorAlarm"):
        assert res[alarm]["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_silence_check_runs_hourly_and_may_only_list_the_registry_and_last_seen():
    """The schedule invokes the function every hour; GetParametersByPath is authorised
    against the path asked for, so the role names exactly keys, tokens and seen."""
    template, errors = decode(str(TEMPLATE))
    assert not errors
    fn = template["Resources"]["Function"]["Properties"]
    assert fn["Events"] == {"SilenceCheck": {"Type": "Schedule", "Properties": {
        "Schedule": "rate(1 hour)",
        "Description": "route53-ddns per-router silence check (SilentRouters metric)"}}}
    assert fn["Environment"]["Variables"]["R53DDNS_SILENCE_HOURS"] == {"Ref": "SilenceHours"}
    statements = template["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    lists = [s for s in statements if s["Action"] == "ssm:GetParametersByPath"]
    arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${RegistryPrefix}/"
    assert lists == [{"Sid": "ListForSilenceCheck", "Effect": "Allow", "Action": "ssm:GetParametersByPath",
                      "Resource": [{"Fn::Sub": arn + p} for p in ("keys", "tokens", "seen")]}]
    alarm = template["Resources"]["SilenceAlarm"]["Properties"]
    assert (alarm["MetricName"], alarm["Statistic"], alarm["TreatMissingData"]) == (
        "SilentRouters", "Maximum", "breaching")
