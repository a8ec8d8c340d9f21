/**
 * TEST STAND-IN for AWS STS `GetSessionToken` with an MFA device: a loopback HTTP server speaking the
 * AWS Query protocol (form-encoded request, XML answer), so tests drive the real `@aws-sdk/client-sts`.
 *
 * It knows MFA devices by serial number and the one code each currently accepts; a code is accepted
 * once (as AWS refuses a reused code). It issues `ASIA…` session credentials and remembers them, so the
 * KMS stand-in can emulate a key policy conditioned on `aws:MultiFactorAuthPresent`. It does not verify
 * SigV4 signatures.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IssuedSession {
  accessKeyId: string;
  sessionToken: string;
  serialNumber: string;
  durationSeconds: number;
  expiration: Date;
}

export interface TestSts {
  endpoint: string;
  /** Sets the code the device accepts next. */
  setMfaCode(serialNumber: string, code: string): void;
  isMfaSession(accessKeyId: string | undefined, sessionToken: string | undefined): boolean;
  readonly issued: IssuedSession[];
  /** Count of GetSessionToken calls, refused ones included. */
  readonly calls: () => number;
  close(): Promise<void>;
}

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

const fail = (response: ServerResponse, status: number, code: string, message: string) => {
  response.writeHead(status, { 'content-type': 'text/xml' });
  response.end(
    `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  );
};

export const startTestSts = async (): Promise<TestSts> => {
  const codes = new Map<string, string>();
  const issued: IssuedSession[] = [];
  let calls = 0;

  const server = createServer((request, response) => {
    void readBody(request).then((text) => {
      const form = new URLSearchParams(text);
      if (form.get('Action') !== 'GetSessionToken') {
        fail(response, 400, 'InvalidAction', 'Only GetSessionToken is served by this stand-in');
        return;
      }
      calls += 1;
      const serialNumber = form.get('SerialNumber') ?? '';
      const code = form.get('TokenCode') ?? '';
      const durationSeconds = Number(form.get('DurationSeconds') ?? '43200');
      if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 129_600) {
        fail(response, 400, 'ValidationError', 'DurationSeconds must be between 900 and 129600');
        return;
      }
      const expected = codes.get(serialNumber);
      if (expected === undefined || code !== expected) {
        fail(
          response,
          403,
          'AccessDenied',
          'MultiFactorAuthentication failed with invalid MFA one time pass code.',
        );
        return;
      }
      codes.delete(serialNumber);
      const session: IssuedSession = {
        accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
        sessionToken: randomBytes(32).toString('base64'),
        serialNumber,
        durationSeconds,
        expiration: new Date(Date.now() + durationSeconds * 1000),
      };
      issued.push(session);
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(
        `<GetSessionTokenResponse xmlns="${NS}"><GetSessionTokenResult><Credentials>` +
          `<AccessKeyId>${session.accessKeyId}</AccessKeyId>` +
          `<SecretAccessKey>${randomBytes(30).toString('base64')}</SecretAccessKey>` +
          `<SessionToken>${session.sessionToken}</SessionToken>` +
          `<Expiration>${session.expiration.toISOString()}</Expiration>` +
          `</Credentials></GetSessionTokenResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetSessionTokenResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    setMfaCode: (serialNumber, code) => {
      codes.set(serialNumber, code);
    },
    isMfaSession: (accessKeyId, sessionToken) =>
      issued.some(
        (session) =>
          session.accessKeyId === accessKeyId &&
          session.sessionToken === sessionToken &&
          session.expiration > new Date(),
      ),
    issued,
    calls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
