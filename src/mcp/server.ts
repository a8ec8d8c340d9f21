/**
 * `waiaas mcp`: the handlers served over stdio with @modelcontextprotocol/sdk's low-level Server. Tool
 * schemas are plain JSON Schema, so no schema library has to match the MCP library's zod.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { createClient } from '../sdk/index.ts';
import { AgentWallet } from './agent-wallet.ts';
import type { McpConfig } from './config.ts';
import { createHandlers, type McpHandlers, UnknownResourceError, UnknownToolError } from './handlers.ts';

export const MCP_SERVER_NAME = 'waiaas';

/** The agent's wallet: the configured one, else the one its session token is bound to (GET /v1/session). */
export async function walletFromConfig(config: McpConfig): Promise<AgentWallet> {
  const client = createClient({ url: config.url, token: config.sessionToken });
  const walletId = config.walletId ?? (await client.sessions.current()).walletId;
  return new AgentWallet(client, walletId);
}

/** Unknown names are protocol errors (invalid params); everything else is answered by the handlers. */
const invalidParams = (error: unknown): never => {
  if (error instanceof UnknownToolError || error instanceof UnknownResourceError) {
    throw new McpError(ErrorCode.InvalidParams, error.message);
  }
  throw error;
};

export async function createMcpServer(handlers: McpHandlers, version: string): Promise<Server> {
  const server = new Server(
    { name: MCP_SERVER_NAME, version },
    { capabilities: { tools: {}, resources: {} }, instructions: await handlers.instructions() },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await handlers.listTools() }));
  server.setRequestHandler(CallToolRequestSchema, async (request) =>
    handlers.callTool(request.params.name, request.params.arguments).catch(invalidParams),
  );
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: handlers.listResources() }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => ({
    contents: [await handlers.readResource(request.params.uri).catch(invalidParams)],
  }));
  return server;
}

/** Serves on stdin/stdout until the client goes away; resolves then. */
export async function runMcpServer(config: McpConfig, version: string): Promise<void> {
  const server = await createMcpServer(createHandlers(await walletFromConfig(config)), version);
  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
    // The stdio transport does not notice its client leaving; stdin ending is that signal.
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
  });
  server.onerror = (error) => process.stderr.write(`waiaas mcp: ${error.message}\n`);
  await server.connect(new StdioServerTransport());
  await closed;
  await server.close().catch(() => undefined);
}
