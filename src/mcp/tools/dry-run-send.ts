/** dry_run_send: what send would meet now, from the daemon's dry run; nothing is reserved or sent. */
import { type DryRunResult, PolicyRefusedError } from '../../sdk/index.ts';
import { amountText, type Decimals, SOL_ASSET } from '../units.ts';
import { type Tool, text } from './tool.ts';
import { limitsSummary, parseRequest, refusal, TIER_MEANING, transferSchema } from './transfer-request.ts';

/** "instant up to 0.1 SOL; notify up to 0.5 SOL; …" from the dry run's per-tier ranges. */
const tiersNow = (result: DryRunResult, decimals: Decimals): string =>
  result.budget.tiers
    .filter((range) => range.upTo !== null)
    .map((range) => `${range.tier} up to ${amountText(range.upTo!, result.asset, decimals)}`)
    .join('; ');

export const dryRunSend: Tool = {
  name: 'dry_run_send',
  title: 'Check a transfer without sending',
  readOnly: true,
  description: (context) =>
    [
      'Check what `send` would do with these arguments now (its tier, or why it would be refused and what would pass), at every layer; nothing is sent or reserved.',
      limitsSummary(context),
    ].join(' '),
  inputSchema: transferSchema(false),
  async run(args, wallet) {
    let parsed: Awaited<ReturnType<typeof parseRequest>>;
    try {
      parsed = await parseRequest(args, wallet);
    } catch (error) {
      return refusal(error, wallet, { to: '', asset: SOL_ASSET, amount: 0n }, new Map());
    }
    const { request, decimals } = parsed;
    let result: DryRunResult;
    try {
      result = await wallet.client.transfers.dryRun(wallet.walletId, {
        to: request.to,
        amount: request.amount,
        ...(request.asset === SOL_ASSET ? {} : { mint: request.asset }),
        ...(request.memo === undefined ? {} : { memo: request.memo }),
      });
    } catch (error) {
      return refusal(error, wallet, request, decimals);
    }
    const now = tiersNow(result, decimals);
    if (result.allowed && result.tier) {
      const delay = result.tier === 'delay' && result.delaySeconds ? ` (${result.delaySeconds} s)` : '';
      return text(
        `${amountText(request.amount, request.asset, decimals)} to ${request.to} would be ${result.tier} tier: ${TIER_MEANING[result.tier]}${delay}.`,
        ...(now === '' ? [] : [`Right now: ${now}.`]),
      );
    }
    const code = result.code ?? 'ENCLAVE_REFUSED';
    const refused = new PolicyRefusedError({
      code,
      status: 403,
      title: result.title ?? code,
      detail: result.title ?? code,
      retryable: false,
      layer: result.layer ?? 'server',
      ...(result.action === undefined ? {} : { action: result.action }),
    });
    const answer = await refusal(refused, wallet, request, decimals);
    answer.content[0]!.text = `Would be refused. ${answer.content[0]!.text}`;
    return answer;
  },
};
