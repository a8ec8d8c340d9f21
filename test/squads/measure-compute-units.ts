/**
 * Prints the compute units each top-level instruction of our transactions uses on the real Squads
 * program (LiteSVM). Run: npx tsx test/squads/measure-compute-units.ts
 */
import { Keypair } from '@solana/web3.js';
import { buildFreeze } from '../../src/squads/owner-acts/freeze.ts';
import { buildResume } from '../../src/squads/owner-acts/resume.ts';
import { buildRotateAgent } from '../../src/squads/owner-acts/rotate-agent.ts';
import { buildWithdraw } from '../../src/squads/owner-acts/withdraw.ts';
import { buildOwnerApproveAndExecute } from '../../src/squads/owner-approve-and-execute.ts';
import { buildProposalReject } from '../../src/squads/proposal-reject.ts';
import { readPendingTransfer } from '../../src/squads/read-proposal.ts';
import { readMultisig, readSpendingLimits } from '../../src/squads/read-wallet.ts';
import { buildAgentTransfer } from '../../src/squads/spending-limit-use.ts';
import type { VaultTransfer } from '../../src/squads/vault-transfer.ts';
import { buildVaultTransferProposal } from '../../src/squads/vault-transfer-proposal.ts';
import { type SendResult, squadsSvmOrSkip } from '../support/svm.ts';
import { chainBudget, createMint, createTestWallet, mintTo, sendAsOwner } from './wallet-fixture.ts';

const svm = squadsSvmOrSkip();
if (svm === null) process.exit(0);

const rows: [string, string, number][] = [];
function record(label: string, result: SendResult) {
  if (!result.ok)
    throw new Error(`${label} failed: ${JSON.stringify(result.err)}\n${result.logs.join('\n')}`);
  let depth = 0;
  let name = '';
  for (const line of result.logs) {
    const invoke = /^Program (\w+) invoke \[(\d+)\]/.exec(line);
    if (invoke) depth = Number(invoke[2]);
    const instruction = /^Program log: Instruction: (\w+)/.exec(line);
    if (instruction && depth === 1) name = instruction[1] ?? '';
    const consumed = /^Program (\w+) consumed (\d+) of/.exec(line);
    if (consumed && depth === 1)
      rows.push([label, name || (consumed[1] ?? '').slice(0, 12), Number(consumed[2])]);
    if (/^Program \w+ (success|failed)/.test(line)) depth -= 1;
  }
  rows.push([label, '(transaction total)', result.computeUnits]);
}

const SOL = 1_000_000_000n;
const authority = svm.funded();
const token = createMint(svm, authority, 6);
const limits = [
  { asset: 'SOL' as const, amount: SOL, destinations: [] },
  { asset: token.mint, amount: 1_000_000n, destinations: [] },
];
const before = rows.length;
const wallet = await createTestWallet(svm, limits, 10n * SOL);
rows.splice(before, 0, [
  'create wallet (create + 2 limits)',
  '(transaction total)',
  wallet.computeUnits[0] ?? 0,
]);
mintTo(svm, authority, token, wallet.vault, 100_000_000n);
const recipient = Keypair.generate().publicKey;
mintTo(svm, authority, token, recipient, 0n);
const envelope = () => ({ feePayer: wallet.payer.publicKey, recentBlockhash: svm.blockhash() });

for (const asset of ['SOL' as const, token]) {
  const tx = buildAgentTransfer({
    ...envelope(),
    multisig: wallet.multisig,
    agent: wallet.agent.publicKey,
    asset,
    amount: 500_000n * 2n,
    destination: recipient,
  });
  record(`agent transfer ${asset === 'SOL' ? 'SOL' : 'SPL'}`, svm.send(tx, [wallet.payer, wallet.agent]));
}

async function approvalPath(transfer: VaultTransfer, label: string) {
  const index = (await readMultisig(svm!, wallet.multisig)).transactionIndex + 1n;
  const proposal = buildVaultTransferProposal({
    ...envelope(),
    multisig: wallet.multisig,
    agent: wallet.agent.publicKey,
    transactionIndex: index,
    transfer,
  });
  record(`propose ${label}`, svm!.send(proposal.transaction, [wallet.payer, wallet.agent]));
  const { vaultTransaction } = await readPendingTransfer(svm!, wallet.multisig, index);
  const execute = buildOwnerApproveAndExecute({
    ...envelope(),
    multisig: wallet.multisig,
    owner: wallet.owner.publicKey,
    transactionIndex: index,
    vaultTransaction: vaultTransaction!,
    expected: transfer,
  });
  record(`owner approve+execute ${label}`, await sendAsOwner(wallet, execute, [wallet.payer]));
}
await approvalPath({ asset: 'SOL', amount: 2n * SOL, destination: recipient }, 'SOL');
await approvalPath({ asset: token, amount: 5_000_000n, destination: recipient }, 'SPL');

{
  const index = (await readMultisig(svm, wallet.multisig)).transactionIndex + 1n;
  const proposal = buildVaultTransferProposal({
    ...envelope(),
    multisig: wallet.multisig,
    agent: wallet.agent.publicKey,
    transactionIndex: index,
    transfer: { asset: 'SOL', amount: SOL, destination: recipient },
  });
  svm.sendOk(proposal.transaction, [wallet.payer, wallet.agent]);
  record(
    'owner reject',
    await sendAsOwner(
      wallet,
      buildProposalReject({
        ...envelope(),
        multisig: wallet.multisig,
        member: wallet.owner.publicKey,
        transactionIndex: index,
      }),
      [wallet.payer],
    ),
  );
}

const current = async () => ({
  multisig: await readMultisig(svm!, wallet.multisig),
  spendingLimits: await readSpendingLimits(svm!, wallet.multisig),
});
const owner = wallet.owner.publicKey;
const budget = () => chainBudget(svm!, wallet.vault, [token]);
record(
  'freeze (2 limits)',
  await sendAsOwner(
    wallet,
    buildFreeze({ ...envelope(), owner, current: await current(), budget: budget() })!,
    [wallet.payer],
  ),
);
record(
  'resume (2 limits)',
  await sendAsOwner(
    wallet,
    buildResume({
      ...envelope(),
      owner,
      current: await current(),
      agent: wallet.agent.publicKey,
      limits,
      budget: budget(),
    })!,
    [wallet.payer],
  ),
);
record(
  'rotate agent (2 limits)',
  await sendAsOwner(
    wallet,
    buildRotateAgent({
      ...envelope(),
      owner,
      current: await current(),
      oldAgent: wallet.agent.publicKey,
      newAgent: Keypair.generate().publicKey,
      limits,
      budget: budget(),
    }),
    [wallet.payer],
  ),
);
record(
  'withdraw SOL',
  await sendAsOwner(
    wallet,
    buildWithdraw({
      ...envelope(),
      owner,
      multisig: wallet.multisig,
      destination: Keypair.generate().publicKey,
      asset: 'SOL',
      amount: SOL,
    }),
    [wallet.payer],
  ),
);
record(
  'withdraw SPL (with new ATA)',
  await sendAsOwner(
    wallet,
    buildWithdraw({
      ...envelope(),
      owner,
      multisig: wallet.multisig,
      destination: Keypair.generate().publicKey,
      asset: token,
      amount: 1_000n,
    }),
    [wallet.payer],
  ),
);

for (const [label, instruction, units] of rows)
  console.log(`${label.padEnd(36)} ${instruction.padEnd(28)} ${String(units).padStart(7)}`);
