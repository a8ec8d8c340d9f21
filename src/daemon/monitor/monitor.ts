/**
 * The monitor: rules over recent events that freeze a misbehaving wallet on the server at once,
 * notify its owner (webhook `monitor.alert`, audit `monitor.alert`), and leave the on-chain freeze to
 * the owner (POST …/freeze finishes it; POST …/resume undoes it).
 *
 * Feed: every `pollMs` it reads the audit entries appended since its last pass (all replicas write
 * there: transfer refusals, enclave restarts, resumes), plus the wallets whose transfers this replica
 * just accepted (`touch`) for the spending-velocity rule, which sums the transfers table itself.
 * A rule is evaluated when a new event concerns it, so nothing fires again on old events alone; and
 * windows never reach back before the wallet's last resume.
 *
 * Chain: every `chainCheckMs` it also reads the agent's spending limits of every active wallet for
 * spending the daemon did not send (chain-check.ts: a leaked agent key), and freezes those wallets.
 *
 * Several replicas may each decide to freeze the same wallet: the freeze is one write transaction
 * that only the first finds active, so the owner hears of it once.
 */
import type { Connection } from '@solana/web3.js';
import { auditRowsAfter, readAuditHead } from '../../store/audit.ts';
import { findWallet, type Store } from '../../store/index.ts';
import { latestDoneOwnerAct } from '../../store/owner-acts.ts';
import { activeWalletIds } from '../../store/wallet-acts.ts';
import { requestedSpentSince } from '../../store/wallet-budget.ts';
import { appendAudit } from '../audit/index.ts';
import type { MonitorConfig } from '../config.ts';
import { PolicyCache } from '../dry-run/policy-cache.ts';
import type { Logger } from '../logger.ts';
import { enqueueEvent } from '../notifier/index.ts';
import { blockOnServer, type ServerBlock } from '../owner-acts/freeze.ts';
import { type FrozenReason, type FrozenReasonCode, frozenReason } from '../owner-acts/frozen-reason.ts';
import { spendBypassAlerts } from './chain-check.ts';
import { type FeedSignal, RecentEvents } from './recent-events.ts';
import {
  type Alert,
  type MonitorRule,
  refusalAlert,
  restartAlert,
  VELOCITY_TIERS,
  velocityAlert,
} from './rules.ts';

export interface MonitorDeps {
  readonly store: Store;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
  readonly config: MonitorConfig;
  /** Stops the enclave signing for the wallet (L2) once the server froze it; an owner policy resumes it. */
  readonly haltInEnclave?: (walletId: string, rule: string) => Promise<unknown>;
  readonly now?: () => number;
  /** The chain, for spending that bypassed the daemon (chain-check.ts); without it that rule is off. */
  readonly connection?: Connection;
  /** Told of every alert that froze a wallet (metrics). */
  readonly onAlert?: (alert: Alert) => void;
}

export interface Monitor {
  /** One pass: read the feed, evaluate, freeze; resolves with the alerts that froze a wallet. */
  runOnce(): Promise<Alert[]>;
  /** A transfer of this wallet was just accepted: check its spending velocity at the next pass. */
  touch(walletId: string): void;
  start(): void;
  stop(): Promise<void>;
}

/** Audit entries read back at start, so windows already open when the daemon restarted still count. */
const LOOK_BACK_ENTRIES = 10_000n;
const PAGE = 1_000;
const MAX_TOUCHED = 100_000;

const ACTION =
  'Frozen on the server and halted in the enclave: no transfer is accepted or signed. The chain is unchanged: freeze the wallet (POST /v1/wallets/:id/freeze) to finish, or resume it.';

const REASON_CODES: Readonly<Record<MonitorRule, FrozenReasonCode>> = {
  repeated_refusals: 'MONITOR_REPEATED_REFUSALS',
  outside_hours: 'MONITOR_OUTSIDE_HOURS',
  spending_velocity: 'MONITOR_VELOCITY',
  enclave_restarts: 'MONITOR_ENCLAVE_RESTARTS',
  spend_bypassed_daemon: 'SPEND_BYPASSED_DAEMON',
};

/** Why the monitor froze a wallet, as GET /v1/wallets/:id and the events show it. */
export const reasonOfAlert = (alert: Alert, atMs = Date.now()): FrozenReason =>
  frozenReason(REASON_CODES[alert.rule], { rule: alert.rule, ...alert.details }, atMs);

export function createMonitor(deps: MonitorDeps): Monitor {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  const keepMs =
    1000 *
    Math.max(
      config.refusals.seconds,
      config.outsideHours.seconds,
      config.enclaveRestarts.seconds,
      config.velocity.seconds,
    );
  const events = new RecentEvents(keepMs);
  const policies = new PolicyCache();
  let touched = new Set<string>();
  let cursor: bigint | undefined;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let lastChainCheck = Number.NEGATIVE_INFINITY;

  /** The last resume, from the feed or else the owner_acts table (remembered either way). */
  const lastResume = async (walletId: string): Promise<number> => {
    const known = events.lastResumeOf(walletId);
    if (known !== undefined) return known;
    const act = await latestDoneOwnerAct(store.db, walletId, 'resume');
    const at = act ? Number(act.createdAt) : 0;
    events.rememberResume(walletId, at);
    return at;
  };

  /** Seeds the windows from the entries before the head, without acting on them. */
  const seed = async (): Promise<bigint> => {
    const head = (await readAuditHead(store.db)).sequence;
    let after = head > LOOK_BACK_ENTRIES ? head - LOOK_BACK_ENTRIES : 0n;
    while (after < head) {
      const rows = await auditRowsAfter(store.db, after, PAGE);
      for (const row of rows) if (row.sequence <= head) events.apply(row);
      if (rows.length < PAGE) break;
      after = rows.at(-1)!.sequence;
    }
    return head;
  };

  /** The wallets each kind of signal concerns, from the entries appended since the last pass. */
  const readFeed = async () => {
    const signals = new Map<FeedSignal, Set<string>>([
      ['refusal', new Set()],
      ['transfer', new Set()],
    ]);
    let restarted = false;
    for (;;) {
      const rows = await auditRowsAfter(store.db, cursor ?? 0n, PAGE);
      for (const row of rows) {
        const signal = events.apply(row);
        if (signal === 'restart') restarted = true;
        else if (signal && row.wallet_id !== null) signals.get(signal)?.add(row.wallet_id);
        cursor = row.sequence;
      }
      if (rows.length < PAGE) break;
    }
    return { refused: signals.get('refusal')!, transferred: signals.get('transfer')!, restarted };
  };

  const velocityOf = async (walletId: string, nowMs: number): Promise<Alert | undefined> => {
    if (config.velocity.percent <= 0) return undefined;
    const wallet = await findWallet(store.db, walletId);
    if (wallet?.status !== 'active') return undefined;
    const since = Math.max(nowMs - config.velocity.seconds * 1000, await lastResume(walletId));
    const daily = new Map(
      [...policies.of(wallet).policy.assets].map(([asset, limits]) => [asset, limits.daily] as const),
    );
    return velocityAlert(
      walletId,
      await requestedSpentSince(store.db, walletId, BigInt(since), VELOCITY_TIERS),
      daily,
      config,
    );
  };

  /** The alert's owner notified and the audit entry written in the freeze's own transaction. */
  const recordAlert = async (trx: Parameters<typeof appendAudit>[0], alert: Alert, block: ServerBlock) => {
    const facts = { rule: alert.rule, ...alert.details };
    await enqueueEvent(trx, {
      type: 'monitor.alert',
      walletId: alert.walletId,
      data: { ...facts, action: 'frozen_on_server', note: ACTION },
    });
    await enqueueEvent(trx, {
      type: 'wallet.frozen',
      walletId: alert.walletId,
      data: {
        by: 'monitor',
        rule: alert.rule,
        reason: block.reason,
        cancelledTransfers: block.cancelledTransfers,
        inFlightTransfers: block.inFlightTransfers,
      },
    });
    await appendAudit(trx, {
      kind: 'monitor.alert',
      actor: { role: 'system' },
      walletId: alert.walletId,
      subject: block.actId,
      details: {
        ...facts,
        action: 'frozen_on_server',
        reason: block.reason,
        cancelledTransfers: block.cancelledTransfers,
        inFlightTransfers: block.inFlightTransfers,
      },
    });
  };

  /** True when this pass froze it (false: already frozen or gone). */
  const freeze = async (alert: Alert): Promise<boolean> => {
    const wallet = await findWallet(store.db, alert.walletId);
    if (wallet?.status !== 'active') return false;
    const block = await blockOnServer(
      store,
      alert.walletId,
      async (trx, block) => {
        if (block.changed) await recordAlert(trx, alert, block);
      },
      reasonOfAlert(alert, now()),
    );
    if (block.changed) {
      deps.onAlert?.(alert);
      deps.logger.warn(
        { walletId: alert.walletId, rule: alert.rule, details: alert.details },
        'monitor froze a wallet on the server',
      );
      // L2 as well: the enclave refuses the wallet from now on, whatever the host asks.
      await deps
        .haltInEnclave?.(alert.walletId, `monitor:${alert.rule}`)
        .catch((error: unknown) =>
          deps.logger.error(
            { err: error, walletId: alert.walletId },
            'monitor could not halt the wallet in the enclave',
          ),
        );
    }
    return block.changed;
  };

  const runOnce = async (): Promise<Alert[]> => {
    if (cursor === undefined) cursor = await seed();
    const { refused, transferred, restarted } = await readFeed();
    const nowMs = now();
    events.prune(nowMs);

    const alerts = new Map<string, Alert>();
    for (const walletId of refused) {
      const alert = refusalAlert(
        walletId,
        events.refusalsOf(walletId),
        await lastResume(walletId),
        nowMs,
        config,
      );
      if (alert) alerts.set(walletId, alert);
    }
    const spending = new Set([...touched, ...transferred]);
    touched = new Set();
    for (const walletId of spending) {
      if (alerts.has(walletId)) continue;
      const alert = await velocityOf(walletId, nowMs);
      if (alert) alerts.set(walletId, alert);
    }
    if (restarted && config.enclaveRestarts.count > 0) {
      // The enclave serves every wallet: each is frozen unless resumed since enough of the restarts.
      for (const walletId of await activeWalletIds(store.db)) {
        if (alerts.has(walletId)) continue;
        const alert = restartAlert(walletId, events.restarts(), await lastResume(walletId), nowMs, config);
        if (alert) alerts.set(walletId, alert);
      }
    }

    if (deps.connection && config.chainCheckMs > 0 && nowMs - lastChainCheck >= config.chainCheckMs) {
      lastChainCheck = nowMs;
      try {
        for (const alert of await spendBypassAlerts(store, deps.connection, policies, nowMs)) {
          // Spending behind the daemon's back says more than any other rule: it wins.
          alerts.set(alert.walletId, alert);
        }
      } catch (error) {
        deps.logger.error(
          { err: error },
          'monitor could not read the chain for spends the daemon did not make',
        );
      }
    }

    const fired: Alert[] = [];
    for (const alert of alerts.values()) {
      try {
        if (await freeze(alert)) fired.push(alert);
      } catch (error) {
        deps.logger.error(
          { err: error, walletId: alert.walletId, rule: alert.rule },
          'monitor could not freeze a wallet',
        );
      }
    }
    return fired;
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        await runOnce();
      } catch (error) {
        deps.logger.error({ err: error }, 'monitor pass failed');
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, config.pollMs);
      });
      wake = undefined;
    }
  };

  return {
    runOnce,
    touch: (walletId) => {
      if (touched.size < MAX_TOUCHED) touched.add(walletId);
    },
    start: () => {
      stopped = false;
      running ??= loop();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await running;
      running = undefined;
    },
  };
}
