/**
 * TEST STAND-IN for AWS KMS: a loopback HTTP server speaking the KMS JSON 1.1 protocol
 * (`X-Amz-Target: TrentService.<Op>`, base64 blobs, `{"__type","message"}` errors with status 400),
 * so tests drive the real `@aws-sdk/client-kms` over real HTTP.
 *
 * Operations: CreateKey (with Policy), DescribeKey, GetPublicKey, Sign, Verify, Encrypt, Decrypt (with
 * Recipient), GenerateDataKey, PutKeyPolicy, GetKeyPolicy. It refuses what AWS refuses: RAW messages
 * over 4096 bytes, an algorithm or operation the key spec does not support, a disabled key, a
 * mismatched EncryptionContext, and whatever the key's policy document denies (kms-policy.ts), with
 * the condition keys AWS sets: `aws:MultiFactorAuthPresent` (for session credentials; true when the
 * STS stand-in issued them for an MFA code), `kms:RecipientAttestation:ImageSha384` and
 * `…:PCR<n>` (from a Recipient attestation document that verifies against `attestationRoot`), and
 * `kms:EncryptionContext:<key>`.
 *
 * What it does NOT do:
 * - It does not verify SigV4 signatures. It reads the access key id from the Authorization header's
 *   `Credential=` field (and the session token header) only to apply the deny list and key policies.
 * - Attestation documents are verified only when `attestationRoot` is given (tests pin the development
 *   root, as real KMS pins the AWS Nitro root); without it, the RSA key is read from the document's
 *   `public_key` as is and no attestation condition key is set.
 * - Ciphertext blobs are its own format, not AWS's.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
  sign,
  verify,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { verifyAttestation } from '../../src/attestation/index.ts';
import type { KeyPolicy } from '../../src/keys/aws/key-policies.ts';
import { defaultKeyPolicy, evaluateKeyPolicy } from './kms-policy.ts';
import { buildRecipientCms, unverifiedAttestationPublicKey } from './kms-recipient.ts';

export type TestKeySpec = 'ECC_NIST_EDWARDS25519' | 'ECC_NIST_P256' | 'SYMMETRIC_DEFAULT';

export interface KmsRequestInfo {
  operation: string;
  keyId?: string;
  accessKeyId?: string;
  sessionToken?: string;
  /** PCR0 of the Recipient attestation document, when one verified. */
  recipientImageSha384?: string;
}

interface TestKey {
  id: string;
  arn: string;
  spec: TestKeySpec;
  usage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
  enabled: boolean;
  created: number;
  description: string;
  privateKey?: KeyObject;
  publicKey?: KeyObject;
  secret?: Buffer;
  policy?: (request: KmsRequestInfo) => boolean;
  document?: KeyPolicy;
  corruptSignatures: boolean;
}

type Failure = 'throttle' | 'internal' | 'hang';

export interface TestKms {
  endpoint: string;
  region: string;
  /** Every request received, in order, with the outcome (`ok` or the error type). */
  readonly requests: Array<KmsRequestInfo & { outcome: string }>;
  createKey(spec: TestKeySpec): string;
  arnOf(keyId: string): string;
  disableKey(keyId: string): void;
  enableKey(keyId: string): void;
  /** Every call made with this access key id is refused with AccessDeniedException. */
  denyAccessKey(accessKeyId: string): void;
  /** A key policy: requests on this key for which `allow` is false get AccessDeniedException. */
  setKeyPolicy(keyId: string, allow: (request: KmsRequestInfo) => boolean): void;
  /** A key policy document, evaluated as AWS does (what PutKeyPolicy sets too). */
  setKeyPolicyDocument(keyId: string, document: KeyPolicy): void;
  /** Which session credentials carry MFA (aws:MultiFactorAuthPresent), e.g. the STS stand-in's. */
  setMfaCheck(
    isMfaSession: (accessKeyId: string | undefined, sessionToken: string | undefined) => boolean,
  ): void;
  /** The ARN requests made with this access key id come from (default: an IAM user of the account). */
  setPrincipal(accessKeyId: string, arn: string): void;
  /** Makes Sign return a signature with one byte flipped: a misbehaving KMS. */
  corruptSignatures(keyId: string, on?: boolean): void;
  /** The next `count` calls to `operation` fail: throttled (400), internal error (500) or never answered. */
  failNext(operation: string, count: number, failure: Failure): void;
  /** Rewrites every CiphertextForRecipient before it is sent: someone tampering on the way. */
  tamperRecipientOutput(rewrite: ((cms: Uint8Array) => Uint8Array) | undefined): void;
  close(): Promise<void>;
}

class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const MAX_RAW_MESSAGE = 4096;
const MAX_PLAINTEXT = 4096;

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const fromB64 = (value: unknown, field: string): Buffer => {
  if (typeof value !== 'string') throw new KmsError('ValidationException', `${field} is required`);
  return Buffer.from(value, 'base64');
};

const canonicalContext = (context: unknown): Buffer => {
  const record = (context ?? {}) as Record<string, string>;
  const entries = Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries));
};

const accessOf = (request: IncomingMessage): { accessKeyId?: string; sessionToken?: string } => {
  const match = /Credential=([^/,\s]+)\//.exec(request.headers.authorization ?? '');
  const token = request.headers['x-amz-security-token'];
  return {
    ...(match?.[1] === undefined ? {} : { accessKeyId: match[1] }),
    ...(typeof token === 'string' ? { sessionToken: token } : {}),
  };
};

const parsePolicy = (text: string): KeyPolicy => {
  try {
    const policy = JSON.parse(text) as KeyPolicy;
    if (!Array.isArray(policy.Statement)) throw new Error('no statements');
    return policy;
  } catch {
    throw new KmsError('MalformedPolicyDocumentException', 'The new key policy is not valid JSON');
  }
};

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

export const startTestKms = async (
  options: {
    region?: string;
    accountId?: string;
    /** PEM root that Recipient attestation documents must chain to (as AWS pins the Nitro root). */
    attestationRoot?: string;
  } = {},
): Promise<TestKms> => {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '111122223333';
  const principals = new Map<string, string>();
  let mfaCheck: (accessKeyId: string | undefined, sessionToken: string | undefined) => boolean = () => false;
  const keys = new Map<string, TestKey>();
  const denied = new Set<string>();
  const failures = new Map<string, { count: number; failure: Failure }>();
  const requests: Array<KmsRequestInfo & { outcome: string }> = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let rewriteRecipientOutput: ((cms: Uint8Array) => Uint8Array) | undefined;

  const createKey = (spec: TestKeySpec, description = ''): TestKey => {
    const id = randomUUID();
    const key: TestKey = {
      id,
      arn: `arn:aws:kms:${region}:${accountId}:key/${id}`,
      spec,
      usage: spec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY',
      enabled: true,
      created: Math.floor(Date.now() / 1000),
      description,
      corruptSignatures: false,
    };
    if (spec === 'SYMMETRIC_DEFAULT') key.secret = randomBytes(32);
    else {
      const pair =
        spec === 'ECC_NIST_EDWARDS25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      key.privateKey = pair.privateKey;
      key.publicKey = pair.publicKey;
    }
    keys.set(id, key);
    return key;
  };

  const findKey = (keyId: unknown): TestKey => {
    if (typeof keyId !== 'string' || keyId === '')
      throw new KmsError('ValidationException', 'KeyId is required');
    const id = keyId.startsWith('arn:') ? keyId.slice(keyId.lastIndexOf('/') + 1) : keyId;
    const key = keys.get(id);
    if (key === undefined) throw new KmsError('NotFoundException', `Key '${keyId}' does not exist`);
    return key;
  };

  const usable = (key: TestKey, usage: TestKey['usage'], operation: string) => {
    if (!key.enabled) throw new KmsError('DisabledException', `${key.arn} is disabled.`);
    if (key.usage !== usage) {
      throw new KmsError(
        'InvalidKeyUsageException',
        `${key.arn} key usage is ${key.usage} which is not valid for ${operation}.`,
      );
    }
  };

  const signingAlgorithms = (key: TestKey) =>
    key.spec === 'ECC_NIST_EDWARDS25519' ? ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] : ['ECDSA_SHA_256'];

  const metadata = (key: TestKey) => ({
    AWSAccountId: accountId,
    KeyId: key.id,
    Arn: key.arn,
    CreationDate: key.created,
    Enabled: key.enabled,
    Description: key.description,
    KeyUsage: key.usage,
    KeyState: key.enabled ? 'Enabled' : 'Disabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    KeySpec: key.spec,
    CustomerMasterKeySpec: key.spec,
    ...(key.usage === 'SIGN_VERIFY'
      ? { SigningAlgorithms: signingAlgorithms(key) }
      : { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }),
  });

  const signatureAlgorithmCheck = (key: TestKey, body: Record<string, unknown>) => {
    const algorithm = body.SigningAlgorithm;
    if (typeof algorithm !== 'string' || !signingAlgorithms(key).includes(algorithm)) {
      throw new KmsError(
        'InvalidKeyUsageException',
        `Algorithm ${String(algorithm)} is incompatible with ${key.spec}.`,
      );
    }
    const message = fromB64(body.Message, 'Message');
    const messageType = body.MessageType ?? 'RAW';
    if (messageType !== 'RAW' || algorithm === 'ED25519_PH_SHA_512') {
      throw new KmsError(
        'ValidationException',
        'This stand-in signs RAW messages with ED25519_SHA_512 or ECDSA_SHA_256 only.',
      );
    }
    if (message.length === 0 || message.length > MAX_RAW_MESSAGE) {
      throw new KmsError(
        'ValidationException',
        "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
      );
    }
    return { message, digest: key.spec === 'ECC_NIST_EDWARDS25519' ? null : 'sha256' };
  };

  const sealFor = (key: TestKey, plaintext: Buffer, context: unknown): Buffer => {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.secret as Buffer, nonce);
    cipher.setAAD(canonicalContext(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from(key.id, 'ascii'), nonce, body, cipher.getAuthTag()]);
  };

  const open = (blob: Buffer, keyId: unknown, context: unknown): { key: TestKey; plaintext: Buffer } => {
    if (blob.length < 36 + 12 + 16) throw new KmsError('InvalidCiphertextException', '');
    const key = keys.get(blob.subarray(0, 36).toString('ascii'));
    if (key === undefined) throw new KmsError('InvalidCiphertextException', '');
    if (keyId !== undefined && findKey(keyId) !== key) {
      throw new KmsError(
        'IncorrectKeyException',
        'The key ID in the request does not identify a KMS key that can perform this operation.',
      );
    }
    usable(key, 'ENCRYPT_DECRYPT', 'Decrypt');
    const decipher = createDecipheriv('aes-256-gcm', key.secret as Buffer, blob.subarray(36, 48));
    decipher.setAAD(canonicalContext(context));
    decipher.setAuthTag(blob.subarray(blob.length - 16));
    try {
      return {
        key,
        plaintext: Buffer.concat([decipher.update(blob.subarray(48, blob.length - 16)), decipher.final()]),
      };
    } catch {
      // As in AWS: a wrong EncryptionContext and a damaged blob are the same error.
      throw new KmsError('InvalidCiphertextException', '');
    }
  };

  /** The Recipient's attestation: verified against `attestationRoot` when given (PCRs then known). */
  const attestationOf = (
    recipient: unknown,
  ): { publicKey: Uint8Array | undefined; pcrs?: Record<number, string> } => {
    const info = recipient as { KeyEncryptionAlgorithm?: unknown; AttestationDocument?: unknown };
    if (info.KeyEncryptionAlgorithm !== 'RSAES_OAEP_SHA_256') {
      throw new KmsError('ValidationException', 'KeyEncryptionAlgorithm must be RSAES_OAEP_SHA_256');
    }
    const document = fromB64(info.AttestationDocument, 'AttestationDocument');
    if (options.attestationRoot === undefined) return { publicKey: unverifiedAttestationPublicKey(document) };
    try {
      const verified = verifyAttestation(document, { root: options.attestationRoot, allowDebug: true });
      return { publicKey: verified.publicKey ?? undefined, pcrs: { ...verified.pcrs } };
    } catch {
      // Modelled as a refusal of this caller: the document proves no enclave KMS may answer.
      throw new KmsError('AccessDeniedException', 'The attestation document in the Recipient is not valid');
    }
  };

  const forRecipient = (recipient: unknown, plaintext: Buffer) => {
    const { publicKey } = attestationOf(recipient);
    if (publicKey === undefined) throw new KmsError('ValidationException', 'Invalid attestation document');
    try {
      if (
        createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' }).asymmetricKeyType !==
        'rsa'
      ) {
        throw new Error('not RSA');
      }
    } catch {
      throw new KmsError('ValidationException', 'The attestation document public key is not an RSA key');
    }
    const cms = buildRecipientCms(plaintext, publicKey);
    return {
      CiphertextForRecipient: b64(rewriteRecipientOutput === undefined ? cms : rewriteRecipientOutput(cms)),
    };
  };

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    CreateKey(body) {
      const spec = (body.KeySpec ?? 'SYMMETRIC_DEFAULT') as TestKeySpec;
      const usage = body.KeyUsage ?? (spec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : undefined);
      const supported: Record<string, string> = {
        SYMMETRIC_DEFAULT: 'ENCRYPT_DECRYPT',
        ECC_NIST_EDWARDS25519: 'SIGN_VERIFY',
        ECC_NIST_P256: 'SIGN_VERIFY',
      };
      if (supported[spec] === undefined || supported[spec] !== usage) {
        throw new KmsError(
          'ValidationException',
          `KeySpec ${spec} with KeyUsage ${String(usage)} is not supported.`,
        );
      }
      const key = createKey(spec, typeof body.Description === 'string' ? body.Description : '');
      if (typeof body.Policy === 'string') key.document = parsePolicy(body.Policy);
      return { KeyMetadata: metadata(key) };
    },
    PutKeyPolicy(body) {
      const key = findKey(body.KeyId);
      if (typeof body.Policy !== 'string') throw new KmsError('ValidationException', 'Policy is required');
      key.document = parsePolicy(body.Policy);
      return {};
    },
    GetKeyPolicy(body) {
      const key = findKey(body.KeyId);
      return { Policy: JSON.stringify(key.document ?? defaultKeyPolicy(accountId)), PolicyName: 'default' };
    },
    DescribeKey: (body) => ({ KeyMetadata: metadata(findKey(body.KeyId)) }),
    GetPublicKey(body) {
      const key = findKey(body.KeyId);
      if (!key.enabled) throw new KmsError('DisabledException', `${key.arn} is disabled.`);
      if (key.publicKey === undefined) {
        throw new KmsError(
          'UnsupportedOperationException',
          `${key.arn} key usage is ENCRYPT_DECRYPT which is not valid for GetPublicKey.`,
        );
      }
      return {
        KeyId: key.arn,
        PublicKey: b64(key.publicKey.export({ format: 'der', type: 'spki' })),
        KeySpec: key.spec,
        CustomerMasterKeySpec: key.spec,
        KeyUsage: key.usage,
        SigningAlgorithms: signingAlgorithms(key),
      };
    },
    Sign(body) {
      const key = findKey(body.KeyId);
      usable(key, 'SIGN_VERIFY', 'Sign');
      const { message, digest } = signatureAlgorithmCheck(key, body);
      const signature = sign(digest, message, key.privateKey as KeyObject);
      if (key.corruptSignatures) signature[0] = (signature[0] ?? 0) ^ 0x01;
      return { KeyId: key.arn, Signature: b64(signature), SigningAlgorithm: body.SigningAlgorithm };
    },
    Verify(body) {
      const key = findKey(body.KeyId);
      usable(key, 'SIGN_VERIFY', 'Verify');
      const { message, digest } = signatureAlgorithmCheck(key, body);
      if (!verify(digest, message, key.publicKey as KeyObject, fromB64(body.Signature, 'Signature'))) {
        throw new KmsError('KMSInvalidSignatureException', '');
      }
      return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: body.SigningAlgorithm };
    },
    Encrypt(body) {
      const key = findKey(body.KeyId);
      usable(key, 'ENCRYPT_DECRYPT', 'Encrypt');
      const plaintext = fromB64(body.Plaintext, 'Plaintext');
      if (plaintext.length === 0 || plaintext.length > MAX_PLAINTEXT) {
        throw new KmsError(
          'ValidationException',
          "Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
        );
      }
      return {
        KeyId: key.arn,
        CiphertextBlob: b64(sealFor(key, plaintext, body.EncryptionContext)),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
    Decrypt(body) {
      const { key, plaintext } = open(
        fromB64(body.CiphertextBlob, 'CiphertextBlob'),
        body.KeyId,
        body.EncryptionContext,
      );
      const out =
        body.Recipient === undefined
          ? { Plaintext: b64(plaintext) }
          : forRecipient(body.Recipient, plaintext);
      return { KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', ...out };
    },
    GenerateDataKey(body) {
      const key = findKey(body.KeyId);
      usable(key, 'ENCRYPT_DECRYPT', 'GenerateDataKey');
      const size =
        typeof body.NumberOfBytes === 'number'
          ? body.NumberOfBytes
          : body.KeySpec === 'AES_128'
            ? 16
            : body.KeySpec === 'AES_256'
              ? 32
              : 0;
      if (size < 1 || size > 1024)
        throw new KmsError('ValidationException', 'Specify KeySpec or NumberOfBytes');
      const plaintext = randomBytes(size);
      const out =
        body.Recipient === undefined
          ? { Plaintext: b64(plaintext) }
          : forRecipient(body.Recipient, plaintext);
      return { KeyId: key.arn, CiphertextBlob: b64(sealFor(key, plaintext, body.EncryptionContext)), ...out };
    },
  };

  const answer = (response: ServerResponse, status: number, payload: unknown) => {
    response.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
    });
    response.end(JSON.stringify(payload));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const target = request.headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith('TrentService.') ? target.slice(13) : '';
    let body: Record<string, unknown> = {};
    const who: KmsRequestInfo = { operation, ...accessOf(request) };
    const entry: KmsRequestInfo & { outcome: string } = { ...who, outcome: 'pending' };
    requests.push(entry);
    try {
      const text = await readBody(request);
      body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      if (typeof body.KeyId === 'string') entry.keyId = body.KeyId;
      const failure = failures.get(operation);
      if (failure !== undefined && failure.count > 0) {
        failure.count -= 1;
        if (failure.failure === 'hang') {
          entry.outcome = 'hang';
          hanging.add(response);
          return;
        }
        throw failure.failure === 'throttle'
          ? new KmsError('ThrottlingException', 'Rate exceeded')
          : new KmsError('KMSInternalException', 'Internal error', 500);
      }
      const run = operations[operation];
      if (run === undefined)
        throw new KmsError('UnknownOperationException', `Unknown operation ${operation}`);
      if (who.accessKeyId === undefined)
        throw new KmsError('MissingAuthenticationTokenException', 'Missing credentials');
      if (denied.has(who.accessKeyId)) {
        throw new KmsError(
          'AccessDeniedException',
          `User ${who.accessKeyId} is not authorized to perform: kms:${operation}`,
        );
      }
      const policyKey =
        typeof body.KeyId === 'string'
          ? keys.get(body.KeyId.slice(body.KeyId.lastIndexOf('/') + 1))
          : operation === 'Decrypt' && typeof body.CiphertextBlob === 'string'
            ? keys.get(Buffer.from(body.CiphertextBlob, 'base64').subarray(0, 36).toString('ascii'))
            : undefined;
      const refused = () =>
        new KmsError(
          'AccessDeniedException',
          `User ${who.accessKeyId} is not authorized to perform: kms:${operation} on resource: ${policyKey?.arn}`,
        );
      if (policyKey?.policy !== undefined && !policyKey.policy({ ...who, keyId: policyKey.id }))
        throw refused();
      if (policyKey?.document !== undefined) {
        const context = new Map<string, string>();
        if (who.sessionToken !== undefined)
          context.set('aws:multifactorauthpresent', String(mfaCheck(who.accessKeyId, who.sessionToken)));
        for (const [key, value] of Object.entries((body.EncryptionContext ?? {}) as Record<string, string>))
          context.set(`kms:encryptioncontext:${key.toLowerCase()}`, value);
        if (body.Recipient !== undefined) {
          const pcrs = attestationOf(body.Recipient).pcrs;
          if (pcrs?.[0] !== undefined) {
            context.set('kms:recipientattestation:imagesha384', pcrs[0]);
            entry.recipientImageSha384 = pcrs[0];
          }
          for (const [index, value] of Object.entries(pcrs ?? {}))
            context.set(`kms:recipientattestation:pcr${index}`, value);
        }
        const principal =
          principals.get(who.accessKeyId) ?? `arn:aws:iam::${accountId}:user/${who.accessKeyId}`;
        if (
          evaluateKeyPolicy(policyKey.document, { action: `kms:${operation}`, principal, context }) === 'deny'
        )
          throw refused();
      }
      const result = run(body);
      entry.outcome = 'ok';
      answer(response, 200, result);
    } catch (error) {
      const failure =
        error instanceof KmsError ? error : new KmsError('KMSInternalException', String(error), 500);
      entry.outcome = failure.type;
      answer(response, failure.status, { __type: failure.type, message: failure.message });
    }
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const keyOf = (keyId: string) => findKey(keyId);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    requests,
    createKey: (spec) => createKey(spec).id,
    arnOf: (keyId) => keyOf(keyId).arn,
    disableKey: (keyId) => {
      keyOf(keyId).enabled = false;
    },
    enableKey: (keyId) => {
      keyOf(keyId).enabled = true;
    },
    denyAccessKey: (accessKeyId) => {
      denied.add(accessKeyId);
    },
    setKeyPolicy: (keyId, allow) => {
      keyOf(keyId).policy = allow;
    },
    setKeyPolicyDocument: (keyId, document) => {
      keyOf(keyId).document = document;
    },
    setMfaCheck: (check) => {
      mfaCheck = check;
    },
    setPrincipal: (accessKeyId, arn) => {
      principals.set(accessKeyId, arn);
    },
    corruptSignatures: (keyId, on = true) => {
      keyOf(keyId).corruptSignatures = on;
    },
    failNext: (operation, count, failure) => {
      failures.set(operation, { count, failure });
    },
    tamperRecipientOutput: (rewrite) => {
      rewriteRecipientOutput = rewrite;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hanging) response.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
};
