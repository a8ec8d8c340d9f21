import type { FastifyReply, FastifyRequest } from 'fastify';
import { WaiaasError } from '../core/errors.ts';
import { hashToken } from '../core/tokens.ts';

/** Looks up a token by its hash; the raw token never reaches the database. */
export type OperatorTokenCheck = (tokenHash: string) => Promise<boolean>;

export const bearerToken = (request: FastifyRequest): string | undefined => {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
};

/** A preHandler that admits only the operator master token. */
export const operatorAuth =
  (isOperatorToken: OperatorTokenCheck) =>
  async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = bearerToken(request);
    if (token === undefined)
      throw new WaiaasError('UNAUTHORIZED', { message: 'Send the operator token as a bearer token.' });
    if (!(await isOperatorToken(hashToken(token)))) throw new WaiaasError('UNAUTHORIZED');
  };
