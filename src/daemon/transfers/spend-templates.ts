/**
 * The agent's spendingLimitUse from one wallet, of one asset, to one recipient, is the same message
 * every time but for three fields: the blockhash, the amount and the compute-unit limit. Building it
 * with the Squads builders derives four PDAs (each an elliptic-curve check) and compiles a message:
 * most of the pipeline's own CPU time. So it is built once per (wallet, agent, asset, recipient) and
 * then copied with those three fields written in. The template proves itself when made: a second
 * full build with other values must equal the first one patched, byte for byte, or it is not used.
 */
import { PublicKey } from '@solana/web3.js';
import bs58 from 'bs58';
import { requiredSigners } from '../../keys/sign-transaction.ts';
import { buildAgentTransfer, type TransferAsset } from '../../squads/index.ts';

interface Template {
  readonly bytes: Uint8Array;
  readonly blockhashAt: number;
  readonly amountAt: number;
  readonly unitLimitAt: number;
  readonly signers: readonly string[];
}

export interface SpendParams {
  /** Names the wallet and agent key in the cache (the wallet id and the agent's address). */
  readonly walletKey: string;
  readonly multisig: PublicKey;
  readonly agent: PublicKey;
  readonly asset: TransferAsset;
  readonly destination: string;
  readonly feePayer: PublicKey;
  readonly amount: bigint;
  readonly unitLimit: number;
  readonly blockhash: string;
}

const MAX_TEMPLATES = 10_000;
const PROBE_A = {
  amount: 0x0102030405060708n,
  unitLimit: 1_234_567,
  blockhash: bs58.encode(new Uint8Array(32).fill(0xa5)),
};
const PROBE_B = {
  amount: 0x1112131415161718n,
  unitLimit: 1_111_111,
  blockhash: bs58.encode(new Uint8Array(32).fill(0x5a)),
};

const u64le = (value: bigint) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(value);
  return bytes;
};
const u32le = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return bytes;
};

const build = (params: SpendParams): Uint8Array =>
  buildAgentTransfer({
    multisig: params.multisig,
    agent: params.agent,
    asset: params.asset,
    amount: params.amount,
    destination: new PublicKey(params.destination),
    feePayer: params.feePayer,
    recentBlockhash: params.blockhash,
    computeBudget: { unitLimit: params.unitLimit },
  }).message.serialize();

function patch(
  template: Template,
  fields: Pick<SpendParams, 'amount' | 'unitLimit' | 'blockhash'>,
): Uint8Array {
  const bytes = new Uint8Array(template.bytes);
  bytes.set(bs58.decode(fields.blockhash), template.blockhashAt);
  bytes.set(u64le(fields.amount), template.amountAt);
  bytes.set(u32le(fields.unitLimit), template.unitLimitAt);
  return bytes;
}

function makeTemplate(params: SpendParams): Template | null {
  const first = Buffer.from(build({ ...params, ...PROBE_A }));
  const second = build({ ...params, ...PROBE_B });
  const at = (needle: Uint8Array) => {
    const index = first.indexOf(needle);
    return index >= 0 && first.indexOf(needle, index + 1) < 0 ? index : -1;
  };
  const blockhashAt = at(bs58.decode(PROBE_A.blockhash));
  const amountAt = at(u64le(PROBE_A.amount));
  const unitLimitAt = at(u32le(PROBE_A.unitLimit));
  if (blockhashAt < 0 || amountAt < 0 || unitLimitAt < 0) return null;
  const template = {
    bytes: new Uint8Array(first),
    blockhashAt,
    amountAt,
    unitLimitAt,
    signers: requiredSigners(first),
  };
  return Buffer.from(patch(template, PROBE_B)).equals(second) ? template : null;
}

/** One per daemon: the fee payer is part of every message, and fixed for the daemon's life. */
export class SpendTemplates {
  readonly #templates = new Map<string, Template | null>();

  /** The message bytes and their signers, from the template when there is one. */
  message(params: SpendParams): { message: Uint8Array; signers: readonly string[] } {
    const asset =
      params.asset === 'SOL'
        ? 'SOL'
        : `${params.asset.mint.toBase58()}:${params.asset.decimals}:${params.asset.tokenProgram?.toBase58() ?? ''}`;
    const key = `${params.walletKey}|${asset}|${params.destination}`;
    let template = this.#templates.get(key);
    if (template === undefined) {
      template = makeTemplate(params);
      if (this.#templates.size >= MAX_TEMPLATES) this.#templates.clear();
      this.#templates.set(key, template);
    }
    if (template === null) {
      const message = build(params);
      return { message, signers: requiredSigners(message) };
    }
    return { message: patch(template, params), signers: template.signers };
  }
}
