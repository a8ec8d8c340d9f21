import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type AuditRow, auditPage } from '../../store/audit.ts';
import type { Store } from '../../store/store.ts';
import { auditActorRoles, auditKinds, verifyAuditChain } from '../audit/index.ts';
import { requireRole } from '../auth.ts';
import type { PrincipalCache } from '../principal-cache.ts';
import { problemSchema } from '../problem.ts';
import { walletFor } from './access.ts';

export const auditEntrySchema = z
  .object({
    sequence: z.string().describe('position in the chain, from 1'),
    at: z.string().describe('ISO 8601 time of the act'),
    kind: z.enum(auditKinds),
    actor: z.object({ role: z.enum(auditActorRoles), id: z.string().optional() }),
    ownerId: z.string().nullable(),
    walletId: z.string().nullable(),
    subject: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    prevHash: z.string(),
    hash: z.string(),
  })
  .meta({ id: 'AuditEntry' });

export const auditVerificationSchema = z
  .object({
    ok: z.boolean(),
    entries: z.number().int(),
    head: z.object({ sequence: z.number().int(), hash: z.string() }),
    firstBroken: z.object({ sequence: z.number().int(), reason: z.string() }).optional(),
  })
  .meta({ id: 'AuditVerification' });

const auditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,17}$/, 'expected the nextCursor of a previous page')
    .optional(),
  walletId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
  kind: z.enum(auditKinds).optional(),
});

export const presentAuditEntry = (row: AuditRow) => ({
  sequence: row.sequence.toString(),
  at: new Date(Number(row.at)).toISOString(),
  kind: row.kind as (typeof auditKinds)[number],
  actor: {
    role: row.actor_role as (typeof auditActorRoles)[number],
    ...(row.actor_id !== null ? { id: row.actor_id } : {}),
  },
  ownerId: row.owner_id,
  walletId: row.wallet_id,
  subject: row.subject,
  details: JSON.parse(row.details) as Record<string, unknown>,
  prevHash: row.prev_hash,
  hash: row.hash,
});

const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };

/** GET /v1/audit (owner: entries about them and their wallets; operator: all) and GET /v1/audit/verify. */
export const auditRoutes =
  (deps: { store: Store; principals: Pick<PrincipalCache, 'resolve'> }): FastifyPluginAsync =>
  async (app) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const { store, principals } = deps;

    typed.get(
      '/v1/audit',
      {
        onRequest: requireRole(principals, 'owner', 'operator'),
        schema: {
          summary: 'Audit entries, newest first',
          description:
            'An owner sees the entries about them and their wallets; the operator sees every entry. ' +
            'Pass nextCursor as cursor for the next (older) page.',
          tags: ['audit'],
          security: [{ bearer: [] }],
          querystring: auditQuery,
          response: {
            200: z.object({ items: z.array(auditEntrySchema), nextCursor: z.string().nullable() }),
            ...errors,
          },
        },
      },
      async (request) => {
        const { principal } = request;
        const { limit, cursor, walletId, kind } = request.query;
        if (walletId !== undefined && principal?.role === 'owner')
          await walletFor(store, principal, walletId);
        const rows = await auditPage(store.db, {
          ownerId: principal?.role === 'owner' ? principal.owner.id : undefined,
          walletId,
          kind,
          before: cursor === undefined ? undefined : BigInt(cursor),
          limit: limit + 1,
        });
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return {
          items: page.map(presentAuditEntry),
          nextCursor: rows.length > limit && last ? last.sequence.toString() : null,
        };
      },
    );

    typed.get(
      '/v1/audit/verify',
      {
        onRequest: requireRole(principals, 'owner', 'operator'),
        schema: {
          summary: 'Walk the audit hash chain and name the first broken entry',
          description:
            'ok is false when any entry was edited or deleted; firstBroken names where the chain breaks.',
          tags: ['audit'],
          security: [{ bearer: [] }],
          response: { 200: auditVerificationSchema, ...errors },
        },
      },
      async () => verifyAuditChain(store.db),
    );
  };
