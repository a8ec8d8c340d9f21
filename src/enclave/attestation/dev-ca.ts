import {
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WaiaasError } from '../../core/errors.ts';
import { issueCertificate } from './x509.ts';

/** A development CA: a P-384 root and the leaf that signs attestation documents. */
export interface DevCertificateAuthority {
  readonly rootCertificate: Uint8Array;
  readonly rootCertificatePem: string;
  readonly leafCertificate: Uint8Array;
  readonly leafKey: KeyObject;
}

export const DEV_CA_FILE = 'dev-attestation-ca.json';
/** The root alone, for the host to pin (`waiaas attestation verify --root`). */
export const DEV_ROOT_FILE = 'dev-attestation-root.pem';

const ORGANIZATION = 'WAIaaS development attestation (not a Nitro Enclave)';
const HOUR_MS = 3_600_000;
const YEAR_MS = 365 * 24 * HOUR_MS;

interface StoredCa {
  readonly version: 1;
  readonly rootCertificate: string;
  readonly rootPrivateKey: string;
  readonly leafCertificate: string;
  readonly leafPrivateKey: string;
}

const caInvalid = (file: string, problem: string) =>
  new WaiaasError('CONFIG_INVALID', {
    message: `Development attestation CA unusable: ${problem}`,
    details: { key: 'attestation.dev.dir', file, problem },
  });

const p384 = () => generateKeyPairSync('ec', { namedCurve: 'P-384' });
const pkcs8Pem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();

const createCa = (now: number): StoredCa => {
  const root = p384();
  const leaf = p384();
  // Backdated an hour so a host whose clock is slightly behind still accepts a fresh CA.
  const common = { organization: ORGANIZATION, notBefore: new Date(now - HOUR_MS) };
  const rootDer = issueCertificate({
    ...common,
    subjectCommonName: 'waiaas-dev-root',
    issuerCommonName: 'waiaas-dev-root',
    subjectKey: root.publicKey,
    issuerKey: root.privateKey,
    notAfter: new Date(now + 20 * YEAR_MS),
    isCa: true,
  });
  const leafDer = issueCertificate({
    ...common,
    subjectCommonName: `waiaas-dev-enclave-${randomBytes(4).toString('hex')}`,
    issuerCommonName: 'waiaas-dev-root',
    subjectKey: leaf.publicKey,
    issuerKey: root.privateKey,
    notAfter: new Date(now + 10 * YEAR_MS),
    isCa: false,
  });
  return {
    version: 1,
    rootCertificate: new X509Certificate(rootDer).toString(),
    rootPrivateKey: pkcs8Pem(root.privateKey),
    leafCertificate: new X509Certificate(leafDer).toString(),
    leafPrivateKey: pkcs8Pem(leaf.privateKey),
  };
};

/** Creates the file only if absent (write a private temp file, then hard-link it into place). */
const createExclusively = async (file: string, contents: string): Promise<void> => {
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, contents, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary);
  }
};

const readStored = async (file: string): Promise<StoredCa> => {
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) {
    throw caInvalid(
      file,
      'the keys file is readable by other users; chmod 600 it or delete it to start over',
    );
  }
  let parsed: Partial<StoredCa>;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<StoredCa>;
  } catch {
    throw caInvalid(file, 'the keys file is not JSON');
  }
  if (parsed.version !== 1) throw caInvalid(file, 'unknown keys file version');
  return parsed as StoredCa;
};

const toAuthority = (stored: StoredCa, file: string): DevCertificateAuthority => {
  let root: X509Certificate;
  let leaf: X509Certificate;
  let leafKey: KeyObject;
  try {
    root = new X509Certificate(stored.rootCertificate);
    leaf = new X509Certificate(stored.leafCertificate);
    leafKey = createPrivateKey(stored.leafPrivateKey);
    createPrivateKey(stored.rootPrivateKey);
  } catch {
    throw caInvalid(file, 'a certificate or key in the keys file does not parse');
  }
  if (!root.ca || !leaf.checkIssued(root) || !leaf.verify(root.publicKey)) {
    throw caInvalid(file, 'the leaf certificate is not issued by the root');
  }
  if (!leaf.checkPrivateKey(leafKey)) throw caInvalid(file, 'the leaf key does not match its certificate');
  return {
    rootCertificate: new Uint8Array(root.raw),
    rootCertificatePem: root.toString(),
    leafCertificate: new Uint8Array(leaf.raw),
    leafKey,
  };
};

const loadOrCreate = async (dir: string, now: number): Promise<DevCertificateAuthority> => {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, DEV_CA_FILE);
  try {
    await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await createExclusively(file, JSON.stringify(createCa(now), null, 2));
  }
  const authority = toAuthority(await readStored(file), file);
  await writeFile(path.join(dir, DEV_ROOT_FILE), authority.rootCertificatePem);
  return authority;
};

/**
 * Loads the development CA from `dir`, creating it on first run. The keys live in one file of mode
 * 0600 so root and leaf can never get out of step; the root certificate is also written alone.
 */
export const loadOrCreateDevCa = async (
  dir: string,
  now: number = Date.now(),
): Promise<DevCertificateAuthority> => {
  try {
    return await loadOrCreate(dir, now);
  } catch (error) {
    const syscall = (error as NodeJS.ErrnoException).syscall;
    if (error instanceof WaiaasError || syscall === undefined) throw error;
    throw caInvalid(
      dir,
      `cannot read or create it (${(error as NodeJS.ErrnoException).code ?? 'I/O error'})`,
    );
  }
};
