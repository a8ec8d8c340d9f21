/**
 * GET /v1/events: the owner's live feed, the audit entries about them and their wallets as they are
 * appended (a transfer waiting for approval, one confirmed, a freeze, a policy change). With
 * `Accept: text/event-stream` the answer is a server-sent event stream that stays open; otherwise one
 * JSON page after a cursor, for clients that poll (and for tests that cannot hold a stream open).
 *
 * Fed from the audit log in the database (see events/audit-tail.ts), not from this process's memory,
 * so an owner connected to one replica sees what every replica does. The event id is the entry's
 * sequence: a client that reconnects with Last-Event-ID (or `after`) misses nothing.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WaiaasError } from '../../core/errors.ts';
import { auditRowsAfterForOwner } from '../../store/audit.ts';
import type { Owner, Store } from '../../store/index.ts';
import { requireRole } from '../auth.ts';
import { type AuditTail, createAuditTail } from '../events/audit-tail.ts';
import type { Logger } from '../logger.ts';
import type { PrincipalCache } from '../principal-cache.ts';
import { problemSchema } from '../problem.ts';
import { ownerOf } from './access.ts';
import { auditEntrySchema, presentAuditEntry } from './audit.ts';

const cursorSchema = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,17})$/, 'expected the sequence of an entry already seen (an event id)');

const eventsQuery = z.strictObject({
  after: cursorSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** Rows read per query while a stream catches up. */
const STREAM_BATCH = 200;
/** A comment line this often keeps proxies and the browser from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

export interface EventRoutesOptions {
  readonly store: Store;
  /** The replica's principal cache (`runtime.services.principals`). */
  readonly principals: Pick<PrincipalCache, 'resolve'>;
  readonly logger: Logger;
  /** How often the audit head is read while a stream is open (default 250 ms). */
  readonly pollMs?: number;
}

const wantsStream = (request: FastifyRequest): boolean =>
  /\btext\/event-stream\b/i.test(String(request.headers.accept ?? ''));

/** Where a stream resumes: Last-Event-ID wins over `after` (the browser's own reconnection sends it). */
const resumeCursor = (request: FastifyRequest, after: string | undefined): bigint | undefined => {
  const header = request.headers['last-event-id'];
  if (typeof header === 'string' && header !== '') {
    const parsed = cursorSchema.safeParse(header);
    if (!parsed.success)
      throw new WaiaasError('VALIDATION_FAILED', {
        message: 'Last-Event-ID is not an event id of this feed.',
        details: { issues: [{ path: 'Last-Event-ID', message: parsed.error.issues[0]?.message }] },
      });
    return BigInt(parsed.data);
  }
  return after === undefined ? undefined : BigInt(after);
};

interface OpenStream {
  end(): void;
}

/** One open event stream: writes the owner's entries after its cursor each time the head moves. */
function openStream(
  deps: { store: Store; tail: AuditTail; logger: Logger },
  owner: Owner,
  reply: FastifyReply,
  start: bigint,
  onEnd: () => void,
): OpenStream {
  const raw = reply.raw;
  let cursor = start;
  let ended = false;
  let pumping = false;
  let again = false;

  const write = (text: string) => {
    if (!ended) raw.write(text);
  };

  const pump = async (): Promise<void> => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        for (;;) {
          const rows = await auditRowsAfterForOwner(deps.store.db, {
            ownerId: owner.id,
            after: cursor,
            limit: STREAM_BATCH,
          });
          for (const row of rows) {
            const entry = presentAuditEntry(row);
            write(`id: ${entry.sequence}\nevent: ${entry.kind}\ndata: ${JSON.stringify(entry)}\n\n`);
            cursor = BigInt(entry.sequence);
          }
          if (rows.length < STREAM_BATCH || ended) break;
        }
      } while (again && !ended);
    } catch (error) {
      deps.logger.warn({ err: error }, 'could not read the owner feed; the next head move retries');
    } finally {
      pumping = false;
    }
  };

  const unsubscribe = deps.tail.subscribe(() => void pump());
  const heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();

  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe();
    raw.end();
    onEnd();
  };
  raw.on('close', end);

  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx and its kind buffer responses unless told not to, which would hold events back.
    'x-accel-buffering': 'no',
  });
  // `ready` says the stream is live and from where: its id is the cursor a reconnection resumes at.
  write(`retry: 2000\nid: ${start}\nevent: ready\ndata: ${JSON.stringify({ cursor: start.toString() })}\n\n`);
  void pump();
  return { end };
}

export const eventRoutes =
  (options: EventRoutesOptions): FastifyPluginAsync =>
  async (app) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const { store, logger } = options;
    const tail = createAuditTail({ store, logger, ...(options.pollMs ? { pollMs: options.pollMs } : {}) });
    const streams = new Set<OpenStream>();
    // Open streams never finish by themselves: end them first, or closing would wait on them forever.
    app.addHook('preClose', async () => {
      for (const stream of [...streams]) stream.end();
      tail.close();
    });

    typed.get(
      '/v1/events',
      {
        onRequest: requireRole(options.principals, 'owner'),
        schema: {
          summary: "The owner's live feed: audit entries about them and their wallets, as they happen",
          description:
            'With `Accept: text/event-stream`: a server-sent event stream (event = the entry kind, id = ' +
            'its sequence, data = the AuditEntry; first a `ready` event carrying the cursor). It starts ' +
            'at the newest entry, or after `after` / Last-Event-ID, so a reconnection misses nothing. ' +
            'Otherwise: the entries after `after`, oldest first, and the cursor to pass next time ' +
            '(without `after`: none, and the cursor of the newest entry).',
          tags: ['audit'],
          security: [{ bearer: [] }],
          querystring: eventsQuery,
          response: {
            200: z
              .object({
                items: z.array(auditEntrySchema),
                cursor: z.string().describe('pass as `after` (or Last-Event-ID) to continue'),
              })
              .meta({ id: 'EventPage' }),
            400: problemSchema,
            401: problemSchema,
            403: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const owner = ownerOf(request.principal);
        const after = resumeCursor(request, request.query.after);
        if (wantsStream(request)) {
          const start = after ?? (await tail.head());
          reply.hijack();
          const stream = openStream({ store, tail, logger }, owner, reply, start, () =>
            streams.delete(stream),
          );
          streams.add(stream);
          return reply;
        }
        if (after === undefined) return { items: [], cursor: (await tail.head()).toString() };
        const rows = await auditRowsAfterForOwner(store.db, {
          ownerId: owner.id,
          after,
          limit: request.query.limit,
        });
        return {
          items: rows.map(presentAuditEntry),
          cursor: rows.at(-1)?.sequence.toString() ?? after.toString(),
        };
      },
    );
  };
