#!/bin/sh
# On the parent instance: the enclave image, its EIF and the measurement to pin.
#   deploy/nitro/build-enclave.sh KMS_KEY_ARN REGION [OUT_DIR]
# Needs Docker and the Nitro CLI (aws-nitro-enclaves-cli): neither runs outside an AWS parent.
set -eu
KMS_KEY_ARN="${1:?usage: build-enclave.sh KMS_KEY_ARN REGION [OUT_DIR]}"
REGION="${2:?usage: build-enclave.sh KMS_KEY_ARN REGION [OUT_DIR]}"
OUT="${3:-./enclave-build}"
mkdir -p "$OUT"
# One timestamp for every file in the image: the commit's, so two builds of one commit agree.
SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)"
export SOURCE_DATE_EPOCH
docker build -f deploy/nitro/Dockerfile \
  --build-arg KMS_KEY_ARN="$KMS_KEY_ARN" --build-arg AWS_REGION="$REGION" \
  --build-arg SOURCE_DATE_EPOCH \
  -t waiaas-enclave:latest .
nitro-cli build-enclave --docker-uri waiaas-enclave:latest --output-file "$OUT/waiaas-enclave.eif" \
  > "$OUT/build-enclave.json"
node bin/waiaas.mjs enclave measure --nitro "$OUT/build-enclave.json"
