import { EdgesealError } from '../core/errors.js';
import { isTpmRc } from '../tpm/rc.js';
import { reseal } from '../trust/reseal.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { readPcrAuthority } from './provision.js';
import { DEFAULT_STATE_DIR, TPM_OPTIONS, TPM_USAGE, ownerAuthFrom, ownerAuthHint, tpmConfigFrom, withTpm } from './tpm-status.js';

const NAME = 'reseal';

export const resealCommand: Command = {
  name: NAME,
  usage: [
    'reseal --pcr-authority KEY.pub [--tpm-device PATH | --tpm-swtpm HOST:PORT] [--state-dir DIR] [--owner-auth-file FILE] [--json]',
    '',
    '  --pcr-authority FILE   seal the anchor to any PCR policy this ECC P-256 key signs (TPM2_PolicyAuthorize)',
    ...TPM_USAGE,
    '  --json                 print the result as JSON',
    '',
    'Moves the anchor of a provisioned device (sealed to plain PolicyPCR, or to another authority: key rotation)',
    'to the given authority: the same anchor secret, so the same report key and device id; the pin, the counters',
    'and the floors are not touched. Run it while the anchor still opens (before the boot chain changes), with',
    "a policy signed by the new authority for the PCRs now in DIR/trust/pcr-policies/ or the metadata cache;",
    'without one nothing changes (PCR_POLICY_MISSING). Safe to kill at any point and run again: the old blob',
    'stays the anchor until the new one unsealed and the reseal record (NV 0x018e5e11) names it.',
  ].join('\n'),

  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, { ...TPM_OPTIONS, 'pcr-authority': { type: 'string' }, json: { type: 'boolean' } });
    const pcrAuthority = await readPcrAuthority(NAME, required(NAME, 'pcr-authority', values['pcr-authority']));
    const stateDir = values['state-dir'] ?? DEFAULT_STATE_DIR;
    const ownerAuth = await ownerAuthFrom(NAME, values);
    const result = await withTpm(tpmConfigFrom(NAME, values), (tpm) => reseal({ tpm, stateDir, pcrAuthority, ...(ownerAuth ? { ownerAuth } : {}) })).catch((err: unknown) => {
      if (!isTpmRc(err, 'TPM_RC_BAD_AUTH')) throw err;
      throw new EdgesealError('TPM_ERROR', `${err.message}; ${ownerAuthHint(values['owner-auth-file'])}`, { cause: err });
    });
    if (values.json) {
      io.out(JSON.stringify(result, null, 2));
      return EXIT.OK;
    }
    io.out(result.status === 'resealed' ? `resealed ${result.deviceId}` : `already sealed to this authority: ${result.deviceId} (nothing changed)`);
    io.out(`  was sealed to ${result.from}`);
    io.out(`  now sealed to the PolicyAuthorize of authority ${result.authorityName}`);
    io.out(`  opens with    signed PCR policy generation ${result.generation}; report key and floors unchanged`);
    return EXIT.OK;
  },
};
