/** Webhooks: add one (its signing secret shown once), see each one's deliveries, send a failed one again. */
import { useState } from 'preact/hooks';
import type { CreatedWebhook, Webhook } from '../../../src/sdk/index.ts';
import { CopyButton, ErrorBox, Loading, Status, TableBox } from '../components.tsx';
import { useAsk } from '../dialogs.tsx';
import { formatTime } from '../format.ts';
import { useLoad } from '../load.ts';
import { useSession } from '../session.ts';

const EVENT_TYPES = [
  'transfer.confirmed',
  'transfer.failed',
  'transfer.delayed',
  'transfer.cancelled',
  'transfer.rejected',
  'transfer.expired',
  'approval.requested',
  'approval.approved',
  'approval.rejected',
  'wallet.frozen',
  'wallet.resumed',
  'wallet.agent_rotated',
  'wallet.withdrawn',
  'monitor.alert',
];

export function WebhooksPage() {
  const { client } = useSession();
  const ask = useAsk();
  const webhooks = useLoad(async () => (await client.webhooks.list().firstPage()).items, [client]);
  const [created, setCreated] = useState<CreatedWebhook | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const add = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const url = (form.elements.namedItem('webhook-url') as HTMLInputElement).value.trim();
    const events = EVENT_TYPES.filter(
      (type) => (form.elements.namedItem(`event-${type}`) as HTMLInputElement | null)?.checked,
    );
    setBusy(true);
    setError(undefined);
    try {
      setCreated(await client.webhooks.create({ url, ...(events.length > 0 ? { events } : {}) }));
      form.reset();
      webhooks.reload();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const remove = async (webhook: Webhook) => {
    const answer = await ask({
      title: `Delete the webhook to ${webhook.url}?`,
      body: <p>Deliveries not yet sent are cancelled.</p>,
      confirm: 'Delete webhook',
      secondFactor: 'none',
      danger: true,
    });
    if (answer === null) return;
    try {
      await client.webhooks.delete(webhook.id);
    } catch (caught) {
      setError(caught);
    }
    webhooks.reload();
  };

  return (
    <>
      <h1 tabIndex={-1}>Webhooks</h1>
      <form class="inline-form" onSubmit={add} aria-labelledby="add-webhook">
        <h2 id="add-webhook">Add a webhook</h2>
        <div class="field">
          <label for="webhook-url">URL that receives the events</label>
          <input
            id="webhook-url"
            name="webhook-url"
            type="url"
            required
            placeholder="https://example.org/waiaas"
          />
        </div>
        <fieldset class="events">
          <legend>Events (none checked: every event)</legend>
          {EVENT_TYPES.map((type) => (
            <label key={type} class="check">
              <input type="checkbox" name={`event-${type}`} /> {type}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={busy}>
          Add webhook
        </button>
      </form>
      <ErrorBox error={error} />
      {created?.secret && (
        <div class="result once" role="status" aria-label="New webhook secret">
          <p>
            <strong>Copy the signing secret now: it is shown once.</strong> Your receiver checks each
            delivery's HMAC with it.
          </p>
          <label for="new-webhook-secret">Secret of webhook {created.id}</label>
          <div class="row">
            <input id="new-webhook-secret" readOnly value={created.secret} />
            <CopyButton value={created.secret} label="Copy secret" />
          </div>
          <button type="button" onClick={() => setCreated(undefined)}>
            I have copied it: hide it
          </button>
        </div>
      )}
      <h2>Your webhooks</h2>
      <ErrorBox error={webhooks.error} title="Could not load the webhooks" />
      {webhooks.data === undefined && webhooks.error === undefined && <Loading what="webhooks" />}
      {webhooks.data?.length === 0 && <p>No webhooks yet.</p>}
      <ul class="cards">
        {webhooks.data?.map((webhook) => (
          <li key={webhook.id} class="card" data-webhook={webhook.id}>
            <h3>
              <code>{webhook.url}</code>
            </h3>
            <p class="hint">
              {webhook.events === null ? 'every event' : webhook.events.join(', ')} · added{' '}
              {formatTime(webhook.createdAt)}
            </p>
            <Deliveries webhook={webhook} />
            <button type="button" class="danger" onClick={() => remove(webhook)}>
              Delete<span class="visually-hidden"> the webhook to {webhook.url}</span>
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

function Deliveries(props: { webhook: Webhook }) {
  const { client } = useSession();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<unknown>();
  const deliveries = useLoad(
    async () =>
      open ? (await client.webhooks.deliveries(props.webhook.id, { limit: 50 }).firstPage()).items : [],
    [client, props.webhook.id, open],
  );
  const redeliver = async (deliveryId: string) => {
    setError(undefined);
    try {
      await client.webhooks.redeliver(props.webhook.id, deliveryId);
    } catch (caught) {
      setError(caught);
    }
    deliveries.reload();
  };
  const regionId = `deliveries-${props.webhook.id}`;
  return (
    <>
      <button type="button" aria-expanded={open} aria-controls={regionId} onClick={() => setOpen(!open)}>
        {open ? 'Hide deliveries' : 'Show deliveries'}
      </button>
      <div id={regionId} hidden={!open}>
        <ErrorBox error={deliveries.error ?? error} />
        {open && deliveries.data?.length === 0 && <p>No deliveries yet.</p>}
        {open && deliveries.data && deliveries.data.length > 0 && (
          <TableBox label={`Deliveries to ${props.webhook.url}`}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last answer</th>
                  <th scope="col">When</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {deliveries.data.map((delivery) => (
                  <tr key={delivery.id} data-delivery={delivery.id}>
                    <td>{delivery.type}</td>
                    <td>
                      <Status value={delivery.status} />
                    </td>
                    <td>{delivery.attempts}</td>
                    <td>{delivery.lastStatusCode ?? delivery.lastError ?? '—'}</td>
                    <td>{formatTime(delivery.deliveredAt ?? delivery.createdAt)}</td>
                    <td>
                      {delivery.status === 'failed' && (
                        <button type="button" onClick={() => redeliver(delivery.id)}>
                          Redeliver<span class="visually-hidden"> {delivery.type}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableBox>
        )}
      </div>
    </>
  );
}
