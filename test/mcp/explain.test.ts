/** The numbers the MCP server tells a model: budget, limits in UI units, and refusals with what would pass. */
import { describe, expect, it } from 'vitest';
import { budgetOf } from '../../src/mcp/budget.ts';
import { policyText } from '../../src/mcp/describe-policy.ts';
import { explainRefusal } from '../../src/mcp/explain-refusal.ts';
import { errorFromResponse, type Policy, sol, type Usage } from '../../src/sdk/index.ts';

const USDC = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const RECIPIENT = '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM';

const policy = (overrides: Partial<Policy> = {}): Policy => ({
  version: 3,
  assets: {
    SOL: {
      perTransaction: sol('1'),
      daily: sol('5'),
      tiers: { instantMax: sol('0.6'), notifyMax: sol('0.8'), delayMax: sol('0.9'), delaySeconds: 900 },
    },
    [USDC]: {
      perTransaction: 50_000_000n,
      daily: 200_000_000n,
      tiers: { instantMax: 10_000_000n, notifyMax: 50_000_000n, delayMax: 50_000_000n, delaySeconds: 600 },
    },
  },
  recipients: { mode: 'any' },
  hours: { utc: [0, 24], days: [0, 1, 2, 3, 4, 5, 6] },
  rate: { maxPerHour: 120 },
  approvalTimeoutSeconds: 3600,
  ...overrides,
});

const usage = (
  spent: { server?: bigint; enclave?: bigint; chain?: bigint } = {},
  status: Usage['status'] = 'active',
): Usage => ({
  walletId: 'w',
  status,
  policyVersion: 3,
  windowSeconds: 87_000,
  chainTime: 0,
  assets: [
    {
      asset: 'SOL',
      daily: sol('5'),
      server: { spent: spent.server ?? 0n, remaining: sol('5') - (spent.server ?? 0n) },
      enclave: { spent: spent.enclave ?? 0n, remaining: sol('5') - (spent.enclave ?? 0n) },
      chain: {
        address: RECIPIENT,
        amount: sol('5'),
        spent: spent.chain ?? 0n,
        remaining: sol('5') - (spent.chain ?? 0n),
        lastReset: 0,
        periodStart: 0,
      },
    },
  ],
  rate: { windowSeconds: 3600, enclaveTransfers: 0 },
  enclave: { available: true },
});

const decimals = new Map([[USDC, 6]]);
const refusal = (code: string, layer = 'server') =>
  errorFromResponse(
    403,
    { code, status: 403, title: code, detail: `${code}.`, retryable: false, layer },
    new Headers(),
  );

describe('budget', () => {
  it('takes the smallest remaining of the three layers, and caps each tier by it', () => {
    const budget = budgetOf(policy(), usage({ server: sol('4.2'), enclave: sol('4.4'), chain: sol('4.3') }));
    const solBudget = budget.assets.find((asset) => asset.asset === 'SOL')!;
    expect(solBudget.remainingToday).toBe(sol('0.6'));
    expect(solBudget.largestInstant).toBe(sol('0.6'));
    expect(solBudget.largestWithoutApproval).toBe(sol('0.6'));
    expect(solBudget.largestWithApproval).toBe(sol('1'));
    // An asset without usage yet has its whole daily budget.
    expect(budget.assets.find((asset) => asset.asset === USDC)!.remainingToday).toBe(200_000_000n);
  });

  it('is nothing at all while the wallet is frozen', () => {
    const frozen = budgetOf(policy(), usage({}, 'frozen')).assets[0]!;
    expect([frozen.largestInstant, frozen.largestWithoutApproval, frozen.largestWithApproval]).toEqual([
      0n,
      0n,
      0n,
    ]);
  });
});

describe('refusals say why and what would pass', () => {
  const context = (spentServer: bigint, amount: bigint, asset = 'SOL') => ({
    policy: policy(),
    budget: budgetOf(policy(), usage({ server: spentServer })),
    decimals,
    request: { asset, amount, to: RECIPIENT },
  });

  it('over the per-transaction limit: the limit and the largest instant amount, in SOL', () => {
    const text = explainRefusal(refusal('POLICY_PER_TX_LIMIT'), context(sol('4.4'), sol('2')));
    expect(text).toContain('2 SOL is over the per-transaction limit of 1 SOL');
    expect(text).toContain('up to 0.6 SOL would be instant');
    expect(text).toContain('refused by the server policy check');
  });

  it('over today’s budget: what is left, and that approval-tier amounts still go to the owner', () => {
    const text = explainRefusal(refusal('POLICY_DAILY_LIMIT'), context(sol('4.8'), sol('0.5')));
    expect(text).toContain("0.5 SOL is over what is left of today's budget (0.2 SOL left of 5 SOL)");
    expect(text).toContain('up to 0.2 SOL would be instant');
    expect(text).toContain("from 0.900000001 SOL to 1 SOL would wait for the owner's approval");
  });

  it('with the whole budget spent, says nothing more can be sent now', () => {
    const spent = {
      ...context(sol('5'), sol('0.1')),
      policy: policy({ assets: { SOL: { ...policy().assets.SOL!, perTransaction: sol('0.9') } } }),
    };
    spent.budget = budgetOf(spent.policy, usage({ server: sol('5') }));
    expect(explainRefusal(refusal('POLICY_DAILY_LIMIT'), spent)).toContain(
      'nothing more can be sent in SOL now',
    );
  });

  it('token amounts use the mint’s decimals', () => {
    const text = explainRefusal(refusal('POLICY_PER_TX_LIMIT'), context(0n, 60_000_000n, USDC));
    expect(text).toContain(`60 token ${USDC} is over the per-transaction limit of 50 token ${USDC}`);
    expect(text).toContain(`up to 10 token ${USDC} would be instant`);
  });

  it('names the layer that refused, the allowlist, the hours and a frozen wallet', () => {
    expect(explainRefusal(refusal('ENCLAVE_REFUSED', 'enclave'), context(0n, 1n))).toContain(
      'refused by the agent enclave',
    );
    const allowlist = {
      ...context(0n, 1n),
      policy: policy({ recipients: { mode: 'allowlist', addresses: [USDC] } }),
    };
    expect(explainRefusal(refusal('RECIPIENT_NOT_ALLOWED'), allowlist)).toContain(
      `only these 1 address: ${USDC}`,
    );
    const hours = { ...context(0n, 1n), policy: policy({ hours: { utc: [9, 17], days: [1, 2, 3, 4, 5] } }) };
    expect(explainRefusal(refusal('OUTSIDE_HOURS'), hours)).toContain(
      'from 9:00 to 17:00 UTC, Mon, Tue, Wed, Thu, Fri',
    );
    expect(explainRefusal(refusal('WALLET_FROZEN'), context(0n, 1n))).toContain('frozen');
    expect(explainRefusal(refusal('ASSET_NOT_ALLOWED'), context(0n, 1n, RECIPIENT))).toContain(
      `only SOL, token ${USDC} can be sent`,
    );
  });
});

describe('the policy in words', () => {
  it('renders every cap in UI units', () => {
    const text = policyText(policy(), decimals);
    expect(text).toContain(
      'SOL: instant up to 0.6 SOL; up to 0.8 SOL at once with the owner notified; up to 0.9 SOL after a 900 s delay',
    );
    expect(text).toContain(
      "up to 1 SOL only with the owner's approval; never more than 1 SOL in one transfer; 5 SOL per rolling day",
    );
    expect(text).toContain(`token ${USDC}: instant up to 10 token ${USDC}`);
    expect(text).toContain('Rate: at most 120 transfers per hour.');
  });
});
