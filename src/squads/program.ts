import { PublicKey } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';

/** Squads Protocol v4 as deployed on mainnet-beta. */
export const SQUADS_PROGRAM_ID = new PublicKey('SQDS4ep65T869zMMBKyuUq6aD6EgTu8psMjkvj52pCf');

/** Every wallet keeps its funds in vault 0; its address is the wallet's deposit address. */
export const WALLET_VAULT_INDEX = 0;

export const WALLET_THRESHOLD = 2;
/** The threshold while the agent is removed: the owner is the only voter left. */
export const FROZEN_THRESHOLD = 1;

const { Permission, Permissions } = multisig.types;

/** Owner Key: Initiate | Vote | Execute. */
export const OWNER_PERMISSIONS = Permissions.all();
/** Agent Key: Initiate | Vote. It can propose and approve, never execute alone. */
export const AGENT_PERMISSIONS = Permissions.fromPermissions([Permission.Initiate, Permission.Vote]);

export const { Period } = multisig.types;
export type Period = multisig.types.Period;

/** SOL spending limits carry the all-zero mint. */
export const SOL_LIMIT_MINT = PublicKey.default;
export const SOL_DECIMALS = 9;

export const U64_MAX = 2n ** 64n - 1n;

/** Largest serialized transaction a validator accepts (IPv6 MTU minus headers). */
export const MAX_TRANSACTION_BYTES = 1232;

/**
 * Lamports a data-less system account must keep unless it is emptied (rent exemption for 0 bytes
 * at the mainnet rent rate). A vault left between 0 and this is refused with InsufficientFundsForRent.
 */
export const VAULT_RENT_EXEMPT_MINIMUM = 890_880n;
