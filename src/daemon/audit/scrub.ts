/**
 * What may enter the audit log (and webhook payloads): plain JSON without secrets.
 *
 * - A key that names a secret (…token, passphrase, password, secret, seed, mnemonic, unlock,
 *   authorization, cookie, private key, api key) is dropped with its value, whatever the value is.
 *   "token" counts only at the end of a name (sessionToken), so SPL fields (tokenMint) survive.
 * - A string that looks like one of our bearer tokens or webhook secrets (`waiaas_<kind>_<random>`)
 *   is never written: it is replaced by "[redacted]", wherever it sits (a memo, an error text).
 * - Bytes (Buffer, typed arrays) are replaced too: key material travels as bytes.
 * - bigint becomes its decimal string, Date its ISO string; undefined, functions and symbols vanish;
 *   very long strings, big arrays and deep nesting are cut, so a caller cannot bloat the chain.
 */
import type { CanonicalJsonValue } from '../../core/canonical-json.ts';

export const REDACTED = '[redacted]';

// "…token" at the end only: a bearer or session token, not an SPL `tokenMint` or `tokenAccount`.
const SECRET_KEY_NAME =
  /tokens?$|passphrase|password|secret|seed|mnemonic|unlock|authorization|cookie|private_?key|api_?key/i;
/** Our tokens: `waiaas_op_`, `waiaas_own_`, `waiaas_ses_`, `waiaas_whsec_` + base64url randomness. */
const OUR_TOKEN = /waiaas_[a-z]+_[A-Za-z0-9_-]{16,}/;

const MAX_STRING = 2000;
const MAX_ARRAY = 100;
const MAX_DEPTH = 8;

export const isSecretKeyName = (key: string): boolean => SECRET_KEY_NAME.test(key);
export const looksLikeOurToken = (value: string): boolean => OUR_TOKEN.test(value);

const scrubString = (value: string): string => {
  if (looksLikeOurToken(value)) return REDACTED;
  return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
};

const scrubValue = (value: unknown, depth: number): CanonicalJsonValue | undefined => {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return scrubString(value);
    case 'boolean':
      return value;
    case 'number':
      return Number.isSafeInteger(value) ? value : Number.isFinite(value) ? String(value) : null;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return REDACTED;
  if (Array.isArray(value)) {
    return value
      .slice(0, MAX_ARRAY)
      .map((item) => scrubValue(item, depth + 1))
      .map((item) => (item === undefined ? null : item));
  }
  return scrubRecord(value as Record<string, unknown>, depth + 1);
};

const scrubRecord = (
  record: Record<string, unknown>,
  depth: number,
): { [key: string]: CanonicalJsonValue } => {
  const clean: { [key: string]: CanonicalJsonValue } = {};
  for (const [key, value] of Object.entries(record)) {
    if (isSecretKeyName(key) || looksLikeOurToken(key)) continue;
    const scrubbed = scrubValue(value, depth);
    if (scrubbed !== undefined) clean[key] = scrubbed;
  }
  return clean;
};

/** The details of an audit entry or webhook event, safe to store and to hash. */
export const scrubDetails = (
  details: Record<string, unknown> | undefined,
): { [key: string]: CanonicalJsonValue } => scrubRecord(details ?? {}, 0);

/** A single free-text field (an entry's subject): a token-looking value is never kept. */
export const scrubText = (value: string | undefined): string | null =>
  value === undefined ? null : scrubString(value);
