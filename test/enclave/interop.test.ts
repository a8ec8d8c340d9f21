/**
 * The daemon builds transactions with src/squads; the enclave must accept exactly those shapes and
 * count what they move (no chain needed: the enclave reads only the message bytes).
 */
import { Keypair, PublicKey } from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/core/policy.ts';
import { AgentEnclave } from '../../src/enclave/enclave.ts';
import { TOKEN_2022_PROGRAM } from '../../src/solana/inspect/programs.ts';
import { buildAgentTransfer } from '../../src/squads/spending-limit-use.ts';
import { buildVaultTransferProposal } from '../../src/squads/vault-transfer-proposal.ts';
import { createOwner, createTestVault, solPolicy } from './helpers/fixtures.ts';

describe('transactions built by src/squads', () => {
  it('are signed with the amount, asset and recipient they carry', async () => {
    const { vault } = await createTestVault();
    const enclave = AgentEnclave.create({ vault, now: () => Date.UTC(2025, 0, 15, 12) });
    const owner = createOwner();
    const alice = Keypair.generate().publicKey;
    const mint = Keypair.generate().publicKey;
    const multisig = Keypair.generate().publicKey;
    const policy: PolicyDocument = solPolicy({
      recipients: { mode: 'allowlist', addresses: [alice.toBase58()] },
    });
    policy.assets[mint.toBase58()] = {
      perTransaction: '90000000',
      daily: '200000000',
      tiers: { instantMax: '10000000', notifyMax: '50000000', delayMax: '50000000', delaySeconds: 600 },
    };
    const sealed = await enclave.createAgentKey('interop', owner.publicKey, multisig.toBase58());
    enclave.setPolicy(await owner.signPolicy('interop', policy));
    const agent = new PublicKey(sealed.publicKey);
    const envelope = {
      feePayer: Keypair.generate().publicKey,
      recentBlockhash: Keypair.generate().publicKey.toBase58(),
      computeBudget: { unitLimit: 60_000, microLamportsPerUnit: 1_000n },
    };
    const token = { mint, decimals: 6, tokenProgram: new PublicKey(TOKEN_2022_PROGRAM.bytes) };

    const sol = buildAgentTransfer({
      ...envelope,
      multisig,
      agent,
      asset: 'SOL',
      amount: 123_456_789n,
      destination: alice,
    });
    expect(enclave.sign('interop', sol.message.serialize(), { requestId: '1' })).toMatchObject({
      tier: 'notify',
      transfer: { route: 'spending-limit', asset: 'SOL', amount: 123_456_789n, recipient: alice.toBase58() },
    });
    const spl = buildAgentTransfer({
      ...envelope,
      multisig,
      agent,
      asset: token,
      amount: 9_999_999n,
      destination: alice,
    });
    expect(enclave.sign('interop', spl.message.serialize(), { requestId: '2' })).toMatchObject({
      tier: 'instant',
      transfer: { asset: mint.toBase58(), amount: 9_999_999n, recipient: alice.toBase58() },
    });
    for (const [index, asset, amount] of [
      [1n, 'SOL', 1_900_000_000n],
      [2n, token, 80_000_000n],
    ] as const) {
      const proposal = buildVaultTransferProposal({
        ...envelope,
        multisig,
        agent,
        transactionIndex: index,
        transfer: { asset, amount, destination: alice },
      });
      expect(
        enclave.sign('interop', proposal.transaction.message.serialize(), { requestId: `p${index}` }),
      ).toMatchObject({
        tier: 'approval',
        actions: ['vaultTransactionCreate', 'proposalCreate', 'proposalApprove'],
        transfer: { route: 'vault-transaction', amount, recipient: alice.toBase58() },
      });
    }
    expect(enclave.usage('interop')).toEqual({
      spent: { SOL: '123456789', [mint.toBase58()]: '9999999' },
      transfersInLastHour: 4,
    });
  });
});
