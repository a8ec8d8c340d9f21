/** The error that ended a transfer, kept on its row so a retry under the same key gets the same answer. */
import { type ErrorCode, errorCatalogue, type PolicyLayer, WaiaasError } from '../../core/errors.ts';
import type { TransferRecord } from '../../store/transfers.ts';

interface StoredErrorDetail {
  message: string;
  layer?: PolicyLayer;
  details?: Record<string, unknown>;
}

const json = (value: unknown): string =>
  JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item));

export const storedError = (error: WaiaasError): { error_code: string; error_detail: string } => {
  const detail: StoredErrorDetail = { message: error.message };
  if (error.layer) detail.layer = error.layer;
  if (Object.keys(error.details).length > 0) detail.details = error.details;
  return { error_code: error.code, error_detail: json(detail) };
};

/** The stored error as a WaiaasError again, naming the transfer; undefined when none was stored. */
export const errorOfRecord = (record: TransferRecord): WaiaasError | undefined => {
  if (record.errorCode === null) return undefined;
  const code = (record.errorCode in errorCatalogue ? record.errorCode : 'INTERNAL') as ErrorCode;
  let detail: StoredErrorDetail = { message: errorCatalogue[code].title };
  try {
    if (record.errorDetail !== null) detail = JSON.parse(record.errorDetail) as StoredErrorDetail;
  } catch {
    // An unreadable detail still leaves the code, which is what callers branch on.
  }
  return new WaiaasError(code, {
    message: detail.message,
    details: { ...detail.details, transferId: record.id, status: record.status },
    ...(detail.layer ? { layer: detail.layer } : {}),
  });
};

/** The error with the transfer's id added, for an answer about a stored transfer. */
export const withTransferId = (error: WaiaasError, transferId: string): WaiaasError =>
  new WaiaasError(error.code, {
    message: error.message,
    details: { ...error.details, transferId },
    ...(error.layer ? { layer: error.layer } : {}),
    cause: error,
  });
