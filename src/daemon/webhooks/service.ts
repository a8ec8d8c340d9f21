/**
 * Owners' webhooks: subscribe, list, delete, read and re-send deliveries. Every change is one write
 * transaction with its audit entry; the SQL lives in src/store. Another owner's webhook answers
 * exactly as a webhook that does not exist.
 */
import { randomBytes } from 'node:crypto';
import { WaiaasError } from '../../core/errors.ts';
import {
  cancelPendingDeliveries,
  type DeliveryRow,
  type DeliveryStatus,
  deliveriesOfWebhook,
  redeliver,
} from '../../store/outbox.ts';
import type { Owner } from '../../store/owners.ts';
import type { Store } from '../../store/store.ts';
import {
  countWebhooksOfOwner,
  deleteWebhook,
  findWebhook,
  insertWebhook,
  listWebhooksOfOwner,
  type Webhook,
} from '../../store/webhooks.ts';
import { appendAudit } from '../audit/index.ts';
import {
  assertWebhookDestination,
  type DestinationRules,
  describeWebhookUrl,
  generateWebhookSecret,
  parseWebhookUrl,
  sealWebhookSecret,
  type WebhookSecretKey,
} from '../notifier/index.ts';

/** Enough for an owner's receivers; bounds how many deliveries one event can fan out to. */
export const MAX_WEBHOOKS_PER_OWNER = 20;

export interface WebhookServiceDeps {
  readonly store: Store;
  readonly secretKey: WebhookSecretKey;
  readonly rules: DestinationRules;
}

export interface CreateWebhookParams {
  readonly url: string;
  readonly events?: readonly string[] | undefined;
  /** The owner's own signing secret; one is generated when absent. */
  readonly secret?: string | undefined;
}

export interface CreatedWebhook {
  readonly webhook: Webhook;
  /** Only when generated here: shown to the owner this once. */
  readonly generatedSecret: string | undefined;
}

export interface DeliveryPage {
  readonly items: DeliveryRow[];
  readonly nextCursor: string | null;
}

const notFound = (id: string) => new WaiaasError('NOT_FOUND', { message: `No webhook ${id}.` });

export class WebhookService {
  readonly #deps: WebhookServiceDeps;

  constructor(deps: WebhookServiceDeps) {
    this.#deps = deps;
  }

  /** The owner's live webhook `id`; NOT_FOUND for a missing, deleted or another owner's one alike. */
  async owned(owner: Pick<Owner, 'id'>, id: string): Promise<Webhook> {
    const webhook = await findWebhook(this.#deps.store.db, id);
    if (!webhook || webhook.ownerId !== owner.id) throw notFound(id);
    return webhook;
  }

  /** The URL is checked for form, then for where it points (resolved now; again at each delivery). */
  async create(owner: Pick<Owner, 'id'>, params: CreateWebhookParams): Promise<CreatedWebhook> {
    const { store, secretKey, rules } = this.#deps;
    const url = parseWebhookUrl(params.url);
    await assertWebhookDestination(url, rules);
    const generatedSecret = params.secret === undefined ? generateWebhookSecret() : undefined;
    const secret = params.secret ?? generatedSecret!;
    const id = `whk_${randomBytes(9).toString('base64url')}`;
    const webhook = await store.writeTransaction(async (trx) => {
      if ((await countWebhooksOfOwner(trx, owner.id)) >= MAX_WEBHOOKS_PER_OWNER) {
        throw new WaiaasError('CONFLICT', {
          message: `An owner may have at most ${MAX_WEBHOOKS_PER_OWNER} webhooks; delete one first.`,
        });
      }
      const created = await insertWebhook(trx, {
        id,
        ownerId: owner.id,
        url: url.href,
        events: params.events === undefined ? null : [...params.events],
        secretSealed: sealWebhookSecret(secretKey, id, secret),
      });
      await appendAudit(trx, {
        kind: 'webhook.created',
        actor: { role: 'owner', id: owner.id },
        subject: id,
        details: { url: describeWebhookUrl(url), events: params.events ?? 'all' },
      });
      return created;
    });
    return { webhook, generatedSecret };
  }

  list(owner: Pick<Owner, 'id'>): Promise<Webhook[]> {
    return listWebhooksOfOwner(this.#deps.store.db, owner.id);
  }

  /** Soft-deletes it and cancels what was not yet sent; a second delete is NOT_FOUND. */
  async delete(owner: Pick<Owner, 'id'>, id: string): Promise<void> {
    const webhook = await this.owned(owner, id);
    await this.#deps.store.writeTransaction(async (trx) => {
      if (!(await deleteWebhook(trx, webhook.id))) return;
      await cancelPendingDeliveries(trx, webhook.id, BigInt(Date.now()));
      await appendAudit(trx, {
        kind: 'webhook.deleted',
        actor: { role: 'owner', id: owner.id },
        subject: webhook.id,
      });
    });
  }

  /** Newest first; `cursor` is a previous page's nextCursor ("createdAt.id"). */
  async deliveries(
    owner: Pick<Owner, 'id'>,
    id: string,
    query: { limit: number; cursor?: string | undefined; status?: DeliveryStatus | undefined },
  ): Promise<DeliveryPage> {
    const webhook = await this.owned(owner, id);
    const [createdAt, deliveryId] = query.cursor?.split('.') ?? [];
    const rows = await deliveriesOfWebhook(this.#deps.store.db, webhook.id, {
      status: query.status,
      ...(createdAt && deliveryId ? { before: { createdAt: BigInt(createdAt), id: deliveryId } } : {}),
      limit: query.limit + 1,
    });
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > query.limit && last ? `${last.created_at}.${last.id}` : null,
    };
  }

  /** Sends a dead-lettered delivery again from its first attempt. */
  async redeliver(owner: Pick<Owner, 'id'>, id: string, deliveryId: string): Promise<void> {
    const webhook = await this.owned(owner, id);
    if (!(await redeliver(this.#deps.store.db, deliveryId, webhook.id, BigInt(Date.now())))) {
      throw new WaiaasError('CONFLICT', {
        message: `No dead-lettered delivery ${deliveryId} on this webhook; only a delivery that failed for good can be sent again.`,
      });
    }
  }
}
