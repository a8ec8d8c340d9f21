/** The audit log (owner: about them and their wallets; operator: everything) and its hash-chain check. */
import type { CallOptions, HttpTransport } from '../http.ts';
import { type ListOptions, Paginated } from '../paginate.ts';
import type { AuditEntry, AuditVerification, Page } from '../types.ts';

export interface AuditListOptions extends ListOptions, CallOptions {
  walletId?: string;
  kind?: string;
}

export const auditApi = (http: HttpTransport) => ({
  /** Entries newest first, page by page. */
  list(options: AuditListOptions = {}): Paginated<AuditEntry> {
    return new Paginated(async (cursor) => {
      const response = await http.request<Page<AuditEntry>>(
        {
          method: 'GET',
          path: '/v1/audit',
          query: { cursor, limit: options.limit, walletId: options.walletId, kind: options.kind },
        },
        options,
      );
      return response.body;
    }, options.cursor);
  },

  /** Walks the chain; `ok` is false when an entry was edited or deleted, `firstBroken` says where. */
  async verify(call?: CallOptions): Promise<AuditVerification> {
    return (await http.request<AuditVerification>({ method: 'GET', path: '/v1/audit/verify' }, call)).body;
  },
});

export type AuditApi = ReturnType<typeof auditApi>;
