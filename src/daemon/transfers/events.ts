/**
 * What the pipeline tells the rest of the daemon. Notifications (issue 6) subscribe here: a `notify`
 * tier transfer emits `transfer.notify` once it is confirmed, and every owner-relevant state change
 * emits its own event. Listeners run after the state is stored; a throwing listener is logged, never
 * allowed to break a transfer.
 */
import { EventEmitter } from 'node:events';
import type { TransferRecord } from '../../store/transfers.ts';

export type TransferEventType =
  | 'transfer.confirmed'
  | 'transfer.notify'
  | 'transfer.delayed'
  | 'transfer.pending_approval'
  | 'transfer.failed'
  | 'transfer.rejected'
  | 'transfer.cancelled'
  | 'transfer.expired';

export interface TransferEvent {
  readonly type: TransferEventType;
  readonly transfer: TransferRecord;
  readonly at: number;
}

export class TransferEvents {
  readonly #emitter = new EventEmitter();
  readonly #onListenerError: (error: unknown, event: TransferEvent) => void;

  constructor(onListenerError: (error: unknown, event: TransferEvent) => void) {
    this.#onListenerError = onListenerError;
    this.#emitter.setMaxListeners(0);
  }

  on(listener: (event: TransferEvent) => void): () => void {
    const wrapped = (event: TransferEvent) => {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    };
    this.#emitter.on('event', wrapped);
    return () => this.#emitter.off('event', wrapped);
  }

  emit(type: TransferEventType, transfer: TransferRecord, at = Date.now()): void {
    if (this.#emitter.listenerCount('event') === 0) return;
    this.#emitter.emit('event', { type, transfer, at } satisfies TransferEvent);
  }
}
