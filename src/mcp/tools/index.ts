/** The tools the MCP server offers, in the order clients list them. */

import { dryRunSend } from './dry-run-send.ts';
import { payForUrl } from './pay-for-url.ts';
import { getBalance, getBudget, getDepositAddress, getPolicy } from './read-wallet.ts';
import { send } from './send.ts';
import type { Tool } from './tool.ts';
import { getTransfer, listTransfers } from './transfers.ts';

export const tools: readonly Tool[] = [
  getBalance,
  getPolicy,
  getBudget,
  send,
  dryRunSend,
  getTransfer,
  listTransfers,
  getDepositAddress,
  payForUrl,
];

export type { Tool, ToolResult } from './tool.ts';
