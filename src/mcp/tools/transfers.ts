/** get_transfer and list_transfers: the wallet's transfers in UI units. */
import { WaiaasApiError } from '../../sdk/index.ts';
import { failure, json, stringArg, type Tool, text } from './tool.ts';
import { transferText } from './transfer-request.ts';

export const getTransfer: Tool = {
  name: 'get_transfer',
  title: 'One transfer',
  readOnly: true,
  description: () =>
    'The state of one transfer by its id (as `send` answered it): confirmed, delayed, waiting for approval, or why it ended.',
  inputSchema: {
    type: 'object',
    properties: { id: { type: 'string', description: 'The transfer id.' } },
    required: ['id'],
    additionalProperties: false,
  },
  async run(args, wallet) {
    const id = stringArg(args, 'id', { required: true, max: 64, pattern: /^[A-Za-z0-9_-]+$/ });
    try {
      const transfer = await wallet.client.transfers.get(id);
      return text(transferText(transfer, await wallet.decimals()), '', json(transfer));
    } catch (error) {
      if (error instanceof WaiaasApiError) return failure(`${error.detail} [${error.code}] ${error.action}`);
      throw error;
    }
  },
};

export const listTransfers: Tool = {
  name: 'list_transfers',
  title: 'Recent transfers',
  readOnly: true,
  description: () =>
    "The wallet's transfers, newest first. Pass `cursor` from a previous answer for older ones.",
  inputSchema: {
    type: 'object',
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 50, default: 10, description: 'How many (1 to 50).' },
      cursor: {
        type: 'string',
        description: 'The cursor a previous answer gave, for the next (older) page.',
      },
    },
    additionalProperties: false,
  },
  async run(args, wallet) {
    const limit =
      typeof args.limit === 'number' && Number.isInteger(args.limit)
        ? Math.min(50, Math.max(1, args.limit))
        : 10;
    const cursor = stringArg(args, 'cursor', { max: 200 });
    const page = await wallet.client.transfers
      .list(wallet.walletId, { limit, ...(cursor === undefined ? {} : { cursor }) })
      .firstPage();
    const decimals = await wallet.decimals();
    if (page.items.length === 0) return text('No transfers.');
    return text(
      ...page.items.map((transfer) => `${transfer.createdAt} ${transferText(transfer, decimals)}`),
      page.nextCursor ? `More: call list_transfers with cursor "${page.nextCursor}".` : 'No older transfers.',
    );
  },
};
