import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Keypair } from '@solana/web3.js';
import type { Address } from '../../core/address.ts';
import { decryptKeystore, encryptKeystore } from '../../keys/keystore.ts';
import { readKeystoreFile, writeKeystoreFile } from '../../keys/keystore-file.ts';

/**
 * The daemon's fee payer: pays fees and rent for every wallet, never holds wallet funds. Its seed is
 * kept in a keystore under the daemon secret and held in memory while the daemon runs, because it
 * signs every transaction.
 */
export async function loadFeePayer(keystorePath: string, passphrase: string): Promise<Keypair> {
  if (!existsSync(keystorePath)) {
    const seed = randomBytes(32);
    try {
      const publicKey = Keypair.fromSeed(seed).publicKey.toBase58() as Address;
      await writeKeystoreFile(
        keystorePath,
        await encryptKeystore({ purpose: 'owner-key', secret: seed, publicKey }, passphrase),
      );
    } finally {
      seed.fill(0);
    }
  }
  const { secret } = await decryptKeystore(await readKeystoreFile(keystorePath), passphrase, 'owner-key');
  try {
    return Keypair.fromSeed(secret);
  } finally {
    secret.fill(0);
  }
}
