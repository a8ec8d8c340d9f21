import bs58 from 'bs58';
import { type RpcContext, type RpcHandler, withContext } from './context.ts';
import { accountView, decimalsOfMint, encodeAccount } from './encode-account.ts';
import { invalidParams } from './errors.ts';
import { address, array, config, unsignedInteger } from './params.ts';
import {
  isMintData,
  isTokenAccountData,
  mintDecimals,
  mintSupply,
  TOKEN_2022_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  tokenAccountAmount,
  uiTokenAmount,
} from './token-accounts.ts';

type Filter = (data: Uint8Array) => boolean;
const MAX_FILTERS = 4;

function parseFilters(value: unknown): Filter[] {
  if (value === undefined || value === null) return [];
  const filters = array(value, 'filters', MAX_FILTERS);
  return filters.map((filter): Filter => {
    if (typeof filter !== 'object' || filter === null) throw invalidParams('Invalid params: bad filter');
    const { dataSize, memcmp } = filter as { dataSize?: unknown; memcmp?: unknown };
    if (dataSize !== undefined) {
      const size = unsignedInteger(dataSize, 'dataSize');
      return (data) => data.length === size;
    }
    if (typeof memcmp === 'object' && memcmp !== null) {
      const { offset, bytes, encoding } = memcmp as { offset?: unknown; bytes?: unknown; encoding?: unknown };
      const at = unsignedInteger(offset, 'memcmp.offset');
      if (typeof bytes !== 'string') throw invalidParams('Invalid params: memcmp.bytes must be a string');
      let expected: Uint8Array;
      try {
        expected = encoding === 'base64' ? Buffer.from(bytes, 'base64') : bs58.decode(bytes);
      } catch {
        throw invalidParams('Invalid params: memcmp.bytes is not valid base58');
      }
      const wanted = Buffer.from(expected);
      return (data) =>
        at + wanted.length <= data.length && wanted.equals(data.subarray(at, at + wanted.length));
    }
    throw invalidParams('Invalid params: unknown filter (expected dataSize or memcmp)');
  });
}

function programAccounts(ctx: RpcContext, program: Uint8Array, filters: Filter[]) {
  return ctx.chain.svm
    .getProgramAccounts(program)
    .map((entry) => ({ address: entry.address, account: entry.account() }))
    .filter(({ account }) => {
      if (filters.length === 0) return true;
      const data = account.data();
      return filters.every((filter) => filter(data));
    });
}

const TOKEN_PROGRAMS = new Set([TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID]);

function tokenAmountOf(ctx: RpcContext, target: Uint8Array, kind: 'account' | 'mint') {
  const account = ctx.chain.svm.getAccount(target);
  const data = account?.data();
  const owner = account ? bs58.encode(account.owner()) : '';
  if (!data || !TOKEN_PROGRAMS.has(owner)) {
    throw invalidParams(`Invalid param: not a Token ${kind}`);
  }
  if (kind === 'mint') {
    if (!isMintData(data)) throw invalidParams('Invalid param: not a Token mint');
    return uiTokenAmount(mintSupply(data), mintDecimals(data));
  }
  if (!isTokenAccountData(data)) throw invalidParams('Invalid param: not a Token account');
  const decimals = decimalsOfMint(ctx.chain.svm)(data.subarray(0, 32));
  if (decimals === null) throw invalidParams('Invalid param: Token mint could not be unpacked');
  return uiTokenAmount(tokenAccountAmount(data), decimals);
}

export const accountMethods: Record<string, RpcHandler> = {
  getBalance: (params, ctx) => {
    const key = address(params[0]);
    config(params[1]);
    const { slot } = ctx.chain.tick();
    return withContext(slot, ctx.chain.svm.getBalance(key) ?? 0n);
  },

  getAccountInfo: (params, ctx) => {
    const key = address(params[0]);
    const view = accountView(config(params[1]), 'binary');
    const { slot } = ctx.chain.tick();
    const account = ctx.chain.svm.getAccount(key);
    return withContext(slot, account ? encodeAccount(account, view, ctx.chain.svm) : null);
  },

  getMultipleAccounts: (params, ctx) => {
    const keys = array(params[0], 'pubkeys', 100).map((key) => address(key));
    const view = accountView(config(params[1]), 'base64');
    const { slot } = ctx.chain.tick();
    return withContext(
      slot,
      keys.map((key) => {
        const account = ctx.chain.svm.getAccount(key);
        return account ? encodeAccount(account, view, ctx.chain.svm) : null;
      }),
    );
  },

  getProgramAccounts: (params, ctx) => {
    const program = address(params[0]);
    const options = config(params[1]);
    const view = accountView(options, 'binary');
    const filters = parseFilters(options['filters']);
    const { slot } = ctx.chain.tick();
    const result = programAccounts(ctx, program, filters).map(({ address: key, account }) => ({
      pubkey: bs58.encode(key),
      account: encodeAccount(account, view, ctx.chain.svm),
    }));
    return options['withContext'] === true ? withContext(slot, result) : result;
  },

  getTokenAccountsByOwner: (params, ctx) => {
    const owner = Buffer.from(address(params[0]));
    const selector = params[1];
    if (typeof selector !== 'object' || selector === null) {
      throw invalidParams('Invalid params: expected {mint} or {programId}');
    }
    const { mint, programId } = selector as { mint?: unknown; programId?: unknown };
    let program: string;
    let mintFilter: Buffer | null = null;
    if (mint !== undefined) {
      mintFilter = Buffer.from(address(mint));
      const mintAccount = ctx.chain.svm.getAccount(mintFilter);
      program = mintAccount ? bs58.encode(mintAccount.owner()) : TOKEN_PROGRAM_ID;
    } else if (programId !== undefined) {
      program = bs58.encode(address(programId));
    } else {
      throw invalidParams('Invalid params: expected {mint} or {programId}');
    }
    if (!TOKEN_PROGRAMS.has(program)) throw invalidParams('Invalid param: unrecognized Token program id');
    const view = accountView(config(params[2]), 'binary');
    const { slot } = ctx.chain.tick();
    const matches = programAccounts(ctx, bs58.decode(program), [
      (data) =>
        isTokenAccountData(data) &&
        owner.equals(data.subarray(32, 64)) &&
        (mintFilter === null || mintFilter.equals(data.subarray(0, 32))),
    ]);
    return withContext(
      slot,
      matches.map(({ address: key, account }) => ({
        pubkey: bs58.encode(key),
        account: encodeAccount(account, view, ctx.chain.svm),
      })),
    );
  },

  getTokenAccountBalance: (params, ctx) => {
    const key = address(params[0]);
    config(params[1]);
    return withContext(ctx.chain.tick().slot, tokenAmountOf(ctx, key, 'account'));
  },

  getTokenSupply: (params, ctx) => {
    const key = address(params[0]);
    config(params[1]);
    return withContext(ctx.chain.tick().slot, tokenAmountOf(ctx, key, 'mint'));
  },

  getStakeMinimumDelegation: (_params, ctx) => withContext(ctx.chain.tick().slot, 1_000_000_000),
};
