"""The deployment template: cfn-lint and checkov clean, and the IAM role as narrow as claimed."""

import json
import subprocess
from pathlib import Path

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


def test_the_role_may_change_only_a_aaaa_txt_of_the_allowed_names_in_one_zone():
    template, errors = decode(str(TEMPLATE))
    assert not errors
    statements = template["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == ["logs:CreateLogStream", "logs:PutLogEvents", "route53:ChangeResourceRecordSets",
                       "route53:ListResourceRecordSets", "ssm:GetParameter", "ssm:PutParameter"]
    assert all(s["Effect"] == "Allow" and "*" not in json.dumps(s["Resource"]).replace("/*", "") for s in statements)
    change = next(s for s in statements if s["Action"] == "route53:ChangeResourceRecordSets")
    cond = change["Condition"]
    assert cond["ForAllValues:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"] == {
        "Ref": "RecordNamePatterns"}
    assert cond["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"] == ["A", "AAAA", "TXT"]
    assert sorted(cond["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsActions"]) == [
        "CREATE", "DELETE", "UPSERT"]
    fn = template["Resources"]["Function"]["Properties"]
    assert fn["Architectures"] == ["arm64"] and fn["Runtime"] == "provided.al2023"
    assert "R53DDNS_OBSERVED_IP_OVERRIDE" not in fn["Environment"]["Variables"]
    assert "R53DDNS_ALLOW_DOCUMENTATION_ADDRESSES" not in fn["Environment"]["Variables"]
    assert template["Resources"]["Url"]["Properties"]["AuthType"] == "NONE"


def test_name_patterns_that_can_never_match_are_refused_at_deploy_time():
    """IAM compares normalised names (lower case, no trailing dot): such patterns match nothing,
    so every write would be AccessDenied. CloudFormation applies AllowedPattern to each item."""
    import re
    template, errors = decode(str(TEMPLATE))
    assert not errors
    pattern = re.compile(template["Parameters"]["RecordNamePatterns"]["AllowedPattern"])
    for good in ["*.dyn.example.com", "home.example.com", "router-?.example.com", "_r53ddns.*.example.com"]:
        assert pattern.fullmatch(good), good
    for bad in ["Home.example.com", "*.dyn.example.com.", "example", "", "a b.example.com", "*.EXAMPLE.com"]:
        assert not pattern.fullmatch(bad), bad
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
