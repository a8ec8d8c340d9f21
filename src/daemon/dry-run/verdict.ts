import { type ErrorCode, errorCatalogue, isWaiaasError } from '../../core/errors.ts';
import type { PolicyDecision, Tier } from '../../core/policy.ts';
import type { LayerVerdict } from './types.ts';

type Basis = LayerVerdict['basis'];

export const passed = (
  tier: Tier | undefined,
  basis: Basis,
  notes: string[],
  asOf?: string,
): LayerVerdict => ({
  checked: true,
  allowed: true,
  ...(tier === undefined ? {} : { tier }),
  ...(basis === undefined ? {} : { basis }),
  ...(asOf === undefined ? {} : { asOf }),
  notes,
});

export const refused = (
  code: ErrorCode,
  details: Record<string, string | number>,
  basis: Basis,
  notes: string[],
  asOf?: string,
): LayerVerdict => ({
  checked: true,
  allowed: false,
  code,
  title: errorCatalogue[code].title,
  action: errorCatalogue[code].action,
  details,
  ...(basis === undefined ? {} : { basis }),
  ...(asOf === undefined ? {} : { asOf }),
  notes,
});

/** The layer was not asked (`code` undefined) or could not be (`code` says why). */
export const notChecked = (notes: string[], error?: unknown): LayerVerdict => {
  if (error === undefined) return { checked: false, allowed: null, notes };
  const code: ErrorCode = isWaiaasError(error) ? error.code : 'INTERNAL';
  return {
    checked: false,
    allowed: null,
    code,
    title: errorCatalogue[code].title,
    action: errorCatalogue[code].action,
    notes,
  };
};

/** A policy decision as a layer's verdict. */
export const fromDecision = (decision: PolicyDecision, basis: Basis, notes: string[], asOf?: string) =>
  decision.ok
    ? passed(decision.tier, basis, notes, asOf)
    : refused(decision.code, decision.details, basis, notes, asOf);
