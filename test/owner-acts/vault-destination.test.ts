/**
 * Budget continuity makes the owner a member of the agent's limits and the vault one of their
 * destinations (the owner's vault-to-vault use carries a period's spending into a re-created limit).
 * Neither is a path for the agent: the server refuses the vault as a recipient, the enclave signs no
 * transfer to the vault whatever the policy's recipients, and the owner's key is not the agent's.
 */
import { Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileTransaction, readSpendingLimits, spendingLimitAddress } from '../../src/squads/index.ts';
import { encodeSpendingLimitUse } from '../../src/squads/spending-limit-use.ts';
import { bearer, createOwnerWalletSession, starterPolicy } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { enclaveVerdict, fundVault, SOL } from './helpers.ts';

const recipientOf = (recipients: { mode: string; addresses?: readonly string[] }) =>
  new PublicKey(recipients.addresses?.[0] ?? Keypair.generate().publicKey);

describeWithSquads('the vault as a destination', () => {
  let daemon: TestDaemon;

  beforeAll(async () => {
    daemon = await startTestDaemon();
  });
  afterAll(async () => {
    await daemon?.close();
  });

  for (const recipients of [
    { mode: 'any' },
    { mode: 'allowlist', addresses: [Keypair.generate().publicKey.toBase58()] },
  ] as const) {
    it(`is refused to the agent by the server and the enclave (recipients ${recipients.mode})`, async () => {
      const setup = await createOwnerWalletSession(
        daemon.app,
        daemon.runtime.store,
        starterPolicy({ recipients }),
      );
      await fundVault(daemon, setup.wallet.vault, 2n * SOL);
      const vault = new PublicKey(setup.wallet.vault);
      const [limit] = await readSpendingLimits(
        daemon.runtime.chain.connection,
        new PublicKey(setup.wallet.multisig),
      );
      // The chain would take it: the owner is a member, and with an allowlist the vault is a destination.
      expect(limit?.members.map(String).sort()).toEqual(
        [setup.owner.publicKey, setup.wallet.agentPublicKey].sort(),
      );
      if (recipients.mode === 'allowlist')
        expect(limit?.destinations.map(String)).toContain(vault.toBase58());

      const server = await daemon.app.inject({
        method: 'POST',
        url: `/v1/wallets/${setup.wallet.id}/transfers`,
        headers: bearer(setup.session.token),
        payload: { to: vault.toBase58(), amount: '1000' },
      });
      expect([server.statusCode, server.json().code]).toEqual([400, 'INVALID_ADDRESS']);

      // A compromised host hands the enclave the agent's use of its limit to the vault.
      const { blockhash } = await daemon.runtime.chain.recentBlockhash();
      const multisig = new PublicKey(setup.wallet.multisig);
      const toVault = compileTransaction(
        { feePayer: daemon.runtime.feePayer.publicKey, recentBlockhash: blockhash },
        [
          encodeSpendingLimitUse({
            multisig,
            member: new PublicKey(setup.wallet.agentPublicKey),
            spendingLimit: spendingLimitAddress(multisig, 'SOL'),
            asset: 'SOL',
            amount: 1_000n,
            destination: vault,
          }),
        ],
      );
      const refusal = await daemon.runtime.enclave
        .use((client) =>
          client.sign(setup.wallet.id, toVault.message.serialize(), {
            requestId: `vault-${setup.wallet.id}`,
          }),
        )
        .then(
          () => 'signed',
          (error: { code?: string; layer?: string }) => `${error.code}@${error.layer}`,
        );
      expect(refusal).toMatch(/@enclave$/);
      // The same use to anyone else is signed: the refusal is about the vault.
      expect(
        await enclaveVerdict(
          daemon,
          setup.wallet,
          setup.wallet.agentPublicKey,
          1_000n,
          recipientOf(recipients),
        ),
      ).toBe('signed');
    });
  }
});
