/** Owners and their Owner Keys (operator token). */
import type { CallOptions, HttpTransport } from '../http.ts';
import type { CreatedOwner, OwnerSignerSpec } from '../types.ts';

export interface CreateOwnerParams {
  name: string;
  signer: OwnerSignerSpec;
}

export const ownersApi = (http: HttpTransport) => ({
  /** The answer's token is shown once. A local signer's passphrase is never stored by the daemon. */
  async create(params: CreateOwnerParams, call?: CallOptions): Promise<CreatedOwner> {
    return (await http.request<CreatedOwner>({ method: 'POST', path: '/v1/owners', body: params }, call))
      .body;
  },
});

export type OwnersApi = ReturnType<typeof ownersApi>;
