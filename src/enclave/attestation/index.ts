export { DEV_CA_FILE, DEV_ROOT_FILE } from './dev-ca.ts';
export {
  createDevAttestationProvider,
  DEV_MODULE_ID_PREFIX,
  type DevAttestationProvider,
  type DevAttestationProviderOptions,
  devPcrs,
} from './dev-provider.ts';
export {
  createNitroAttestationProvider,
  type NitroAttestationProviderOptions,
  NSM_DEVICE_PATH,
  type NsmDriver,
} from './nitro-provider.ts';
export type { AttestationProvider, AttestationRequest } from './provider.ts';
