"""The role can create no TXT record, and delete TXT only at stamp names.

The ordering stamp is an AAAA at `_r53ddns.<name>` (docs/protocol.md §3); earlier versions
wrote it as TXT, and the function removes such a stamp after a write, in a batch of DELETEs
only. Route53's condition keys for ChangeResourceRecordSets (Route 53 Developer Guide, "Using
IAM policy conditions for fine-grained access control"): NormalizedRecordNames, RecordTypes
and Actions are multivalued keys over the whole ChangeBatch, so a policy sees the set of
names, of types and of actions, never which name has which type (IAM User Guide,
"Multivalued context keys": ForAllValues is true when every request value matches, ForAnyValue
when one does). What the template says, and what this file evaluates (an explicit Deny wins
over any Allow):

- Allow: every name in the zone's RecordNamePatterns, types in {A, AAAA};
- Allow: names `_r53ddns.*`, types {TXT}, actions {DELETE} (the earlier stamps' removal);
- Deny (every zone): TXT among the types and CREATE or UPSERT among the actions.

The batches are those lambda/src/stamp.rs and reconcile.rs build: A/AAAA UPSERTs plus the
stamp as CREATE, or DELETE of the old stamp + CREATE of the new one; then, when a name had an
earlier TXT stamp, that stamp's DELETE on its own.
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
    if op == "ForAnyValue:StringEquals":
        return any(v in patterns for v in values)
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
    return [("UPSERT", name, "A"), ("UPSERT", name, "AAAA"), ("CREATE", stamp(name), "AAAA")]


def rewrite(name):
    return [("UPSERT", name, "A"), ("DELETE", stamp(name), "AAAA"), ("CREATE", stamp(name), "AAAA")]


def unchanged(name):
    return [("DELETE", stamp(name), "AAAA"), ("CREATE", stamp(name), "AAAA")]


def migration(*names):
    """The removal of earlier versions' TXT stamps after a write."""
    return [("DELETE", stamp(n), "TXT") for n in names]


DEPLOYMENTS = {
    "broad": ["*.dyn.example.com"],
    "exact": ["home.dyn.example.com", "_r53ddns.home.dyn.example.com",
              "\\052.w.dyn.example.com", "_r53ddns._wildcard.w.dyn.example.com"],
}
HOST, WILD = "home.dyn.example.com", "*.w.dyn.example.com"

# TXT that would obtain certificates (ACME DNS-01, CA/B contact validation) or change mail policy.
TXT_TARGETS = [
    "_acme-challenge.home.dyn.example.com",        # DNS-01 for home.dyn.example.com
    "_ACME-Challenge.Home.dyn.example.com.",        # the same, as IAM normalises it
    "_acme-challenge.w.dyn.example.com",           # DNS-01 for *.w.dyn.example.com
    "_acme-challenge.dyn.example.com",             # DNS-01 for *.dyn.example.com
    "_validation-contactemail.home.dyn.example.com",
    "selector._domainkey.home.dyn.example.com",
    "_dmarc.home.dyn.example.com",
    HOST,                                          # SPF / site verification at the name itself
    stamp(HOST),                                   # a TXT stamp: never written again either
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
        for batch in (first_write(name), rewrite(name), unchanged(name), migration(name)):
            assert allowed(statements, params, batch), (deployment, batch)
    assert allowed(statements, params, rewrite(HOST) + rewrite(WILD)), "two names, one batch"
    assert allowed(statements, params, migration(HOST, WILD)), "two earlier stamps, one batch"


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
@pytest.mark.parametrize("target", TXT_TARGETS)
def test_no_txt_is_created_or_changed_anywhere(statements, deployment, target):
    params = {"HostedZoneId": ZONE_ID, "RecordNamePatterns": DEPLOYMENTS[deployment] + ["*.dyn.example.com"]}
    for action in ("CREATE", "UPSERT"):
        assert not allowed(statements, params, [(action, target, "TXT")]), (target, action)
        # ... also hidden in a batch the function would send, or beside an earlier stamp's removal.
        for batch in (rewrite(HOST), first_write(WILD), migration(HOST)):
            assert not allowed(statements, params, batch + [(action, target, "TXT")]), (target, action)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_txt_is_deleted_only_at_stamp_names_and_only_in_a_batch_of_txt_deletes(statements, deployment):
    params = {"HostedZoneId": ZONE_ID, "RecordNamePatterns": DEPLOYMENTS[deployment] + ["*.dyn.example.com"]}
    for target in TXT_TARGETS[:-1]:
        assert not allowed(statements, params, [("DELETE", target, "TXT")]), target
        assert not allowed(statements, params, migration(HOST) + [("DELETE", target, "TXT")]), target
    # The earlier stamp's DELETE beside a write: denied (so the function sends it on its own).
    assert not allowed(statements, params, rewrite(HOST) + migration(HOST))


@pytest.mark.parametrize("rtype", ["CAA", "TXT", "CNAME", "NS", "MX"])
def test_no_other_type_is_written(statements, rtype):
    params = {"HostedZoneId": ZONE_ID, "RecordNamePatterns": ["*.dyn.example.com"]}
    for action in ("CREATE", "UPSERT"):
        assert not allowed(statements, params, [(action, HOST, rtype)]), rtype
        assert not allowed(statements, params, rewrite(HOST) + [(action, "dyn.example.com", rtype)]), rtype


def test_what_the_role_still_can_do_is_stated(statements):
    """A and AAAA under the patterns (an address of the attacker's, which also passes a CA's
    HTTP-01 check for those names), and deleting `_r53ddns.` TXT. docs/security.md says both
    and names the condition keys; the Deny holds in every zone."""
    params = {"HostedZoneId": ZONE_ID, "RecordNamePatterns": ["*.dyn.example.com"]}
    assert allowed(statements, params, [("UPSERT", "_acme-challenge.home.dyn.example.com", "A")])
    assert allowed(statements, params, [("DELETE", "_r53ddns.other.example.com", "TXT")])
    security = " ".join((TEMPLATE.parents[1] / "docs" / "security.md").read_text().split())
    for key in ("NormalizedRecordNames", "RecordTypes", "Actions"):
        assert f"route53:ChangeResourceRecordSets{key}" in security, key
    assert "create or change no TXT record" in security
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert json.dumps(deny).count("hostedzone/*") == 1, "the Deny holds in every zone"
