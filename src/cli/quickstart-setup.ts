/**
 * Quickstart's first-run set-up, through the daemon's own API: an owner (local keystore), a wallet
 * with the starter policy, 10 SOL airdropped to it and an agent session; then what to paste into an
 * MCP client and the SDK.
 *
 * Each step is recorded in <data dir>/quickstart.json (owner-only) as soon as it is done, with the
 * secrets the end of the set-up shows (owner token, passphrase, agent token) kept there only until
 * they are shown; a run that stopped half-way is finished by the next one, never begun again, so a
 * retry never makes a second owner or leaves a keystore nobody has the passphrase of.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../core/errors.ts';
import { generateToken, hashToken } from '../core/tokens.ts';
import type { Config } from '../daemon/config.ts';
import { createClient, formatSol, type WirePolicy } from '../sdk/index.ts';
import { insertOperatorToken, revokeOperatorToken } from '../store/index.ts';
import type { JsonFlags } from './flags.ts';
import { toJson } from './output.ts';
import type { Started } from './serve.ts';
import { bold, green } from './ui.ts';

const binPath = fileURLToPath(new URL('../../bin/waiaas.mjs', import.meta.url));
const AIRDROP_LAMPORTS = 10_000_000_000n;
const SESSION_SECONDS = 30 * 24 * 3600;
const WALLET_NAME = 'Quickstart wallet';

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

/** What quickstart.json holds: the steps done, and until the end is shown, the secrets to show. */
interface QuickstartState {
  status: 'setting-up' | 'ready';
  ownerId?: string;
  ownerToken?: string;
  passphrase?: string;
  walletId?: string;
  vault?: string;
  funded?: boolean;
  sessionId?: string;
  sessionToken?: string;
  sessionExpiresAt?: string;
  createdAt?: string;
}

export function requireLocalnet(config: Config): void {
  if (config.network !== 'localnet') {
    throw new WaiaasError('VALIDATION_FAILED', {
      message:
        'quickstart sets up a wallet on localnet only; on devnet or mainnet use waiaas owner/wallet commands.',
    });
  }
}

const statePathOf = (config: Config) => join(config.dataDir, 'quickstart.json');

const readState = (path: string): QuickstartState =>
  existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as QuickstartState) : { status: 'setting-up' };

const saveState = (path: string, state: QuickstartState) => {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
};

/** The README's SDK example (README.md, "Using it"), as quickstart prints it: runnable as it is. */
export const sdkSnippet = (url: string): string[] => [
  "import { createClient, sol } from 'waiaas/sdk';",
  '',
  'const waiaas = createClient({',
  `  url: process.env.WAIAAS_URL ?? '${url}',`,
  '  token: process.env.WAIAAS_SESSION_TOKEN,',
  '});',
  'const { walletId } = await waiaas.sessions.current(); // the wallet this token is bound to',
  'const sent = await waiaas.transfers.send(walletId, {',
  "  to: process.env.RECIPIENT ?? '<recipient address>',",
  "  amount: sol('0.05'),",
  '});',
  'console.log(sent.status, sent.id);',
];

export async function quickstartSetUp(started: Started, flags: JsonFlags): Promise<void> {
  const { config } = started;
  const statePath = statePathOf(config);
  const state = readState(statePath);
  if (state.status === 'ready') {
    const line = `quickstart wallet ${state.walletId} at ${state.vault} (set up ${state.createdAt}; tokens were shown then — issue a new agent session with \`waiaas session create\`)`;
    process.stdout.write(
      `${flags.json ? toJson({ quickstart: 'done', walletId: state.walletId, vault: state.vault, createdAt: state.createdAt }) : `\n${line}`}\n`,
    );
    return;
  }
  try {
    await completeSteps(started, statePath, state);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `quickstart stopped half-way (${reason}); run it again to finish the set-up where it stopped.`,
      {
        cause: error,
      },
    );
  }
  printSetUp(started, state, flags);
  saveState(statePath, {
    status: 'ready',
    ownerId: state.ownerId!,
    walletId: state.walletId!,
    vault: state.vault!,
    sessionId: state.sessionId!,
    createdAt: new Date().toISOString(),
  });
}

async function completeSteps({ daemon, store }: Started, statePath: string, state: QuickstartState) {
  const save = () => saveState(statePath, state);
  if (!state.ownerId || !state.ownerToken || !state.passphrase) {
    // A one-off operator token for this step, revoked at once: the printed operator token stays the only one.
    const operatorToken = generateToken('waiaas_op_');
    const { id } = await insertOperatorToken(store.db, {
      tokenHash: hashToken(operatorToken),
      label: 'quickstart',
    });
    try {
      const passphrase = randomBytes(18).toString('base64url');
      const owner = await createClient({ url: daemon.url, token: operatorToken }).owners.create({
        name: 'Quickstart owner',
        signer: { kind: 'local', passphrase },
      });
      Object.assign(state, { ownerId: owner.id, ownerToken: owner.token, passphrase });
      save();
    } finally {
      await revokeOperatorToken(store.db, id);
    }
  }
  const owner = createClient({ url: daemon.url, token: state.ownerToken!, ownerUnlock: state.passphrase! });
  if (!state.walletId) {
    // A wallet made just before an interruption, its id not yet written down, is taken over.
    const made = (await owner.wallets.list().toArray(10)).find((wallet) => wallet.name === WALLET_NAME);
    const wallet = made ?? (await owner.wallets.create({ name: WALLET_NAME, policy: starterPolicy }));
    Object.assign(state, { walletId: wallet.id, vault: wallet.vault });
    save();
  }
  if (!state.funded) {
    const { sol } = await owner.balance(state.walletId!);
    if (sol < AIRDROP_LAMPORTS) {
      const chain = daemon.runtime.chain;
      const airdrop = await chain.connection.requestAirdrop(
        new PublicKey(state.vault!),
        Number(AIRDROP_LAMPORTS - sol),
      );
      await chain.confirm(airdrop, (await chain.recentBlockhash()).lastValidBlockHeight);
    }
    state.funded = true;
    save();
  }
  if (!state.sessionId || !state.sessionToken) {
    // A session whose token was never written down can never be shown: revoke it, issue one that is.
    for (const stray of await owner.sessions.list(state.walletId!)) {
      if (stray.status === 'active') await owner.sessions.revoke(stray.id);
    }
    const session = await owner.sessions.create(state.walletId!, {
      ttlSeconds: SESSION_SECONDS,
      label: 'quickstart',
    });
    Object.assign(state, {
      sessionId: session.id,
      sessionToken: session.token,
      sessionExpiresAt: session.expiresAt,
    });
    save();
  }
}

function printSetUp({ config, daemon }: Started, state: QuickstartState, flags: JsonFlags): void {
  // The agent needs only the URL and its token: the daemon tells it its wallet (GET /v1/session).
  const mcpConfig = {
    mcpServers: {
      waiaas: {
        command: process.execPath,
        args: [binPath, 'mcp'],
        env: { WAIAAS_URL: daemon.url, WAIAAS_SESSION_TOKEN: state.sessionToken! },
      },
    },
  };
  if (flags.json) {
    process.stdout.write(
      `${toJson({
        owner: {
          id: state.ownerId,
          token: state.ownerToken,
          passphrase: state.passphrase,
          keystoreDir: join(config.dataDir, 'keys'),
        },
        wallet: { id: state.walletId, address: state.vault, airdropped: AIRDROP_LAMPORTS },
        policy: starterPolicy,
        session: { id: state.sessionId, token: state.sessionToken, expiresAt: state.sessionExpiresAt },
        mcp: mcpConfig,
        sdk: sdkSnippet(daemon.url).join('\n'),
      })}\n`,
    );
    return;
  }
  process.stdout.write(
    `${[
      '',
      green(bold('Quickstart ready')),
      `owner            ${state.ownerId}  (key in ${config.dataDir}/keys)`,
      `owner token      ${state.ownerToken}`,
      `owner passphrase ${state.passphrase}`,
      '                 (both shown once: the passphrase is the second factor for owner acts)',
      `wallet           ${state.walletId}`,
      `wallet address   ${state.vault}  (${formatSol(AIRDROP_LAMPORTS)} SOL airdropped)`,
      'policy           up to 0.1 SOL instant, 0.5 notify, 1 delayed 15 min, up to 5 with your approval; 2 SOL a day',
      `agent session    ${state.sessionId}  (expires ${state.sessionExpiresAt}; revoke: waiaas session revoke ${state.sessionId})`,
      `agent token      ${state.sessionToken}`,
      '',
      bold('MCP client configuration (e.g. claude_desktop_config.json):'),
      JSON.stringify(mcpConfig, null, 2),
      '',
      bold('SDK (npm install <this checkout>; an ES module, e.g. agent.mjs):'),
      ...sdkSnippet(daemon.url),
    ].join('\n')}\n`,
  );
}
