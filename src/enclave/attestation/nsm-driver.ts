/**
 * The NSM driver: the native addon in native/nsm (package `waiaas-nsm`, an optional dependency that
 * `npm ci` builds with node-gyp on Linux), which opens /dev/nsm and issues NSM_IOCTL_RAW. Loaded at
 * run time from this repository's node_modules, never bundled: a missing or unbuilt addon is a clear
 * "not available", not a crash.
 */
import { createRequire } from 'node:module';
import type { NsmDriver } from './nitro-provider.ts';

export const NSM_ADDON = 'waiaas-nsm';

interface NsmAddon {
  readonly available: boolean;
  readonly loadError?: string;
  readonly NSM_IOCTL_RAW?: number;
  request(devicePath: string, bytes: Uint8Array): Uint8Array;
}

/** `_IOWR(0x0A, 0, struct nsm_raw)`: direction 3, size 32, type 0x0A, number 0. */
export const NSM_IOCTL_RAW = ((3 << 30) | (32 << 16) | (0x0a << 8) | 0) >>> 0;

export type LoadedNsmDriver =
  | { readonly driver: NsmDriver & { readonly ioctlNumber: number }; readonly reason?: undefined }
  | { readonly driver?: undefined; readonly reason: string };

/** The addon's driver for `devicePath`, or why there is none. */
export const loadNsmDriver = (devicePath: string): LoadedNsmDriver => {
  let addon: NsmAddon;
  try {
    addon = createRequire(import.meta.url)(NSM_ADDON) as NsmAddon;
  } catch {
    return { reason: `the native addon ${NSM_ADDON} is not installed (npm ci builds it on Linux)` };
  }
  if (!addon.available)
    return { reason: `the native addon ${NSM_ADDON} is not built (${addon.loadError ?? 'unknown reason'})` };
  return {
    driver: {
      ioctlNumber: addon.NSM_IOCTL_RAW ?? 0,
      request: (cbor) => addon.request(devicePath, cbor),
    },
  };
};
