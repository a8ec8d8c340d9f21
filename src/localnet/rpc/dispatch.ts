import type { RpcContext, RpcHandler } from './context.ts';
import { RpcError, RpcErrorCode } from './errors.ts';
import { accountMethods } from './methods-accounts.ts';
import { clusterMethods } from './methods-cluster.ts';
import { transactionMethods } from './methods-transactions.ts';
import { asParams } from './params.ts';

export interface Logger {
  debug?(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

type JsonRpcId = string | number | null;
interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export const rpcMethods: Record<string, RpcHandler> = {
  ...clusterMethods,
  ...accountMethods,
  ...transactionMethods,
};

const errorResponse = (id: JsonRpcId, code: number, message: string, data?: unknown): JsonRpcResponse => ({
  jsonrpc: '2.0',
  id,
  error: data === undefined ? { code, message } : { code, message, data },
});

/** Handles a parsed JSON-RPC body (a request or a batch); undefined when nothing is to be answered. */
export function createDispatcher(
  ctx: RpcContext,
  logger: Logger,
  methods: Record<string, RpcHandler> = rpcMethods,
) {
  const handleOne = (request: unknown): JsonRpcResponse | undefined => {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return errorResponse(null, RpcErrorCode.INVALID_REQUEST, 'Invalid request');
    }
    const { id, method, params } = request as { id?: unknown; method?: unknown; params?: unknown };
    const responseId: JsonRpcId = typeof id === 'string' || typeof id === 'number' ? id : null;
    if (typeof method !== 'string')
      return errorResponse(responseId, RpcErrorCode.INVALID_REQUEST, 'Invalid request');
    const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
    if (!handler) return errorResponse(responseId, RpcErrorCode.METHOD_NOT_FOUND, 'Method not found');
    try {
      const result = handler(asParams(params), ctx);
      return id === undefined ? undefined : { jsonrpc: '2.0', id: responseId, result };
    } catch (error) {
      if (error instanceof RpcError) return errorResponse(responseId, error.code, error.message, error.data);
      logger.error({ err: error, method }, 'localnet RPC method failed');
      return errorResponse(responseId, RpcErrorCode.INTERNAL_ERROR, 'Internal error');
    }
  };

  return (body: unknown): JsonRpcResponse | JsonRpcResponse[] | undefined => {
    if (!Array.isArray(body)) return handleOne(body);
    if (body.length === 0) return errorResponse(null, RpcErrorCode.INVALID_REQUEST, 'Invalid request');
    const responses: JsonRpcResponse[] = [];
    for (const request of body) {
      const response = handleOne(request);
      if (response) responses.push(response);
    }
    return responses.length > 0 ? responses : undefined;
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
