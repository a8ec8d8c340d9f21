import bs58 from 'bs58';
import { messageAccountKeys } from '../chain/message-accounts.ts';
import { describeTransactionError, type TransactionErrorJson } from '../chain/transaction-error.ts';
import type { ExecutionDetails } from '../chain/transaction-history.ts';
import { detailsOf, type TransactionRecord } from '../chain/transaction-history.ts';
import { decodeWireTransaction, WireFormatError } from '../chain/wire-transaction.ts';
import { type RpcContext, type RpcHandler, withContext } from './context.ts';
import { accountView, encodeAccount } from './encode-account.ts';
import { invalidParams, RpcError, RpcErrorCode } from './errors.ts';
import { address, array, config, oneOf, optionalBoolean, signature, unsignedInteger } from './params.ts';
import { parsedInnerInstructions, parsedMessage } from './parsed-instructions.ts';

function decodeTransactionParam(value: unknown, encoding: 'base58' | 'base64'): Uint8Array {
  if (typeof value !== 'string')
    throw invalidParams('Invalid params: expected an encoded transaction string');
  if (encoding === 'base64') return Buffer.from(value, 'base64');
  try {
    return bs58.decode(value);
  } catch {
    throw invalidParams('invalid base58 encoding: InvalidCharacter');
  }
}

const deserializeError = (error: unknown): RpcError => {
  if (error instanceof WireFormatError) {
    return invalidParams(
      `failed to deserialize solana_transaction::versioned::VersionedTransaction: ${error.message}`,
    );
  }
  throw error;
};

const returnDataJson = (execution: ExecutionDetails) =>
  execution.returnData
    ? { programId: execution.returnData.programId, data: [execution.returnData.data, 'base64'] }
    : null;

function preflightFailure(err: TransactionErrorJson, execution: ExecutionDetails | null): RpcError {
  return new RpcError(
    RpcErrorCode.SEND_TRANSACTION_PREFLIGHT_FAILURE,
    `Transaction simulation failed: ${describeTransactionError(err)}`,
    {
      accounts: null,
      err,
      innerInstructions: null,
      logs: execution?.logs ?? [],
      replacementBlockhash: null,
      returnData: execution ? returnDataJson(execution) : null,
      unitsConsumed: execution?.computeUnitsConsumed ?? 0,
    },
  );
}

const statusJson = (slot: number, err: TransactionErrorJson | null) => ({
  slot,
  confirmations: null,
  err,
  status: err === null ? { Ok: null } : { Err: err },
  confirmationStatus: 'finalized',
});

function renderTransaction(
  record: TransactionRecord,
  encoding: 'json' | 'jsonParsed' | 'base64' | 'base58',
  maxSupportedTransactionVersion: number | undefined,
) {
  if (record.version === 0 && maxSupportedTransactionVersion === undefined) {
    throw new RpcError(
      RpcErrorCode.UNSUPPORTED_TRANSACTION_VERSION,
      'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0',
    );
  }
  const details = detailsOf(record);
  const parsed = encoding === 'jsonParsed' ? decodeWireTransaction(record.transaction) : undefined;
  const parsedKeys = parsed && [
    ...parsed.message.accountKeys.map((key) => bs58.encode(key)),
    ...record.loadedAddresses.writable,
    ...record.loadedAddresses.readonly,
  ];
  const meta = {
    err: record.err,
    status: record.err === null ? { Ok: null } : { Err: record.err },
    fee: record.fee,
    preBalances: record.preBalances,
    postBalances: record.postBalances,
    innerInstructions: parsedKeys
      ? parsedInnerInstructions(details.innerInstructions, parsedKeys)
      : details.innerInstructions,
    logMessages: details.logs,
    preTokenBalances: [],
    postTokenBalances: [],
    rewards: [],
    loadedAddresses: record.loadedAddresses,
    computeUnitsConsumed: details.computeUnitsConsumed,
    ...(details.returnData ? { returnData: returnDataJson(details) } : {}),
  };
  let transaction: unknown;
  if (encoding === 'base64') transaction = [Buffer.from(record.transaction).toString('base64'), 'base64'];
  else if (encoding === 'base58') transaction = [bs58.encode(record.transaction), 'base58'];
  else if (parsed && parsedKeys) {
    transaction = {
      signatures: parsed.signatures.map((sig) => bs58.encode(sig)),
      message: parsedMessage(parsed.message, parsedKeys, record.loadedAddresses),
    };
  } else {
    const { signatures, message } = decodeWireTransaction(record.transaction);
    transaction = {
      signatures: signatures.map((sig) => bs58.encode(sig)),
      message: {
        accountKeys: message.accountKeys.map((key) => bs58.encode(key)),
        header: {
          numRequiredSignatures: message.numRequiredSignatures,
          numReadonlySignedAccounts: message.numReadonlySigned,
          numReadonlyUnsignedAccounts: message.numReadonlyUnsigned,
        },
        recentBlockhash: bs58.encode(message.recentBlockhash),
        instructions: message.instructions.map((instruction) => ({
          programIdIndex: instruction.programIdIndex,
          accounts: [...instruction.accounts],
          data: bs58.encode(instruction.data),
          stackHeight: null,
        })),
        ...(message.version === 0
          ? {
              addressTableLookups: message.addressTableLookups.map((lookup) => ({
                accountKey: bs58.encode(lookup.accountKey),
                writableIndexes: [...lookup.writableIndexes],
                readonlyIndexes: [...lookup.readonlyIndexes],
              })),
            }
          : {}),
      },
    };
  }
  return {
    slot: record.slot,
    blockTime: record.blockTime,
    meta,
    transaction,
    ...(maxSupportedTransactionVersion === undefined ? {} : { version: record.version }),
  };
}

/** The account keys instructions of `bytes` index into: static keys, then lookup-table addresses. */
function simulatedKeys(ctx: RpcContext, bytes: Uint8Array): string[] {
  const { message } = decodeWireTransaction(bytes);
  const { keys } = messageAccountKeys(message, (key) => ctx.chain.svm.getAccount(key)?.data() ?? null);
  return keys.map((key) => bs58.encode(key));
}

function requireConfirmedCommitment(options: Record<string, unknown>): void {
  if (options['commitment'] === 'processed') {
    throw invalidParams('Method does not support commitment below `confirmed`');
  }
}

function mentions(record: TransactionRecord, key: string): boolean {
  if (record.loadedAddresses.writable.includes(key) || record.loadedAddresses.readonly.includes(key))
    return true;
  const { message } = decodeWireTransaction(record.transaction);
  return message.accountKeys.some((account) => bs58.encode(account) === key);
}

export const transactionMethods: Record<string, RpcHandler> = {
  sendTransaction: (params, ctx) => {
    const options = config(params[1]);
    const encoding = oneOf(options['encoding'], ['base58', 'base64'] as const, 'base58', 'encoding');
    const bytes = decodeTransactionParam(params[0], encoding);
    const skipPreflight = optionalBoolean(options['skipPreflight'], 'skipPreflight') === true;
    let outcome: ReturnType<RpcContext['chain']['send']>;
    try {
      outcome = ctx.chain.send(bytes, { skipPreflight });
    } catch (error) {
      throw deserializeError(error);
    }
    if (outcome.kind !== 'rejected') return outcome.signature;
    if (outcome.err === 'SignatureFailure') {
      throw new RpcError(
        RpcErrorCode.TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
        'Transaction signature verification failure',
      );
    }
    throw preflightFailure(outcome.err, outcome.execution);
  },

  simulateTransaction: (params, ctx) => {
    const options = config(params[1]);
    const encoding = oneOf(options['encoding'], ['base58', 'base64'] as const, 'base58', 'encoding');
    const bytes = decodeTransactionParam(params[0], encoding);
    const sigVerify = optionalBoolean(options['sigVerify'], 'sigVerify') === true;
    const replaceRecentBlockhash =
      optionalBoolean(options['replaceRecentBlockhash'], 'replaceRecentBlockhash') === true;
    if (sigVerify && replaceRecentBlockhash) {
      throw invalidParams('sigVerify may not be used with replaceRecentBlockhash');
    }
    const accountsOption = options['accounts'] as { addresses?: unknown; encoding?: unknown } | undefined;
    const requested = accountsOption
      ? array(accountsOption.addresses, 'accounts.addresses', 256).map((a) => address(a))
      : undefined;
    const view = accountsOption ? accountView({ encoding: accountsOption.encoding }, 'base64') : null;
    let outcome: ReturnType<RpcContext['chain']['simulate']>;
    try {
      outcome = ctx.chain.simulate(bytes, {
        sigVerify,
        replaceRecentBlockhash,
        ...(requested ? { accounts: requested } : {}),
      });
    } catch (error) {
      throw deserializeError(error);
    }
    if (sigVerify && outcome.err === 'SignatureFailure') {
      throw new RpcError(
        RpcErrorCode.TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
        'Transaction signature verification failure',
      );
    }
    const { execution } = outcome;
    // Like a cluster, always in parsed form (whatever the encoding of the transaction sent).
    const innerInstructions =
      options['innerInstructions'] === true
        ? parsedInnerInstructions(execution.innerInstructions, simulatedKeys(ctx, bytes))
        : null;
    return withContext(ctx.chain.tick().slot, {
      err: outcome.err,
      logs: execution.logs,
      accounts:
        outcome.accounts && view
          ? outcome.accounts.map((account) => (account ? encodeAccount(account, view, ctx.chain.svm) : null))
          : null,
      unitsConsumed: execution.computeUnitsConsumed,
      returnData: returnDataJson(execution),
      innerInstructions,
      replacementBlockhash: outcome.replacementBlockhash,
      loadedAccountsDataSize: 0,
    });
  },

  getSignatureStatuses: (params, ctx) => {
    const signatures = array(params[0], 'signatures', 256).map(signature);
    config(params[1]);
    const { slot } = ctx.chain.tick();
    return withContext(
      slot,
      signatures.map((sig) => {
        const status = ctx.chain.signatureStatus(sig);
        return status ? statusJson(status.slot, status.err) : null;
      }),
    );
  },

  getTransaction: (params, ctx) => {
    const sig = signature(params[0]);
    const options = typeof params[1] === 'string' ? { encoding: params[1] } : config(params[1]);
    requireConfirmedCommitment(options);
    const encoding = oneOf(
      options['encoding'],
      ['json', 'jsonParsed', 'base64', 'base58'] as const,
      'json',
      'encoding',
    );
    const max = options['maxSupportedTransactionVersion'];
    const maxVersion =
      max === undefined || max === null ? undefined : unsignedInteger(max, 'maxSupportedTransactionVersion');
    const record = ctx.chain.history.get(sig);
    return record ? renderTransaction(record, encoding, maxVersion) : null;
  },

  getSignaturesForAddress: (params, ctx) => {
    const key = bs58.encode(address(params[0]));
    const options = config(params[1]);
    requireConfirmedCommitment(options);
    const limit = options['limit'] === undefined ? 1000 : unsignedInteger(options['limit'], 'limit');
    if (limit < 1 || limit > 1000) throw invalidParams('Invalid limit; max 1000');
    const before = options['before'] === undefined ? null : signature(options['before']);
    const until = options['until'] === undefined ? null : signature(options['until']);
    const result: unknown[] = [];
    let started = before === null;
    for (const record of ctx.chain.history.newestFirst()) {
      if (!started) {
        started = record.signature === before;
        continue;
      }
      if (record.signature === until || result.length >= limit) break;
      if (!mentions(record, key)) continue;
      result.push({
        signature: record.signature,
        slot: record.slot,
        err: record.err,
        memo: null,
        blockTime: record.blockTime,
        confirmationStatus: 'finalized',
      });
    }
    return result;
  },

  requestAirdrop: (params, ctx) => {
    const to = address(params[0]);
    const lamports = BigInt(unsignedInteger(params[1], 'lamports'));
    config(params[2]);
    const outcome = ctx.chain.airdrop(to, lamports);
    if (outcome.kind === 'processed' && outcome.err === null) return outcome.signature;
    throw new RpcError(
      RpcErrorCode.INTERNAL_ERROR,
      `airdrop request failed: ${describeTransactionError(outcome.err ?? 'SanitizeFailure')}`,
    );
  },
};
