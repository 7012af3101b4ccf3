// TPM 2.0 Library Part 2 constants used by this client (values from the TCG tables named below).

// Table 19 TPM_ST
export const TPM_ST = { NO_SESSIONS: 0x8001, SESSIONS: 0x8002, CREATION: 0x8021, VERIFIED: 0x8022 } as const;

// Table 12 TPM_CC
export const TPM_CC = {
  NV_UndefineSpace: 0x122,
  NV_DefineSpace: 0x12a,
  CreatePrimary: 0x131,
  NV_Increment: 0x134,
  NV_SetBits: 0x135,
  NV_Write: 0x137,
  NV_WriteLock: 0x138,
  Startup: 0x144,
  PolicyNV: 0x149,
  NV_Read: 0x14e,
  Create: 0x153,
  Load: 0x157,
  Unseal: 0x15e,
  FlushContext: 0x165,
  LoadExternal: 0x167,
  NV_ReadPublic: 0x169,
  PolicyAuthorize: 0x16a,
  StartAuthSession: 0x176,
  VerifySignature: 0x177,
  GetCapability: 0x17a,
  GetRandom: 0x17b,
  PCR_Read: 0x17e,
  PolicyPCR: 0x17f,
  ReadClock: 0x181,
  PCR_Extend: 0x182,
  PolicyGetDigest: 0x189,
} as const;
export type CommandName = keyof typeof TPM_CC;

// Table 9 TPM_ALG_ID
export const TPM_ALG = {
  RSA: 0x0001,
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  KEYEDHASH: 0x0008,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  ECC: 0x0023,
  CFB: 0x0043,
  ECDSA: 0x0018,
} as const;

// Table 10 TPM_ECC_CURVE
export const TPM_ECC_NIST_P256 = 0x0003;

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export const HASH_ALG: Readonly<Record<HashName, number>> = { sha1: TPM_ALG.SHA1, sha256: TPM_ALG.SHA256, sha384: TPM_ALG.SHA384, sha512: TPM_ALG.SHA512 };
export const HASH_SIZE: Readonly<Record<HashName, number>> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

export function hashName(alg: number): HashName | undefined {
  return (Object.keys(HASH_ALG) as HashName[]).find((n) => HASH_ALG[n] === alg);
}

// Table 28 TPM_RH / TPM_RS: permanent handles
export const TPM_RH = { OWNER: 0x40000001, NULL: 0x40000007, ENDORSEMENT: 0x4000000b, PLATFORM: 0x4000000c } as const;
// the password pseudo-session (Part 1 §19.8.4)
export const TPM_RS_PW = 0x40000009;

// Table 27 TPM_HT: the top byte of a handle says what it names
export const TPM_HT = { PCR: 0x00, NV_INDEX: 0x01, HMAC_SESSION: 0x02, POLICY_SESSION: 0x03, PERMANENT: 0x40, TRANSIENT: 0x80, PERSISTENT: 0x81 } as const;

// Table 20 TPM_SU
export const TPM_SU = { CLEAR: 0x0000, STATE: 0x0001 } as const;

// Table 22 TPM_SE
export const TPM_SE = { HMAC: 0x00, POLICY: 0x01, TRIAL: 0x03 } as const;

// Table 23 TPM_CAP, Table 24 TPM_PT
export const TPM_CAP = { ALGS: 0x0, HANDLES: 0x1, PCRS: 0x5, TPM_PROPERTIES: 0x6 } as const;
export const TPM_PT = {
  FAMILY_INDICATOR: 0x100,
  REVISION: 0x102,
  MANUFACTURER: 0x105,
  VENDOR_STRING_1: 0x106,
  VENDOR_STRING_4: 0x109,
  FIRMWARE_VERSION_1: 0x10b,
  FIRMWARE_VERSION_2: 0x10c,
  NV_BUFFER_MAX: 0x12c,
} as const;

// Table 31 TPMA_OBJECT
export const TPMA_OBJECT = {
  fixedTPM: 0x2,
  stClear: 0x4,
  fixedParent: 0x10,
  sensitiveDataOrigin: 0x20,
  userWithAuth: 0x40,
  adminWithPolicy: 0x80,
  noDA: 0x400,
  encryptedDuplication: 0x800,
  restricted: 0x10000,
  decrypt: 0x20000,
  sign: 0x40000,
} as const;

// Table 32 TPMA_SESSION
export const TPMA_SESSION = { continueSession: 0x01, decrypt: 0x20, encrypt: 0x40 } as const;

// Table 204 TPM_NT (TPMA_NV bits 7:4)
export const TPM_NT = { ORDINARY: 0x0, COUNTER: 0x1, BITS: 0x2, EXTEND: 0x4, PIN_FAIL: 0x8, PIN_PASS: 0x9 } as const;

// Table 205 TPMA_NV
export const TPMA_NV = {
  PPWRITE: 0x1,
  OWNERWRITE: 0x2,
  AUTHWRITE: 0x4,
  POLICYWRITE: 0x8,
  POLICY_DELETE: 0x400,
  WRITELOCKED: 0x800,
  WRITEALL: 0x1000,
  WRITEDEFINE: 0x2000,
  WRITE_STCLEAR: 0x4000,
  GLOBALLOCK: 0x8000,
  PPREAD: 0x10000,
  OWNERREAD: 0x20000,
  AUTHREAD: 0x40000,
  POLICYREAD: 0x80000,
  NO_DA: 0x2000000,
  ORDERLY: 0x4000000,
  CLEAR_STCLEAR: 0x8000000,
  READLOCKED: 0x10000000,
  WRITTEN: 0x20000000,
  PLATFORMCREATE: 0x40000000,
  READ_STCLEAR: 0x80000000,
} as const;
export type NvAttributeName = keyof typeof TPMA_NV;
export const TPMA_NV_TYPE_SHIFT = 4;
export const TPMA_NV_TYPE_MASK = 0xf0;
