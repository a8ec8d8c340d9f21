/**
 * Deterministic JSON: object keys sorted by UTF-16 code units at every level, no whitespace, arrays in
 * their given order. Two parties that hold the same value produce the same bytes, so the bytes can be
 * hashed and signed. Only plain JSON values are accepted (no undefined, no non-finite or unsafe numbers,
 * no bigint): a value that JSON cannot carry exactly has no canonical form.
 */
export type CanonicalJsonValue =
  | string
  | number
  | boolean
  | null
  | readonly CanonicalJsonValue[]
  | { readonly [key: string]: CanonicalJsonValue };

const encodeValue = (value: unknown, path: string): string => {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError(`canonical JSON: ${path} is not a safe integer`);
      return String(value);
    case 'object': {
      if (Array.isArray(value))
        return `[${value.map((item, index) => encodeValue(item, `${path}[${index}]`)).join(',')}]`;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      const members = keys.map(
        (key) => `${JSON.stringify(key)}:${encodeValue(record[key], `${path}.${key}`)}`,
      );
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON: ${path} has type ${typeof value}`);
  }
};

export const canonicalJson = (value: CanonicalJsonValue): string => encodeValue(value, '$');

export const canonicalJsonBytes = (value: CanonicalJsonValue): Uint8Array =>
  new TextEncoder().encode(canonicalJson(value));
