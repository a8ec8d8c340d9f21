/**
 * The MCP server's answers, independent of the MCP library: list and call tools, list and read
 * resources, and the instructions sent at initialisation. Every call goes through the SDK.
 */
import { InvalidAmountError, WaiaasApiError, WaiaasNetworkError } from '../sdk/index.ts';
import type { AgentWallet } from './agent-wallet.ts';
import { policyText } from './describe-policy.ts';
import { type ResourceContents, type ResourceDefinition, readResource, resources } from './resources.ts';
import { tools } from './tools/index.ts';
import {
  type DescriptionContext,
  failure,
  type JsonSchemaObject,
  ToolInputError,
  type ToolResult,
} from './tools/tool.ts';

export interface ToolListing {
  name: string;
  title: string;
  description: string;
  inputSchema: JsonSchemaObject;
  annotations: { title: string; readOnlyHint: boolean; destructiveHint: boolean; openWorldHint: boolean };
}

export class UnknownToolError extends Error {
  override readonly name = 'UnknownToolError';
}

export class UnknownResourceError extends Error {
  override readonly name = 'UnknownResourceError';
}

export interface McpHandlers {
  instructions(): Promise<string>;
  listTools(): Promise<ToolListing[]>;
  callTool(name: string, args: Record<string, unknown> | undefined): Promise<ToolResult>;
  listResources(): ResourceDefinition[];
  readResource(uri: string): Promise<ResourceContents>;
}

/** A failure the model can act on, without internals (a stack or a secret never reaches it). */
export function toolFailure(error: unknown): ToolResult {
  if (error instanceof ToolInputError || error instanceof InvalidAmountError) return failure(error.message);
  if (error instanceof WaiaasApiError) {
    return failure(`${error.detail || error.title} [${error.code}]. ${error.action}`.trim());
  }
  if (error instanceof WaiaasNetworkError)
    return failure(`The WAIaaS daemon did not answer. ${error.action}`);
  return failure('The tool failed unexpectedly; try again, and tell the owner if it persists.');
}

export function createHandlers(wallet: AgentWallet): McpHandlers {
  const descriptionContext = async (): Promise<DescriptionContext> => {
    // Descriptions must not hold up the client's handshake or tool listing: one short try.
    const quick = { timeoutMs: 3_000, retry: false } as const;
    try {
      const policy = await wallet.policy(false, quick);
      return { policy, decimals: await wallet.decimals(policy, quick) };
    } catch {
      // The daemon may be down while the client lists tools: describe without the numbers.
      return { policy: undefined, decimals: new Map() };
    }
  };

  return {
    async instructions() {
      const { policy, decimals } = await descriptionContext();
      return [
        'WAIaaS: you control a Solana wallet within limits its owner set. Amounts are in UI units ("0.25" SOL).',
        'Before sending, call get_budget (what is left now) or dry_run_send. A refusal says why and what would pass.',
        ...(policy ? [policyText(policy, decimals)] : ['Call get_policy for your limits.']),
      ].join('\n');
    },

    async listTools() {
      const context = await descriptionContext();
      return tools.map((tool) => ({
        name: tool.name,
        title: tool.title,
        description: tool.description(context),
        inputSchema: tool.inputSchema,
        annotations: {
          title: tool.title,
          readOnlyHint: tool.readOnly,
          destructiveHint: !tool.readOnly,
          openWorldHint: !tool.readOnly,
        },
      }));
    },

    async callTool(name, args) {
      const tool = tools.find((candidate) => candidate.name === name);
      if (!tool) throw new UnknownToolError(`No tool "${name}".`);
      try {
        return await tool.run(args ?? {}, wallet);
      } catch (error) {
        return toolFailure(error);
      }
    },

    listResources: () =>
      resources.map(({ uri, name, title, description, mimeType }) => ({
        uri,
        name,
        title,
        description,
        mimeType,
      })),

    async readResource(uri) {
      const contents = await readResource(uri, wallet);
      if (!contents) throw new UnknownResourceError(`No resource ${uri}.`);
      return contents;
    },
  };
}
