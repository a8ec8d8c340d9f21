/** What a tool is, independent of the MCP library: a name, a description, a JSON Schema and a handler. */
import type { Policy } from '../../sdk/index.ts';
import type { AgentWallet } from '../agent-wallet.ts';
import type { Decimals } from '../units.ts';

export type TextContent = {
  type: 'text';
  text: string;
};

/** A tool call's answer; `isError` marks a refusal or failure the model should read and act on. */
// Type aliases (not interfaces) so the MCP library's index-signature result types accept them.
export type ToolResult = {
  content: TextContent[];
  isError?: boolean;
};

export interface JsonSchemaObject {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required?: string[];
  additionalProperties?: boolean;
}

/** What descriptions are written from: the policy in force, when it could be read. */
export interface DescriptionContext {
  policy: Policy | undefined;
  decimals: Decimals;
}

export interface Tool {
  readonly name: string;
  readonly title: string;
  description(context: DescriptionContext): string;
  readonly inputSchema: JsonSchemaObject;
  /** Whether the tool only reads (MCP annotation readOnlyHint). */
  readonly readOnly: boolean;
  run(args: Record<string, unknown>, wallet: AgentWallet): Promise<ToolResult>;
}

export const text = (...lines: string[]): ToolResult => ({
  content: [{ type: 'text', text: lines.join('\n') }],
});

export const failure = (...lines: string[]): ToolResult => ({ ...text(...lines), isError: true });

/** JSON for the model: bigints as decimal strings, indented. */
export const json = (value: unknown): string =>
  JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item), 2);

/** A tool argument that is not what the schema says. */
export class ToolInputError extends Error {
  override readonly name = 'ToolInputError';
}

export function stringArg(
  args: Record<string, unknown>,
  name: string,
  options: { required: true; pattern?: RegExp; max?: number },
): string;
export function stringArg(
  args: Record<string, unknown>,
  name: string,
  options?: { required?: false; pattern?: RegExp; max?: number },
): string | undefined;
export function stringArg(
  args: Record<string, unknown>,
  name: string,
  options: { required?: boolean; pattern?: RegExp; max?: number } = {},
): string | undefined {
  const value = args[name];
  if (value === undefined || value === null || value === '') {
    if (options.required) throw new ToolInputError(`"${name}" is required.`);
    return undefined;
  }
  if (typeof value !== 'string') throw new ToolInputError(`"${name}" must be a string.`);
  if (options.max !== undefined && value.length > options.max) {
    throw new ToolInputError(`"${name}" must be at most ${options.max} characters.`);
  }
  if (options.pattern && !options.pattern.test(value))
    throw new ToolInputError(`"${name}" is not valid: ${value}`);
  return value;
}

export const BASE58_ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;
