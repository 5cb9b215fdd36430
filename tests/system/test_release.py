"""The release's Lambda directory (scripts/release.sh --lambda-only) and its deploy.sh, run with
only the AWS CLI against moto: the checksums are checked, the artifact bucket is made when none
is given, `aws cloudformation package` uploads exactly the release's zip and the template that
CloudFormation receives points at it.

moto goes as far as creating the change set from the packaged template; executing it fails in
moto's Lambda Function URL model (it wants a FunctionName), so the stack's outputs are not
checked here. The arm64 build itself (cargo lambda) is not run: the release is made from a
stand-in zip with --lambda-zip, which is what the build produces in shape.
"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import CREDS, free_port, wait_port  # noqa: E402

from cfnlint.decode import decode  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account
ZIP = "route53-ddns-lambda-arm64.zip"


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    port, log = free_port(), tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=fh, stderr=fh)
    try:
        wait_port(port, proc, 60, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """The release's Lambda directory, made by release.sh from a stand-in zip."""
    work = tmp_path_factory.mktemp("release")
    with zipfile.ZipFile(work / "bootstrap.zip", "w") as z:
        z.writestr(zipfile.ZipInfo("bootstrap"), b"\x7fELF stand-in for the arm64 Lambda")
    out = work / "lambda"
    argv = [str(REPO / "scripts" / "release.sh"), "--lambda-only", "--lambda-zip", str(work / "bootstrap.zip"),
            "--lambda-out", str(out)]
    r = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return out


def aws(moto: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=moto, AWS_ACCESS_KEY_ID=CREDS["aws_access_key_id"],
               AWS_SECRET_ACCESS_KEY=CREDS["aws_secret_access_key"], AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION,
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", **extra)
    return env


def client(moto: str, service: str):
    return boto3.client(service, endpoint_url=moto, region_name=REGION, **CREDS)


def spy_path(tmp_path: Path) -> str:
    """A PATH whose `aws` keeps a copy of the template given to `cloudformation deploy`, then
    runs the real AWS CLI: what CloudFormation receives, which moto does not give back."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    real = shutil.which("aws")
    (bin_dir / "aws").write_text(f"""#!/bin/sh
if [ "$1 $2" = "cloudformation deploy" ]; then cp "$4" "{tmp_path}/deployed.yaml"; fi
exec "{real}" "$@"
""")
    (bin_dir / "aws").chmod(0o755)
    return f"{bin_dir}:{os.environ['PATH']}"


def deploy(release: Path, moto: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    argv = [str(release / "deploy.sh"), *args, "Z0123456789ABC", "example.com", "*.dyn.example.com"]
    return subprocess.run(argv, cwd=tmp_path, env=aws(moto, PATH=spy_path(tmp_path), R53_AWS_TIMEOUT="120"),
                          capture_output=True, text=True, timeout=300)


def test_release_directory_has_the_zip_a_template_pointing_at_it_and_checksums(release):
    assert sorted(p.name for p in release.iterdir()) == ["SHA256SUMS", "deploy.sh", ZIP, "template.yaml"]
    r = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=release, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.count(": OK") == 3, r.stdout + r.stderr
    template, errors = decode(str(release / "template.yaml"))
    assert not errors
    assert template["Resources"]["Function"]["Properties"]["CodeUri"] == ZIP
    lint = subprocess.run(["cfn-lint", "--", str(release / "template.yaml")],
                          capture_output=True, text=True, timeout=300)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_deploy_without_rust_makes_the_bucket_uploads_the_zip_and_hands_it_to_cloudformation(release, moto, tmp_path):
    r = deploy(release, moto, tmp_path, "r53-a")
    bucket = f"route53-ddns-artifacts-{ACCOUNT}-{REGION}"
    s3 = client(moto, "s3")
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    deployed, errors = decode(str(tmp_path / "deployed.yaml"))
    assert not errors, r.stderr
    uri = deployed["Resources"]["Function"]["Properties"]["CodeUri"]
    assert uri.startswith(f"s3://{bucket}/route53-ddns/"), uri
    key = uri[len(f"s3://{bucket}/"):]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == (release / ZIP).read_bytes()
    # CloudFormation (moto) took the packaged template: the change set exists.
    sets = client(moto, "cloudformation").list_change_sets(StackName="r53-a")["Summaries"]
    assert [s["Status"] for s in sets] == ["CREATE_COMPLETE"], r.stdout + r.stderr
    # A second deploy reuses the bucket it made.
    deploy(release, moto, tmp_path, "r53-b")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]].count(bucket) == 1


def test_deploy_to_a_given_bucket_makes_none(release, moto, tmp_path):
    s3 = client(moto, "s3")
    s3.create_bucket(Bucket="my-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION})
    before = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    deploy(release, moto, tmp_path, "--bucket", "my-artifacts", "r53-c")
    assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == before
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="my-artifacts").get("Contents", [])]
    assert len(keys) == 1 and keys[0].startswith("route53-ddns/")


def test_a_changed_zip_is_refused_before_anything_reaches_aws(release, moto, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(release, bad)
    with open(bad / ZIP, "ab") as fh:
        fh.write(b"\0")
    r = deploy(bad, moto, tmp_path, "--bucket", "untouched", "r53-d")
    assert r.returncode != 0 and "does not match its SHA256SUMS" in r.stderr
    assert not (tmp_path / "deployed.yaml").exists()
    assert "r53-d" not in {s["StackName"] for s in client(moto, "cloudformation").list_stacks()["StackSummaries"]}
