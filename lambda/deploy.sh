#!/usr/bin/env bash
# Deploys the update endpoint (template.yaml: the arm64 Lambda, its Function URL, role, alarms)
# with CloudFormation, and prints the endpoint URL to put in the routers' config.
#
#   deploy.sh [--bucket NAME] <stack name> <hosted zone id> <zone name> <name patterns>
#   e.g. ./deploy.sh route53-ddns Z0123456789ABC example.com '*.dyn.example.com'
#   (the older form <stack name> <bucket> <zone id> <zone name> <patterns> works too)
#
# From a release directory (scripts/release.sh's dist/lambda/: this script, template.yaml,
# route53-ddns-lambda-arm64.zip, SHA256SUMS) it needs only the AWS CLI: it checks the
# checksums and deploys the zip as it is. From a source checkout (lambda/deploy.sh) it first
# builds the zip with cargo-lambda (Rust and zig).
#
# CloudFormation takes a Lambda's code only from S3, so `aws cloudformation package` uploads
# the zip first: to --bucket if given, else to route53-ddns-artifacts-<account>-<region>, which
# this script makes on first use (public access blocked) and reuses after.
# Credentials: allowed to deploy CloudFormation, IAM, Lambda, CloudWatch, SNS, and to write S3.
# Every AWS call runs under a deadline (R53_AWS_TIMEOUT seconds, default 1800).
set -euo pipefail
usage() { sed -n '5,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1; }
bucket=""
if [ "${1:-}" = --bucket ]; then bucket=${2:?--bucket needs a name}; shift 2; fi
case $# in
  4) stack=$1 zone_id=$2 zone_name=$3 patterns=$4 ;;
  5) [ -z "$bucket" ] || usage; stack=$1 bucket=$2 zone_id=$3 zone_name=$4 patterns=$5 ;;
  *) usage ;;
esac
here="$(cd "$(dirname "$0")" && pwd)"
t=${R53_AWS_TIMEOUT:-1800}
[[ "$t" =~ ^[0-9]{1,5}$ ]] || { echo "deploy.sh: R53_AWS_TIMEOUT must be a number of seconds" >&2; exit 1; }
aws_() { timeout --kill-after=10 "$t" aws "$@"; }

if [ -f "$here/route53-ddns-lambda-arm64.zip" ]; then
  template="$here/template.yaml"
  (cd "$here" && sha256sum --quiet --strict -c SHA256SUMS) ||
    { echo "deploy.sh: $here does not match its SHA256SUMS" >&2; exit 1; }
else
  cd "$here/.."
  cargo lambda build --release --arm64 --output-format zip -p route53-ddns-lambda
  template="$here/template.yaml"
fi

if [ -z "$bucket" ]; then
  account=$(aws_ sts get-caller-identity --query Account --output text)
  region=$(aws_ configure get region || true)
  region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$region}}
  [[ "$account" =~ ^[0-9]{12}$ ]] || { echo "deploy.sh: unexpected account id '$account'" >&2; exit 1; }
  [[ "$region" =~ ^[a-z0-9-]{1,30}$ ]] || { echo "deploy.sh: no AWS region configured (set AWS_REGION)" >&2; exit 1; }
  bucket="route53-ddns-artifacts-$account-$region"
  if ! aws_ s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
    echo "deploy.sh: making the artifact bucket $bucket" >&2
    if [ "$region" = us-east-1 ]; then
      aws_ s3api create-bucket --bucket "$bucket" >/dev/null
    else
      aws_ s3api create-bucket --bucket "$bucket" --create-bucket-configuration "LocationConstraint=$region" >/dev/null
    fi
    aws_ s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
      BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
  fi
fi

packaged=$(mktemp --suffix=.yaml)
trap 'rm -f "$packaged"' EXIT
aws_ cloudformation package --template-file "$template" --s3-bucket "$bucket" \
    --s3-prefix route53-ddns --output-template-file "$packaged" >/dev/null
aws_ cloudformation deploy --template-file "$packaged" --stack-name "$stack" \
    --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
    --parameter-overrides HostedZoneId="$zone_id" ZoneName="$zone_name" RecordNamePatterns="$patterns"
aws_ cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='Endpoint'].OutputValue" --output text
