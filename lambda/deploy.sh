#!/usr/bin/env bash
# Builds the arm64 Lambda and deploys lambda/template.yaml. Needs cargo-lambda (with zig), the
# AWS CLI and credentials allowed to deploy CloudFormation, IAM and Lambda.
#
#   lambda/deploy.sh <stack name> <artifact S3 bucket> <hosted zone id> <zone name> <name patterns>
#   e.g. lambda/deploy.sh route53-ddns my-artifacts Z0123456789ABC example.com '*.dyn.example.com'
#
# Prints the endpoint URL to put in the routers' config.
set -euo pipefail
[ $# -eq 5 ] || { sed -n '4,6p' "$0"; exit 1; }
stack=$1 bucket=$2 zone_id=$3 zone_name=$4 patterns=$5
cd "$(dirname "$0")/.."
cargo lambda build --release --arm64 --output-format zip -p route53-ddns-lambda
packaged=$(mktemp --suffix=.yaml)
aws cloudformation package --template-file lambda/template.yaml --s3-bucket "$bucket" \
    --output-template-file "$packaged"
aws cloudformation deploy --template-file "$packaged" --stack-name "$stack" \
    --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
    --parameter-overrides HostedZoneId="$zone_id" ZoneName="$zone_name" RecordNamePatterns="$patterns"
aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='Endpoint'].OutputValue" --output text
