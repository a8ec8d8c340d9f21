import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import bs58 from 'bs58';
import { type WebSocket, WebSocketServer } from 'ws';
import { SLOT_MS } from '../chain/clock.ts';
import type { LocalChain, ProcessedTransaction } from '../chain/local-chain.ts';
import { type AccountView, accountView, encodeAccount } from './encode-account.ts';
import { RpcError, RpcErrorCode } from './errors.ts';
import { toJson } from './json.ts';
import { address, asParams, config, signature, unsignedInteger } from './params.ts';

const SYSTEM_PROGRAM = '11111111111111111111111111111111';

interface Subscription {
  id: number;
  socket: WebSocket;
  kind: 'signature' | 'account' | 'slot' | 'root';
  key: string;
  view?: AccountView;
}

const NOTIFICATION_METHOD = {
  signature: 'signatureNotification',
  account: 'accountNotification',
  slot: 'slotNotification',
  root: 'rootNotification',
} as const;

/**
 * The validator's PubSub websocket: signature, account, slot and root subscriptions. Signature
 * subscriptions fire once when the transaction is processed (at once if it already was) and end.
 */
export class SubscriptionServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  private readonly byId = new Map<number, Subscription>();
  private readonly bySignature = new Map<string, Set<Subscription>>();
  private readonly byAccount = new Map<string, Set<Subscription>>();
  private readonly slotSubscribers = new Set<Subscription>();
  private nextId = 0;
  private slotTimer: NodeJS.Timeout | null = null;
  private lastNotifiedSlot = -1;
  private readonly detach: () => void;

  constructor(private readonly chain: LocalChain) {
    this.detach = chain.onProcessed((event) => this.onProcessed(event));
    this.wss.on('connection', (socket) => {
      socket.on('message', (data) => this.onMessage(socket, data.toString()));
      socket.on('close', () => this.dropSocket(socket));
      socket.on('error', () => socket.terminate());
    });
  }

  /** Accepts websocket upgrades arriving at an HTTP server. */
  attach(server: Server): void {
    server.on('upgrade', (req, socket: Duplex, head) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
    });
  }

  async close(): Promise<void> {
    this.detach();
    if (this.slotTimer) clearInterval(this.slotTimer);
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onMessage(socket: WebSocket, text: string): void {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      socket.send(
        toJson({
          jsonrpc: '2.0',
          id: null,
          error: { code: RpcErrorCode.PARSE_ERROR, message: 'Parse error' },
        }),
      );
      return;
    }
    const requests = Array.isArray(body) ? body : [body];
    const responses = requests.map((request) => this.handle(socket, request)).filter((r) => r !== undefined);
    if (responses.length > 0) socket.send(toJson(Array.isArray(body) ? responses : responses[0]));
    // Already-processed signatures are answered after the subscription id is known to the client.
    for (const request of requests) this.flushImmediate(request);
  }

  private pendingImmediate = new Map<unknown, () => void>();

  private flushImmediate(request: unknown): void {
    const run = this.pendingImmediate.get(request);
    if (!run) return;
    this.pendingImmediate.delete(request);
    // A later turn, so the client has registered the subscription id before the notification lands.
    setImmediate(run);
  }

  private handle(socket: WebSocket, request: unknown): unknown {
    if (typeof request !== 'object' || request === null) {
      return {
        jsonrpc: '2.0',
        id: null,
        error: { code: RpcErrorCode.INVALID_REQUEST, message: 'Invalid request' },
      };
    }
    const { id, method, params } = request as { id?: unknown; method?: unknown; params?: unknown };
    if (id === undefined) return undefined; // notifications such as web3.js's "ping"
    try {
      const result = this.call(socket, request, String(method), asParams(params));
      return { jsonrpc: '2.0', id, result };
    } catch (error) {
      const rpc =
        error instanceof RpcError ? error : new RpcError(RpcErrorCode.INTERNAL_ERROR, 'Internal error');
      return { jsonrpc: '2.0', id, error: { code: rpc.code, message: rpc.message } };
    }
  }

  private call(socket: WebSocket, request: unknown, method: string, params: readonly unknown[]): unknown {
    switch (method) {
      case 'signatureSubscribe': {
        const sig = signature(params[0]);
        config(params[1]);
        const sub = this.add(socket, 'signature', sig);
        const status = this.chain.signatureStatus(sig);
        if (status) {
          this.pendingImmediate.set(request, () => this.notifySignature(sub, status.slot, status.err));
        }
        return sub.id;
      }
      case 'accountSubscribe': {
        const key = bs58.encode(address(params[0]));
        const options = config(params[1]);
        return this.add(socket, 'account', key, accountView(options, 'binary')).id;
      }
      case 'slotSubscribe':
        return this.add(socket, 'slot', '').id;
      case 'rootSubscribe':
        return this.add(socket, 'root', '').id;
      case 'signatureUnsubscribe':
      case 'accountUnsubscribe':
      case 'slotUnsubscribe':
      case 'rootUnsubscribe': {
        const sub = this.byId.get(unsignedInteger(params[0], 'subscription id'));
        const kind = method.slice(0, -'Unsubscribe'.length);
        if (!sub || sub.socket !== socket || sub.kind !== kind) {
          throw new RpcError(RpcErrorCode.INVALID_PARAMS, 'Invalid subscription id.');
        }
        this.remove(sub);
        return true;
      }
      default:
        throw new RpcError(RpcErrorCode.METHOD_NOT_FOUND, 'Method not found');
    }
  }

  private add(socket: WebSocket, kind: Subscription['kind'], key: string, view?: AccountView): Subscription {
    const sub: Subscription = { id: this.nextId++, socket, kind, key, ...(view ? { view } : {}) };
    this.byId.set(sub.id, sub);
    if (kind === 'signature') setOf(this.bySignature, key).add(sub);
    else if (kind === 'account') setOf(this.byAccount, key).add(sub);
    else {
      this.slotSubscribers.add(sub);
      this.startSlotTimer();
    }
    return sub;
  }

  private remove(sub: Subscription): void {
    this.byId.delete(sub.id);
    const index =
      sub.kind === 'signature' ? this.bySignature : sub.kind === 'account' ? this.byAccount : null;
    if (index) {
      const set = index.get(sub.key);
      set?.delete(sub);
      if (set?.size === 0) index.delete(sub.key);
    } else {
      this.slotSubscribers.delete(sub);
      if (this.slotSubscribers.size === 0 && this.slotTimer) {
        clearInterval(this.slotTimer);
        this.slotTimer = null;
      }
    }
  }

  private dropSocket(socket: WebSocket): void {
    for (const sub of [...this.byId.values()]) if (sub.socket === socket) this.remove(sub);
  }

  private send(sub: Subscription, result: unknown): void {
    if (sub.socket.readyState !== sub.socket.OPEN) return;
    sub.socket.send(
      toJson({
        jsonrpc: '2.0',
        method: NOTIFICATION_METHOD[sub.kind],
        params: { result, subscription: sub.id },
      }),
    );
  }

  private notifySignature(sub: Subscription, slot: number, err: unknown): void {
    if (!this.byId.has(sub.id)) return;
    this.send(sub, { context: { slot }, value: { err } });
    this.remove(sub);
  }

  private onProcessed(event: ProcessedTransaction): void {
    if (this.bySignature.size > 0) {
      const subs = this.bySignature.get(event.signature);
      if (subs) for (const sub of [...subs]) this.notifySignature(sub, event.slot, event.err);
    }
    if (this.byAccount.size > 0) {
      for (const key of event.writableAccounts) {
        const subs = this.byAccount.get(bs58.encode(key));
        if (!subs) continue;
        const account = this.chain.svm.getAccount(key);
        for (const sub of subs)
          this.send(sub, { context: { slot: event.slot }, value: this.accountValue(account, sub) });
      }
    }
  }

  private accountValue(account: ReturnType<LocalChain['svm']['getAccount']>, sub: Subscription): unknown {
    if (!account) {
      // A closed account is reported as an empty system account, as the validator does.
      return {
        data: ['', 'base64'],
        executable: false,
        lamports: 0,
        owner: SYSTEM_PROGRAM,
        rentEpoch: 0,
        space: 0,
      };
    }
    try {
      return encodeAccount(account, sub.view!, this.chain.svm);
    } catch {
      return encodeAccount(
        account,
        { encoding: 'base64', dataSlice: sub.view?.dataSlice ?? null },
        this.chain.svm,
      );
    }
  }

  private startSlotTimer(): void {
    if (this.slotTimer) return;
    this.slotTimer = setInterval(() => {
      const { slot } = this.chain.tick();
      if (slot === this.lastNotifiedSlot) return;
      this.lastNotifiedSlot = slot;
      for (const sub of this.slotSubscribers) {
        this.send(sub, sub.kind === 'slot' ? { parent: Math.max(0, slot - 1), root: slot, slot } : slot);
      }
    }, SLOT_MS / 2);
    this.slotTimer.unref();
  }
}

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}
