import type { Command } from 'commander';

/** `waiaas mcp`: the MCP server for an agent, on stdio. Nothing but the protocol may go to stdout. */
export function register(program: Command): void {
  program
    .command('mcp')
    .description('the MCP server for an agent, on stdio (WAIAAS_URL and WAIAAS_SESSION_TOKEN)')
    .option('--url <url>', 'the daemon (default: WAIAAS_URL, else http://127.0.0.1:3100)')
    .option('--wallet <id>', 'the wallet (default: the one the session token is bound to)')
    .addHelpText(
      'after',
      [
        '',
        'Configure it in your MCP client with:',
        '  WAIAAS_URL            the daemon URL (default http://127.0.0.1:3100); or --url',
        '  WAIAAS_SESSION_TOKEN  the agent session token the owner issued (environment only)',
        'The wallet is the one the token is bound to (GET /v1/session); WAIAAS_WALLET_ID or --wallet, when set, must name it.',
        'Its output is the MCP protocol (JSON-RPC) on stdout; it takes no --json.',
      ].join('\n'),
    )
    .action(async (flags: { url?: string; wallet?: string }) => {
      const { version } = await import('../../core/version.ts');
      const { readMcpConfig, McpConfigError } = await import('../../mcp/config.ts');
      const { runMcpServer } = await import('../../mcp/server.ts');
      const { printError } = await import('../output.ts');
      let config: ReturnType<typeof readMcpConfig>;
      try {
        config = readMcpConfig(
          [...(flags.url ? ['--url', flags.url] : []), ...(flags.wallet ? ['--wallet', flags.wallet] : [])],
          process.env,
        );
      } catch (error) {
        if (!(error instanceof McpConfigError)) throw error;
        printError(error.message);
        process.exitCode = 2;
        return;
      }
      await runMcpServer(config, version);
    });
}
