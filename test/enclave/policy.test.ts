import { generateKeyPairSync, sign } from 'node:crypto';
import bs58 from 'bs58';
import { describe, expect, it } from 'vitest';
import {
  canonicalPolicyBytes,
  DAILY_WINDOW_SECONDS,
  decideTransfer,
  type PolicyDocument,
  parsePolicy,
  policyHashHex,
  policySigningMessage,
  RollingWindow,
  signPolicyBundle,
  toPolicy,
  U64_MAX,
  verifyPolicyBundle,
} from '../../src/core/policy.ts';

const USDC = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const ALICE = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
const BOB = 'Ce7aNjthXsxrwd7sVyCgtPFmjdaCjL7cqysqzNpnuFmr';

const examplePolicy = (overrides: Partial<PolicyDocument> = {}): PolicyDocument => ({
  version: 4,
  assets: {
    SOL: {
      perTransaction: '1000000000',
      daily: '5000000000',
      tiers: { instantMax: '100000000', notifyMax: '500000000', delayMax: '1000000000', delaySeconds: 900 },
    },
    [USDC]: {
      perTransaction: '50000000',
      daily: '200000000',
      tiers: { instantMax: '10000000', notifyMax: '50000000', delayMax: '50000000', delaySeconds: 600 },
    },
  },
  recipients: { mode: 'allowlist', addresses: [ALICE] },
  hours: { utc: [0, 24], days: [0, 1, 2, 3, 4, 5, 6] },
  rate: { maxPerHour: 120 },
  approvalTimeoutSeconds: 3600,
  ...overrides,
});

const issuesOf = (input: unknown): string[] => {
  const result = parsePolicy(input);
  return result.ok ? [] : result.issues.map((issue) => `${issue.path}: ${issue.message}`);
};

const withSol = (
  sol: Partial<PolicyDocument['assets'][string]>,
  tiers: Partial<PolicyDocument['assets'][string]['tiers']> = {},
) => {
  const base = examplePolicy();
  const current = base.assets['SOL']!;
  return { ...base, assets: { SOL: { ...current, ...sol, tiers: { ...current.tiers, ...tiers } } } };
};

describe('policy document', () => {
  it('accepts the DESIGN.md example and parses amounts to bigint', () => {
    const result = parsePolicy(examplePolicy());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.policy.assets.get('SOL')?.daily).toBe(5_000_000_000n);
    expect(result.policy.assets.get(USDC)?.tiers.delaySeconds).toBe(600);
  });

  it('accepts u64 max and refuses one more, zero, negatives, decimals, leading zeros and exponents', () => {
    const max = U64_MAX.toString();
    expect(issuesOf(withSol({ perTransaction: max, daily: max }))).toEqual([]);
    for (const bad of [(U64_MAX + 1n).toString(), '0', '-1', '1.5', '01', '1e9', ' 1', '']) {
      expect(issuesOf(withSol({ perTransaction: bad })).length, bad).toBeGreaterThan(0);
    }
  });

  it('orders the tiers: instantMax ≤ notifyMax ≤ delayMax ≤ daily, delayMax ≤ perTransaction', () => {
    expect(issuesOf(withSol({}, { instantMax: '500000001' })).join()).toMatch(
      /instantMax must be ≤ notifyMax/,
    );
    expect(issuesOf(withSol({}, { notifyMax: '1000000001' })).join()).toMatch(/notifyMax must be ≤ delayMax/);
    expect(issuesOf(withSol({ daily: '999999999' })).join()).toMatch(/delayMax must be ≤ daily/);
    expect(issuesOf(withSol({ perTransaction: '999999999' })).join()).toMatch(
      /perTransaction must be ≥ delayMax/,
    );
    // Equal bounds are fine, and perTransaction may exceed daily (approval tier does not consume it).
    expect(
      issuesOf(
        withSol({ perTransaction: '9000000000' }, { instantMax: '1000000000', notifyMax: '1000000000' }),
      ),
    ).toEqual([]);
  });

  it('refuses unknown fields, bad asset keys, bad addresses, bad hours and days', () => {
    expect(issuesOf({ ...examplePolicy(), extra: 1 }).length).toBeGreaterThan(0);
    expect(issuesOf({ ...examplePolicy(), assets: { BTC: examplePolicy().assets['SOL'] } }).join()).toMatch(
      /assets\.BTC/,
    );
    expect(
      issuesOf(examplePolicy({ recipients: { mode: 'allowlist', addresses: ['not-an-address'] } })).length,
    ).toBe(1);
    expect(
      issuesOf(examplePolicy({ recipients: { mode: 'allowlist', addresses: [ALICE, ALICE] } })).length,
    ).toBe(1);
    expect(issuesOf(examplePolicy({ hours: { utc: [9, 9], days: [1] } })).length).toBe(1);
    expect(issuesOf(examplePolicy({ hours: { utc: [0, 25] as [number, number], days: [1] } })).length).toBe(
      1,
    );
    expect(issuesOf(examplePolicy({ hours: { utc: [0, 24], days: [7] } })).length).toBe(1);
    expect(issuesOf(examplePolicy({ rate: { maxPerHour: 0 } })).length).toBe(1);
    expect(issuesOf(examplePolicy({ version: 0 })).length).toBe(1);
  });
});

describe('canonical bytes and hash', () => {
  it('does not depend on key order', () => {
    const document = examplePolicy();
    const { rate, ...rest } = document;
    const reordered = JSON.parse(JSON.stringify({ rate, ...rest }));
    expect(
      Buffer.from(canonicalPolicyBytes(reordered)).equals(Buffer.from(canonicalPolicyBytes(document))),
    ).toBe(true);
    expect(policyHashHex(reordered)).toBe(policyHashHex(document));
    expect(new TextDecoder().decode(canonicalPolicyBytes(document))).toMatch(
      /^\{"approvalTimeoutSeconds":3600,"assets":/,
    );
  });

  it('changes with any field', () => {
    expect(policyHashHex(examplePolicy({ version: 5 }))).not.toBe(policyHashHex(examplePolicy()));
  });
});

const ownerKeys = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  return {
    publicKey: bs58.encode(raw),
    signer: {
      publicKey: async () => bs58.encode(raw),
      sign: async (message: Uint8Array) => new Uint8Array(sign(null, message, privateKey)),
    },
  };
};

describe('signed bundle', () => {
  it('verifies for the bound owner and wallet only', async () => {
    const owner = ownerKeys();
    const stranger = ownerKeys();
    const bundle = await signPolicyBundle('wallet-1', examplePolicy(), owner.signer);
    const check = verifyPolicyBundle(bundle, 'wallet-1', owner.publicKey);
    expect(check.ok).toBe(true);
    expect(verifyPolicyBundle(bundle, 'wallet-2', owner.publicKey)).toMatchObject({ reason: 'WRONG_WALLET' });
    expect(verifyPolicyBundle(bundle, 'wallet-1', stranger.publicKey)).toMatchObject({
      reason: 'WRONG_OWNER',
    });
    const forged = await signPolicyBundle('wallet-1', examplePolicy(), stranger.signer);
    expect(
      verifyPolicyBundle({ ...forged, ownerPublicKey: owner.publicKey }, 'wallet-1', owner.publicKey),
    ).toMatchObject({
      reason: 'BAD_SIGNATURE',
    });
    const tampered = { ...bundle, policy: examplePolicy({ rate: { maxPerHour: 10_000 } }) };
    expect(verifyPolicyBundle(tampered, 'wallet-1', owner.publicKey)).toMatchObject({
      reason: 'BAD_SIGNATURE',
    });
  });

  it('signs a short domain-separated statement whatever the allowlist length', () => {
    const message = new TextDecoder().decode(policySigningMessage('w', examplePolicy()));
    expect(message).toBe(`waiaas:policy:v1\nw\n${policyHashHex(examplePolicy())}`);
  });
});

describe('decideTransfer', () => {
  const policy = toPolicy(examplePolicy());
  const noon = Date.UTC(2025, 0, 15, 12, 0, 0); // a Wednesday
  const fresh = { spentInWindow: 0n, transfersInLastHour: 0 };
  const sol = (amount: bigint, recipient: string | undefined = ALICE) => ({
    asset: 'SOL',
    amount,
    recipient,
  });

  it('picks the tier at each bound, inclusive', () => {
    expect(decideTransfer(policy, sol(1n), noon, fresh)).toMatchObject({ ok: true, tier: 'instant' });
    expect(decideTransfer(policy, sol(100_000_000n), noon, fresh)).toMatchObject({ tier: 'instant' });
    expect(decideTransfer(policy, sol(100_000_001n), noon, fresh)).toMatchObject({ tier: 'notify' });
    expect(decideTransfer(policy, sol(500_000_000n), noon, fresh)).toMatchObject({ tier: 'notify' });
    expect(decideTransfer(policy, sol(500_000_001n), noon, fresh)).toMatchObject({
      tier: 'delay',
      delaySeconds: 900,
    });
    expect(decideTransfer(policy, sol(1_000_000_000n), noon, fresh)).toMatchObject({ tier: 'delay' });
  });

  it('escalates above delayMax to approval without consuming the daily budget, up to perTransaction', () => {
    const wide = toPolicy(withSol({ perTransaction: '3000000000' }));
    const exhausted = { spentInWindow: 5_000_000_000n, transfersInLastHour: 0 };
    expect(decideTransfer(wide, sol(3_000_000_000n), noon, exhausted)).toMatchObject({
      ok: true,
      tier: 'approval',
      consumesDaily: false,
    });
    expect(decideTransfer(wide, sol(3_000_000_001n), noon, fresh)).toMatchObject({
      code: 'POLICY_PER_TX_LIMIT',
    });
  });

  it('refuses over the per-transaction cap, not escalates', () => {
    expect(decideTransfer(policy, sol(1_000_000_001n), noon, fresh)).toMatchObject({
      ok: false,
      code: 'POLICY_PER_TX_LIMIT',
    });
  });

  it('refuses what would exceed the daily budget, allowing exactly the remainder', () => {
    const spent = { spentInWindow: 4_900_000_000n, transfersInLastHour: 0 };
    expect(decideTransfer(policy, sol(100_000_000n), noon, spent)).toMatchObject({ ok: true });
    expect(decideTransfer(policy, sol(100_000_001n), noon, spent)).toMatchObject({
      code: 'POLICY_DAILY_LIMIT',
      details: { remaining: '100000000' },
    });
  });

  it('refuses unlisted assets, unlisted recipients, zero amounts', () => {
    expect(decideTransfer(policy, { asset: BOB, amount: 1n, recipient: ALICE }, noon, fresh)).toMatchObject({
      code: 'ASSET_NOT_ALLOWED',
    });
    expect(decideTransfer(policy, sol(1n, BOB), noon, fresh)).toMatchObject({
      code: 'RECIPIENT_NOT_ALLOWED',
    });
    expect(
      decideTransfer(policy, { asset: 'SOL', amount: 1n, recipient: undefined }, noon, fresh),
    ).toMatchObject({ code: 'RECIPIENT_NOT_ALLOWED' });
    expect(decideTransfer(policy, sol(0n), noon, fresh)).toMatchObject({ code: 'INVALID_AMOUNT' });
    const any = toPolicy(examplePolicy({ recipients: { mode: 'any' } }));
    expect(
      decideTransfer(any, { asset: 'SOL', amount: 1n, recipient: undefined }, noon, fresh),
    ).toMatchObject({ ok: true });
  });

  it('applies hours as [start, end) UTC on the listed weekdays', () => {
    const office = toPolicy(examplePolicy({ hours: { utc: [9, 17], days: [1, 2, 3, 4, 5] } }));
    const at = (day: number, hour: number, minute = 0) => Date.UTC(2025, 0, day, hour, minute);
    expect(decideTransfer(office, sol(1n), at(15, 9), fresh)).toMatchObject({ ok: true });
    expect(decideTransfer(office, sol(1n), at(15, 16, 59), fresh)).toMatchObject({ ok: true });
    expect(decideTransfer(office, sol(1n), at(15, 17), fresh)).toMatchObject({ code: 'OUTSIDE_HOURS' });
    expect(decideTransfer(office, sol(1n), at(15, 8, 59), fresh)).toMatchObject({ code: 'OUTSIDE_HOURS' });
    expect(decideTransfer(office, sol(1n), at(19, 12), fresh)).toMatchObject({ code: 'OUTSIDE_HOURS' }); // Sunday
  });

  it('allows maxPerHour transfers in the rate window and refuses the next', () => {
    expect(
      decideTransfer(policy, sol(1n), noon, { spentInWindow: 0n, transfersInLastHour: 119 }),
    ).toMatchObject({ ok: true });
    expect(
      decideTransfer(policy, sol(1n), noon, { spentInWindow: 0n, transfersInLastHour: 120 }),
    ).toMatchObject({
      code: 'POLICY_RATE_LIMIT',
    });
  });
});

describe('daily window', () => {
  it('is never looser than an on-chain Day window anchored anywhere', () => {
    // Two spends exactly 86400 s apart share one chain window [lastReset, lastReset + 86400].
    const window = new RollingWindow(DAILY_WINDOW_SECONDS, 60);
    const lastReset = 1_700_000_123;
    window.add(lastReset, 5n);
    expect(window.total(lastReset + 86_400)).toBe(5n);
    // Still counted through the margin, then released.
    expect(window.total(lastReset + DAILY_WINDOW_SECONDS)).toBe(5n);
    expect(window.total(lastReset + DAILY_WINDOW_SECONDS + 60)).toBe(0n);
  });

  it('sums many spends and merges restored buckets without lowering them', () => {
    const window = new RollingWindow(3600, 1);
    for (let second = 0; second < 100; second++) window.add(1_000 + second, 1n);
    expect(window.total(1_100)).toBe(100n);
    expect(window.total(1_000 + 3600)).toBe(100n);
    expect(window.total(1_001 + 3600)).toBe(99n);
    const restored = new RollingWindow(3600, 1);
    restored.add(1_050, 7n);
    restored.mergeMax(window.buckets(1_001 + 3600));
    expect(restored.total(1_001 + 3600)).toBe(99n + 6n);
  });
});
