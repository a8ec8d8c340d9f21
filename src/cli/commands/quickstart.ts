import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import { generateToken, hashToken } from '../../core/tokens.ts';
import { createClient, formatSol, type WirePolicy } from '../../sdk/index.ts';
import { insertOperatorToken, revokeOperatorToken } from '../../store/index.ts';
import { bold, green } from '../ui.ts';
import { type Started, serve } from './start.ts';

const binPath = fileURLToPath(new URL('../../../bin/waiaas.mjs', import.meta.url));
const AIRDROP_LAMPORTS = 10_000_000_000;

/**
 * A sensible first policy: SOL only, any recipient; up to 0.1 instant, 0.5 notify, 1 delayed 15 min,
 * up to 5 with the owner's approval; 2 SOL a day of autonomous spending.
 */
export const starterPolicy: WirePolicy = {
  version: 1,
  assets: {
    SOL: {
      perTransaction: '5000000000',
      daily: '2000000000',
      tiers: { instantMax: '100000000', notifyMax: '500000000', delayMax: '1000000000', delaySeconds: 900 },
    },
  },
  recipients: { mode: 'any' },
  hours: { utc: [0, 24], days: [0, 1, 2, 3, 4, 5, 6] },
  rate: { maxPerHour: 120 },
  approvalTimeoutSeconds: 3600,
};

interface QuickstartState {
  ownerId: string;
  walletId: string;
  vault: string;
  createdAt: string;
}

/**
 * `waiaas quickstart`: the daemon on localnet, and on the first run an owner (local keystore), a
 * wallet with the starter policy, 10 SOL airdropped to it and an agent session — then the MCP
 * client configuration and an SDK example to paste.
 */
export async function run(_args: string[]): Promise<number> {
  return serve(async (started) => {
    if (started.config.network !== 'localnet') {
      throw new WaiaasError('VALIDATION_FAILED', {
        message:
          'quickstart sets up a wallet on localnet only; on devnet or mainnet use waiaas owner/wallet commands.',
      });
    }
    const statePath = join(started.config.dataDir, 'quickstart.json');
    if (existsSync(statePath)) {
      const state = JSON.parse(readFileSync(statePath, 'utf8')) as QuickstartState;
      console.log(
        `\nquickstart wallet ${state.walletId} at ${state.vault} (set up ${state.createdAt}; tokens were shown then — ` +
          'issue a new agent session with `waiaas session create`)',
      );
      return;
    }
    console.log(`\n${await setUp(started, statePath)}`);
  });
}

async function setUp({ daemon, store, config }: Started, statePath: string): Promise<string> {
  // A one-off operator token for this set-up, revoked at the end: the printed master token stays the only one.
  const operatorToken = generateToken('waiaas_op_');
  const { id: operatorTokenId } = await insertOperatorToken(store.db, {
    tokenHash: hashToken(operatorToken),
    label: 'quickstart',
  });
  try {
    const passphrase = randomBytes(18).toString('base64url');
    const owner = await createClient({ url: daemon.url, token: operatorToken }).owners.create({
      name: 'Quickstart owner',
      signer: { kind: 'local', passphrase },
    });
    const ownerClient = createClient({ url: daemon.url, token: owner.token, ownerUnlock: passphrase });
    const wallet = await ownerClient.wallets.create({ name: 'Quickstart wallet', policy: starterPolicy });
    const connection = daemon.runtime.chain.connection;
    const airdrop = await connection.requestAirdrop(new PublicKey(wallet.vault), AIRDROP_LAMPORTS);
    await daemon.runtime.chain.confirm(
      airdrop,
      (await daemon.runtime.chain.recentBlockhash()).lastValidBlockHeight,
    );
    const session = await ownerClient.sessions.create(wallet.id, {
      ttlSeconds: 30 * 24 * 3600,
      label: 'quickstart',
    });
    writeFileSync(
      statePath,
      `${JSON.stringify({ ownerId: owner.id, walletId: wallet.id, vault: wallet.vault, createdAt: new Date().toISOString() } satisfies QuickstartState, null, 2)}\n`,
      { mode: 0o600 },
    );

    const mcpConfig = {
      mcpServers: {
        waiaas: {
          command: process.execPath,
          args: [binPath, 'mcp'],
          env: { WAIAAS_URL: daemon.url, WAIAAS_SESSION_TOKEN: session.token, WAIAAS_WALLET_ID: wallet.id },
        },
      },
    };
    return [
      green(bold('Quickstart ready')),
      `owner           ${owner.id}  (key in ${config.dataDir}/keys)`,
      `owner token     ${owner.token}`,
      `owner passphrase ${passphrase}`,
      '                (both shown once: the passphrase is the second factor for owner acts)',
      `wallet          ${wallet.id}`,
      `wallet address  ${wallet.vault}  (${formatSol(BigInt(AIRDROP_LAMPORTS))} SOL airdropped)`,
      `policy          up to 0.1 SOL instant, 0.5 notify, 1 delayed 15 min, up to 5 with your approval; 2 SOL a day`,
      `agent token     ${session.token}`,
      '',
      bold('MCP client configuration (e.g. claude_desktop_config.json):'),
      JSON.stringify(mcpConfig, null, 2),
      '',
      bold('SDK:'),
      "import { createClient, sol } from 'waiaas/sdk';",
      `const waiaas = createClient({ url: '${daemon.url}', token: process.env.WAIAAS_SESSION_TOKEN });`,
      `await waiaas.transfers.send('${wallet.id}', { to: '<recipient address>', amount: sol('0.01') });`,
    ].join('\n');
  } finally {
    await revokeOperatorToken(store.db, operatorTokenId);
  }
}
