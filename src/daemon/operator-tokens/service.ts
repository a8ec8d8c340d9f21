/**
 * Operator tokens can be rotated and revoked: issue a new one (shown once, only its hash kept), list
 * them (never a secret), revoke one at once. The last valid token cannot be revoked, so the operator
 * can always still reach the API (create the next one first: that is a rotation). Every change is
 * audited in its own write transaction.
 */
import { WaiaasError } from '../../core/errors.ts';
import { generateToken, hashToken } from '../../core/tokens.ts';
import {
  countActiveOperatorTokens,
  findOperatorToken,
  insertOperatorToken,
  listOperatorTokens,
  type OperatorToken,
  revokeOperatorToken,
} from '../../store/operator-tokens.ts';
import type { Store } from '../../store/store.ts';
import { appendAudit } from '../audit/index.ts';

export interface IssuedOperatorToken {
  readonly token: OperatorToken;
  /** Shown once. */
  readonly secret: string;
}

export async function issueOperatorToken(store: Store, label: string): Promise<IssuedOperatorToken> {
  const secret = generateToken('waiaas_op_');
  const token = await store.writeTransaction(async (trx) => {
    const created = await insertOperatorToken(trx, { tokenHash: hashToken(secret), label });
    await appendAudit(trx, {
      kind: 'operator_token.created',
      actor: { role: 'operator' },
      subject: created.id,
      details: { label },
    });
    return created;
  });
  return { token, secret };
}

export const operatorTokens = (store: Store): Promise<OperatorToken[]> => listOperatorTokens(store.db);

/** Revokes it now; a token already revoked stays so (no error); an unknown id is NOT_FOUND. */
export async function revokeOperatorTokenById(store: Store, id: string): Promise<OperatorToken> {
  return store.writeTransaction(async (trx) => {
    const token = await findOperatorToken(trx, id);
    if (token === undefined) throw new WaiaasError('NOT_FOUND', { message: `No operator token ${id}.` });
    if (token.revokedAt !== null) return token;
    if ((await countActiveOperatorTokens(trx)) <= 1) {
      throw new WaiaasError('CONFLICT', {
        message: 'This is the last valid operator token: issue another one before revoking it.',
        details: { id },
      });
    }
    const at = BigInt(Date.now());
    await revokeOperatorToken(trx, id, at);
    await appendAudit(trx, {
      kind: 'operator_token.revoked',
      actor: { role: 'operator' },
      subject: id,
      details: { label: token.label },
    });
    return { ...token, revokedAt: at };
  });
}
