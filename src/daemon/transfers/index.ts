export { answerStatus, type TransferView, transferView } from './answer.ts';
export type { TransferEvent, TransferEvents, TransferEventType } from './events.ts';
export { type Page, TransferService, type TransferServiceOptions } from './service.ts';
export type { TransferBody } from './steps/validate.ts';
export { type FaultHook, isHalt, PipelineHalt, type PipelineStep, type TransferRequest } from './types.ts';
