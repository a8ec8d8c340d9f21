import { SendTransactionError } from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import { chainErrorFrom, chainRejection, squadsErrorName } from '../../src/squads/errors.ts';

const SQUADS = 'SQDS4ep65T869zMMBKyuUq6aD6EgTu8psMjkvj52pCf';

describe('chain refusals as catalogue errors', () => {
  it('names Squads custom errors from the status JSON alone (as getSignatureStatuses returns it)', () => {
    const error = chainRejection({ InstructionError: [1, { Custom: 6026 }] });
    expect(error).toMatchObject({ code: 'CHAIN_REJECTED', status: 422, layer: 'chain' });
    expect(error.details).toMatchObject({
      programError: 'SpendingLimitExceeded',
      code: 6026,
      instructionIndex: 1,
    });
    expect(error.message).toContain('SpendingLimitExceeded');
    expect([6003, 6008, 6021, 6025].map((code) => squadsErrorName(code))).toEqual([
      'InvalidThreshold',
      'InvalidProposalStatus',
      'TimeLockNotReleased',
      'InvalidDestination',
    ]);
  });

  it('reads a preflight refusal from web3.js SendTransactionError, logs included', () => {
    const logs = [
      `Program ${SQUADS} invoke [1]`,
      'Program log: AnchorError occurred. Error Code: InvalidDestination. Error Number: 6025.',
      `Program ${SQUADS} failed: custom program error: 0x1789`,
    ];
    const sendError = new SendTransactionError({
      action: 'send',
      signature: '',
      transactionMessage:
        'Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1789',
      logs,
    });
    const error = chainErrorFrom(sendError);
    expect(error.code).toBe('CHAIN_REJECTED');
    expect(error.details).toMatchObject({
      program: 'squads',
      programError: 'InvalidDestination',
      code: 6025,
      logs,
    });
  });

  it('tells a vault short of funds apart from a program refusal', () => {
    const logs = [
      `Program ${SQUADS} invoke [1]`,
      'Program 11111111111111111111111111111111 invoke [2]',
      'Transfer: insufficient lamports 5, need 10',
      'Program 11111111111111111111111111111111 failed: custom program error: 0x1',
      `Program ${SQUADS} failed: custom program error: 0x1`,
    ];
    expect(chainRejection({ InstructionError: [0, { Custom: 1 }] }, logs).code).toBe('INSUFFICIENT_FUNDS');
  });

  it('a transport failure is CHAIN_UNAVAILABLE (retryable), never a refusal', () => {
    const error = chainErrorFrom(new TypeError('fetch failed'));
    expect(error).toMatchObject({ code: 'CHAIN_UNAVAILABLE', retryable: true });
  });
});
