import { pino } from 'pino';

/** Header and field names that may carry a secret; pino replaces their values before anything is written. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-owner-unlock"]',
  'headers.authorization',
  'headers["x-owner-unlock"]',
  '*.passphrase',
  '*.token',
  '*.masterToken',
  '*.seed',
  '*.secretKey',
];

export function createLogger(level: string, destination?: pino.DestinationStream) {
  return pino(
    { level, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { service: 'waiaas' } },
    destination,
  );
}

export type Logger = pino.Logger;
