/** The NSM raw-request addon (see nsm.c). */
export declare const available: boolean;
export declare const loadError: string | undefined;
export declare const NSM_IOCTL_RAW: number | undefined;
export declare const NSM_REQUEST_MAX_SIZE: number | undefined;
export declare const NSM_RESPONSE_MAX_SIZE: number | undefined;
/** One raw NSM request: CBOR in, CBOR out. Throws an Error whose `code` is the errno name. */
export declare function request(devicePath: string, bytes: Uint8Array): Buffer;
