import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import { ownerAuth, type NvAuth } from '../tpm/nv.js';

// The TPM owner hierarchy password, read once from a file (config tpm.ownerAuthFile, or
// --owner-auth-file). With it set, a process that can talk to the TPM cannot undefine the NV pin or
// define counters in our range without it (TPM2_NV_UndefineSpace / NV_DefineSpace take owner auth).

// A hierarchy authValue is at most the size of the TPM's largest digest (Part 1 §19.6.4): 64 for SHA-512.
const MAX_OWNER_AUTH = 64;

// Reads the password: the file's bytes, less one trailing newline (`echo secret > file`). A missing,
// unreadable, empty or oversized file is `code` (CONFIG_INVALID from the config, USAGE from the CLI),
// naming `source` and the path.
export async function readOwnerAuthFile(path: string, source: string, code: 'CONFIG_INVALID' | 'USAGE'): Promise<NvAuth> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new EdgesealError(code, `${source}: expected a readable file holding the TPM owner password, found ${path} unreadable (${why})`, { cause: err });
  }
  const password = bytes.subarray(0, bytes.length - (bytes.at(-1) === 0x0a ? (bytes.at(-2) === 0x0d ? 2 : 1) : 0));
  if (password.length === 0 || password.length > MAX_OWNER_AUTH) {
    throw new EdgesealError(code, `${source}: expected 1–${MAX_OWNER_AUTH} bytes of TPM owner password in ${path}, found ${password.length}`);
  }
  return ownerAuth(new Uint8Array(password));
}
