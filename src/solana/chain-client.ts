import { Connection } from '@solana/web3.js';
import { createJsonRpcTransport, type JsonRpcTransport, RpcError } from './json-rpc.ts';

export interface RecentBlockhash {
  readonly blockhash: string;
  readonly lastValidBlockHeight: bigint;
}

export type SignatureOutcome =
  | { readonly status: 'confirmed'; readonly slot: bigint }
  | { readonly status: 'failed'; readonly slot: bigint; readonly err: unknown }
  | { readonly status: 'unknown' };

export interface ChainClient {
  readonly rpcUrl: string;
  /** web3.js connection for account readers (Squads decoders take it directly). */
  readonly connection: Connection;
  readonly rpc: JsonRpcTransport;
  /** A blockhash at most `maxAgeMs` old, shared by every caller in that time. */
  recentBlockhash(): Promise<RecentBlockhash>;
  blockHeight(): Promise<bigint>;
  /** Sends signed wire bytes; returns the signature the cluster reports. */
  send(wire: Uint8Array, options?: { skipPreflight?: boolean }): Promise<string>;
  /** Status of many signatures, batched with other callers into one getSignatureStatuses. */
  status(signature: string): Promise<SignatureOutcome>;
  /** Waits until the signature is confirmed or failed, or its blockhash has provably expired. */
  confirm(
    signature: string,
    lastValidBlockHeight: bigint,
    timeoutMs?: number,
  ): Promise<SignatureOutcome | { status: 'expired' }>;
  close(): void;
}

interface StatusValue {
  slot: number;
  err: unknown;
  confirmationStatus?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createChainClient(rpcUrl: string, options: { blockhashMaxAgeMs?: number } = {}): ChainClient {
  const rpc = createJsonRpcTransport(rpcUrl);
  const connection = new Connection(rpcUrl, { commitment: 'confirmed', disableRetryOnRateLimit: true });
  const maxAgeMs = options.blockhashMaxAgeMs ?? 1_000;
  let cached: { value: RecentBlockhash; at: number } | undefined;
  let refreshing: Promise<RecentBlockhash> | undefined;

  const recentBlockhash = async (): Promise<RecentBlockhash> => {
    if (cached && Date.now() - cached.at < maxAgeMs) return cached.value;
    refreshing ??= rpc
      .call<{ value: { blockhash: string; lastValidBlockHeight: number } }>('getLatestBlockhash', [
        { commitment: 'confirmed' },
      ])
      .then(({ value }) => {
        const fresh = {
          blockhash: value.blockhash,
          lastValidBlockHeight: BigInt(value.lastValidBlockHeight),
        };
        cached = { value: fresh, at: Date.now() };
        return fresh;
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };

  // Status look-ups queue here and leave together on the next tick.
  const queue: {
    signature: string;
    resolve: (outcome: SignatureOutcome) => void;
    reject: (error: unknown) => void;
  }[] = [];
  let scheduled = false;
  const flush = async () => {
    scheduled = false;
    const batch = queue.splice(0, 256);
    if (queue.length > 0) schedule();
    try {
      const { value } = await rpc.call<{ value: (StatusValue | null)[] }>('getSignatureStatuses', [
        batch.map((entry) => entry.signature),
        { searchTransactionHistory: true },
      ]);
      batch.forEach((entry, index) => {
        const found = value[index];
        if (!found) entry.resolve({ status: 'unknown' });
        else if (found.err) entry.resolve({ status: 'failed', slot: BigInt(found.slot), err: found.err });
        else entry.resolve({ status: 'confirmed', slot: BigInt(found.slot) });
      });
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  const status = (signature: string) =>
    new Promise<SignatureOutcome>((resolve, reject) => {
      queue.push({ signature, resolve, reject });
      schedule();
    });

  const blockHeight = async () =>
    BigInt(await rpc.call<number>('getBlockHeight', [{ commitment: 'confirmed' }]));

  return {
    rpcUrl,
    connection,
    rpc,
    recentBlockhash,
    blockHeight,
    async send(wire, sendOptions = {}) {
      return rpc.call<string>('sendTransaction', [
        Buffer.from(wire).toString('base64'),
        {
          encoding: 'base64',
          skipPreflight: sendOptions.skipPreflight ?? false,
          preflightCommitment: 'confirmed',
        },
      ]);
    },
    status,
    async confirm(signature, lastValidBlockHeight, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (let pause = 2; ; pause = Math.min(pause * 2, 500)) {
        const outcome = await status(signature);
        if (outcome.status !== 'unknown') return outcome;
        if ((await blockHeight()) > lastValidBlockHeight) {
          // Looked up once more after expiry: a landing just before the height moved still counts.
          const last = await status(signature);
          return last.status === 'unknown' ? { status: 'expired' } : last;
        }
        if (Date.now() > deadline) return { status: 'unknown' };
        await sleep(pause);
      }
    },
    close() {
      rpc.close();
    },
  };
}

export { RpcError };
