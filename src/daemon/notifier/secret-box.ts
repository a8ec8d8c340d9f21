/**
 * Webhook secrets at rest: the daemon must read them back to sign, so they cannot be hashed like
 * tokens; they are sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the daemon secret,
 * which lives outside the database. A copy of the database alone does not let anyone forge webhooks.
 * The webhook id is the associated data, so a sealed secret cannot be moved to another webhook.
 * Replicas sharing a database must share the daemon secret (they already must, for the key vault).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { WaiaasError } from '../../core/errors.ts';
import { generateToken } from '../../core/tokens.ts';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The AES-256 key that seals webhook secrets. */
export type WebhookSecretKey = Buffer;

export const webhookSecretKey = (daemonSecret: string): WebhookSecretKey =>
  Buffer.from(hkdfSync('sha256', Buffer.from(daemonSecret, 'utf8'), 'waiaas', 'webhook secret v1', 32));

/** A new signing secret: 256 random bits, prefixed so secret scanners (and our scrubber) recognise it. */
export const generateWebhookSecret = (): string => generateToken('waiaas_whsec_');

export const sealWebhookSecret = (key: WebhookSecretKey, webhookId: string, secret: string): string => {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(webhookId, 'utf8'));
  const sealed = Buffer.concat([iv, cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${sealed.toString('base64url')}`;
};

export const openWebhookSecret = (key: WebhookSecretKey, webhookId: string, sealed: string): string => {
  const [version, payload] = sealed.split('.');
  const bytes = Buffer.from(payload ?? '', 'base64url');
  if (version !== VERSION || bytes.length < IV_BYTES + TAG_BYTES) {
    throw new WaiaasError('VAULT_CORRUPT', {
      message: 'A webhook secret is damaged.',
      details: { webhookId },
    });
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(webhookId, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch (error) {
    throw new WaiaasError('VAULT_CONTEXT_MISMATCH', {
      message: 'A webhook secret could not be opened with this daemon secret.',
      details: { webhookId },
      cause: error,
    });
  }
};
