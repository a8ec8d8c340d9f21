/**
 * Account layouts of the BPF upgradeable loader, as far as dumping and loading a program needs them.
 * Program account: u32 tag 2 + programdata address. ProgramData account: u32 tag 3 + u64 deployment
 * slot + Option<Pubkey> upgrade authority (always 33 bytes) = 45-byte header, then the ELF, then
 * zero padding up to the length reserved at deployment.
 */
export const BPF_LOADER_UPGRADEABLE_ID = 'BPFLoaderUpgradeab1e11111111111111111111111';
export const BPF_LOADER_2_ID = 'BPFLoader2111111111111111111111111111111111';
export const PROGRAMDATA_HEADER_SIZE = 45;

const PROGRAM_TAG = 2;
const PROGRAMDATA_TAG = 3;

/** The programdata address stored in an upgradeable program account, or null if it is not one. */
export function programDataAddressOf(programAccountData: Uint8Array): Uint8Array | null {
  if (programAccountData.length < 36) return null;
  const view = new DataView(
    programAccountData.buffer,
    programAccountData.byteOffset,
    programAccountData.length,
  );
  if (view.getUint32(0, true) !== PROGRAM_TAG) return null;
  return programAccountData.subarray(4, 36);
}

/** The bytes after the programdata header (ELF plus any padding), or null if it is not programdata. */
export function programDataPayload(programDataAccountData: Uint8Array): Uint8Array | null {
  if (programDataAccountData.length < PROGRAMDATA_HEADER_SIZE) return null;
  const view = new DataView(
    programDataAccountData.buffer,
    programDataAccountData.byteOffset,
    programDataAccountData.length,
  );
  if (view.getUint32(0, true) !== PROGRAMDATA_TAG) return null;
  return programDataAccountData.subarray(PROGRAMDATA_HEADER_SIZE);
}

/**
 * The length of an ELF64 file from its own header: the end of the section header table, or of the
 * furthest program header segment, whichever is later. Programs are deployed into programdata
 * accounts larger than the file, so this is how the file is cut out of the zero padding (the ELF
 * itself may end in zero bytes, so trimming zeros is not enough). Null if the bytes are not ELF64.
 */
export function elfFileLength(bytes: Uint8Array): number | null {
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    return null;
  }
  if (bytes[4] !== 2 || bytes[5] !== 1) return null; // 64-bit little-endian only
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const phoff = Number(view.getBigUint64(0x20, true));
  const shoff = Number(view.getBigUint64(0x28, true));
  const phentsize = view.getUint16(0x36, true);
  const phnum = view.getUint16(0x38, true);
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  let end = Math.max(64, shoff + shentsize * shnum, phoff + phentsize * phnum);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > bytes.length) return null;
    end = Math.max(end, Number(view.getBigUint64(at + 8, true)) + Number(view.getBigUint64(at + 32, true)));
  }
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    if (at + 64 > bytes.length) return null;
    const type = view.getUint32(at + 4, true);
    const SHT_NOBITS = 8;
    if (type === SHT_NOBITS) continue;
    end = Math.max(end, Number(view.getBigUint64(at + 24, true)) + Number(view.getBigUint64(at + 32, true)));
  }
  return end <= bytes.length ? end : null;
}
