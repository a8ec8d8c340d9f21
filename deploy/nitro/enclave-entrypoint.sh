#!/bin/sh
# The agent enclave's entry point inside the Nitro Enclave. Everything here is part of the measured
# image (PCR0), the seal key ARN and region included: a host cannot point the enclave at another key.
#   - loopback up (an enclave starts with every interface down);
#   - KMS through the parent's vsock-proxy (vsock CID 3 = the parent, port 8000): kms.<region>
#     resolves to 127.0.0.1, socat carries the TCP bytes to vsock, TLS stays end to end with KMS;
#   - the enclave main: its journal in memory, seeds sealed to KMS with the NSM's attestation, the
#     protocol on vsock port 5000 (socat to its Unix socket, src/enclave/vsock-bridge.ts).
set -eu
: "${WAIAAS_KMS_KEY_ARN:?the image is built with --build-arg KMS_KEY_ARN=…}"
: "${WAIAAS_AWS_REGION:?the image is built with --build-arg AWS_REGION=…}"
ip link set lo up
echo "127.0.0.1 kms.${WAIAAS_AWS_REGION}.amazonaws.com" >> /etc/hosts
socat TCP-LISTEN:443,bind=127.0.0.1,fork,reuseaddr VSOCK-CONNECT:3:8000 &
exec node --max-semi-space-size=1 --max-old-space-size=512 --expose-gc /app/enclave.mjs \
  --vsock 5000 \
  --state-dir /run/waiaas-enclave \
  --attestation nitro \
  --vault aws-kms \
  --kms-key-id "$WAIAAS_KMS_KEY_ARN" \
  --kms-region "$WAIAAS_AWS_REGION"
