"""The role may write TXT only as the ordering stamp, as far as IAM can say it.

Route53's condition keys for ChangeResourceRecordSets (Route 53 Developer Guide, "Using IAM
policy conditions for fine-grained access control"): NormalizedRecordNames, RecordTypes and
Actions are multivalued keys over the whole ChangeBatch, so a policy sees the set of names and
the set of types, never which name has which type (IAM User Guide, "Multivalued context keys":
ForAllValues / ForAnyValue). One batch of this function holds A/AAAA for a name and the TXT
stamp `_r53ddns.<name>`, so "TXT only at stamp names" cannot be said per record. What the
template says instead, and what this file evaluates (an explicit Deny wins over any Allow):

- Allow: every name in the zone's RecordNamePatterns, types in {A, AAAA, TXT};
- Deny (every zone): any name with an `_` anywhere but where `_r53ddns.` and `_wildcard.`
  put one, and any name with an ACME / CA contact / DKIM / DMARC / MTA-STS label.

The batches are those lambda/src/plan.rs and reconcile.rs build: A/AAAA UPSERTs plus the stamp
as CREATE, or DELETE of the old stamp + CREATE of the new one.
"""

import json

import pytest
from cfnlint.decode import decode

from test_lambda_template import TEMPLATE, iam_like, normalised, role_statements

ZONE_ID = "Z0123456789ABCDEFGHIJ"


def resolve(value, params):
    """A template value with Ref/Fn::Sub of parameters and the partition filled in."""
    if isinstance(value, dict) and "Ref" in value:
        return params[value["Ref"]]
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"].replace("${AWS::Partition}", "aws")
        for k, v in params.items():
            text = text.replace("${" + k + "}", v if isinstance(v, str) else ",".join(v))
        return text
    return value


def condition_holds(op: str, values: set, patterns) -> bool:
    patterns = patterns if isinstance(patterns, list) else [patterns]
    if op == "ForAllValues:StringLike":
        return all(any(iam_like(p, v) for p in patterns) for v in values)
    if op == "ForAllValues:StringEquals":
        return all(v in patterns for v in values)
    if op == "ForAnyValue:StringLike":
        return any(iam_like(p, v) for p in patterns for v in values)
    raise AssertionError(f"the evaluator does not know {op}: extend it before using it")


def allowed(statements, params, batch) -> bool:
    """IAM's decision for ChangeResourceRecordSets on the zone with `batch`:
    [(action, name, type)]; explicit Deny, else any Allow, else implicit deny."""
    arn = f"arn:aws:route53:::hostedzone/{ZONE_ID}"
    ctx = {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": {normalised(n) for _, n, _ in batch},
        "route53:ChangeResourceRecordSetsRecordTypes": {t for _, _, t in batch},
        "route53:ChangeResourceRecordSetsActions": {a for a, _, _ in batch},
    }
    verdicts = []
    for s in statements:
        if s["Action"] != "route53:ChangeResourceRecordSets":
            continue
        if not iam_like(resolve(s["Resource"], params), arn):
            continue
        holds = all(condition_holds(op, ctx[key], resolve(v, params))
                    for op, keys in s.get("Condition", {}).items() for key, v in keys.items())
        if holds:
            verdicts.append(s["Effect"])
    return "Allow" in verdicts and "Deny" not in verdicts


def stamp(name: str) -> str:
    return "_r53ddns." + ("_wildcard." + name[2:] if name.startswith("*.") else name)


def first_write(name):
    return [("UPSERT", name, "A"), ("UPSERT", name, "AAAA"), ("CREATE", stamp(name), "TXT")]


def rewrite(name):
    return [("UPSERT", name, "A"), ("DELETE", stamp(name), "TXT"), ("CREATE", stamp(name), "TXT")]


def unchanged(name):
    return [("DELETE", stamp(name), "TXT"), ("CREATE", stamp(name), "TXT")]


DEPLOYMENTS = {
    "broad": ["*.dyn.example.com"],
    "exact": ["home.dyn.example.com", "_r53ddns.home.dyn.example.com",
              "\\052.w.dyn.example.com", "_r53ddns._wildcard.w.dyn.example.com"],
}
HOST, WILD = "home.dyn.example.com", "*.w.dyn.example.com"

ATTACKS = [
    "_acme-challenge.home.dyn.example.com",        # DNS-01 for home.dyn.example.com
    "_ACME-Challenge.Home.dyn.example.com.",        # the same, as IAM normalises it
    "_acme-challenge.w.dyn.example.com",           # DNS-01 for *.w.dyn.example.com
    "_acme-challenge.dyn.example.com",             # DNS-01 for *.dyn.example.com
    "abc._acme-challenge.home.dyn.example.com",    # account-bound ACME labels
    "_validation-contactemail.home.dyn.example.com",
    "_validation-contactphone.home.dyn.example.com",
    "selector._domainkey.home.dyn.example.com",    # DKIM, an 8-character selector
    "s1._domainkey.home.dyn.example.com",
    "_domainkey.home.dyn.example.com",
    "_dmarc.home.dyn.example.com",
    "_mta-sts.home.dyn.example.com",
    "home_x.dyn.example.com",                      # any `_` the function never writes
    "_r53ddns.a_b.dyn.example.com",
]


@pytest.fixture(scope="module")
def statements():
    template, errors = decode(str(TEMPLATE))
    assert not errors
    return role_statements(template, 1)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_batch_the_function_sends_is_allowed(statements, deployment):
    params = {"HostedZoneId": ZONE_ID, "RecordNamePatterns": DEPLOYMENTS[deployment]}
    for name in (HOST, WILD):
        for batch in (first_write(name), rewrite(name), unchanged(name)):
            assert allowed(statements, params, batch), (deployment, batch)
    assert allowed(statements, params, rewrite(HOST) + rewrite(WILD)), "two names, one batch"


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
@pytest.mark.parametrize("target", ATTACKS)
def test_a_batch_naming_a_record_the_function_never_writes_is_denied(statements, deployment, target):
    params = {"HostedZoneId": ZONE_ID, "RecordNamePatterns": DEPLOYMENTS[deployment] + ["*.dyn.example.com"]}
    for rtype in ("TXT", "A"):
        assert not allowed(statements, params, [("UPSERT", target, rtype)]), (target, rtype)
        # ... also hidden in a batch the function would send.
        assert not allowed(statements, params, rewrite(HOST) + [("CREATE", target, rtype)]), target


def test_what_iam_cannot_refuse_is_stated(statements):
    """No name-only rule can refuse TXT at a host name itself (a site-verification or SPF
    value): its batch has the same name, type and action sets as the function's own. The same
    for a label that starts with `_` at the first or the tenth character (where `_r53ddns.`
    and `_wildcard.` put theirs) and is not in the Deny's list. docs/security.md says both."""
    params = {"HostedZoneId": ZONE_ID, "RecordNamePatterns": ["*.dyn.example.com"]}
    forged = rewrite(HOST) + [("UPSERT", HOST, "TXT")]
    for part in range(3):
        assert {c[part] for c in forged} == {c[part] for c in rewrite(HOST)}, "the same sets"
    assert allowed(statements, params, forged)
    assert allowed(statements, params, [("UPSERT", "_other.home.dyn.example.com", "TXT")])
    security = " ".join((TEMPLATE.parents[1] / "docs" / "security.md").read_text().split())
    assert "write TXT at a name itself" in security and "route53:ChangeResourceRecordSetsNormalizedRecordNames" in security
    deny = next(s for s in statements if s["Effect"] == "Deny")
    for p in deny["Condition"]["ForAnyValue:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"]:
        assert f"`{p}`" in security or p.startswith("?"), f"{p} is not named in docs/security.md"
    assert json.dumps(deny).count("hostedzone/*") == 1, "the Deny holds in every zone"
