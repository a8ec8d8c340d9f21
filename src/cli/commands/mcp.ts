import { version } from '../../core/version.ts';
import { mcpUsage, readMcpConfig } from '../../mcp/config.ts';
import { runMcpServer } from '../../mcp/server.ts';
import { printError } from '../output.ts';

/** `waiaas mcp`: the MCP server for an agent, on stdio. Nothing but the protocol may go to stdout. */
export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stderr.write(`${mcpUsage}\n`);
    return 0;
  }
  let config: ReturnType<typeof readMcpConfig>;
  try {
    config = readMcpConfig(args, process.env);
  } catch (error) {
    printError(`${error instanceof Error ? error.message : String(error)}\n${mcpUsage}`);
    return 2;
  }
  await runMcpServer(config, version);
  return 0;
}
