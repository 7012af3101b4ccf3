import { EdgesealError } from '../core/errors.js';
import type { FileDigest } from '../io/file-digest.js';
import { readCapped, readMetadataDir } from '../tuf/metadata-files.js';
import { METADATA_MAX_LENGTH } from '../tuf/limits.js';
import { loadTrustedMetadata } from '../tuf/offline/load-trusted.js';
import { refusal } from '../tuf/offline/verify-image.js';
import type { ExpiryPolicy, Verdict, VersionFloors } from '../tuf/offline/types.js';
import { verifyInstalledImage } from '../tuf/verify-installed.js';
import { EXIT, exitCodeFor, parseCommandArgs, parseNow, required, type CliIo, type Command } from './command.js';

const NAME = 'verify';

function parseExpiry(text: string | undefined): ExpiryPolicy {
  if (text === undefined || text === 'enforce' || text === 'ignore') return text ?? 'enforce';
  throw new EdgesealError('USAGE', `${NAME}: --expiry: expected enforce or ignore, found ${JSON.stringify(text)}`);
}

const FLOOR_ROLES = { root: 'rootVersion', timestamp: 'timestampVersion', snapshot: 'snapshotVersion', targets: 'targetsVersion' } as const;

// --floor ROLE=N, repeatable: the versions this device has already trusted (its anti-rollback floors).
function parseFloors(texts: readonly string[] = []): VersionFloors {
  const floors: Record<string, number> = {};
  for (const text of texts) {
    const m = /^(root|timestamp|snapshot|targets)=([1-9]\d{0,8})$/.exec(text);
    if (!m) throw new EdgesealError('USAGE', `${NAME}: --floor: expected ROLE=N with ROLE root|timestamp|snapshot|targets, found ${JSON.stringify(text)}`);
    floors[FLOOR_ROLES[m[1] as keyof typeof FLOOR_ROLES]] = Number(m[2]);
  }
  return floors;
}

function describe(verdict: Verdict, observed: FileDigest | undefined): string[] {
  if (!verdict.ok) return [`REFUSED [${verdict.code}] ${verdict.message}`];
  const { target } = verdict;
  const c = target.custom;
  return [
    `VERIFIED ${target.name}`,
    `  version   ${c.version} (securityVersion ${c.securityVersion}, kind ${c.kind}${c.slot ? `, slot ${c.slot}` : ''})`,
    `  hardware  ${c.hardwareIds.join(', ')}`,
    `  sha256    ${observed?.sha256 ?? target.hashes.sha256} (${target.length} bytes)`,
    `  signed by ${target.signedBy.role}: ${verdict.keyids.join(', ')}`,
    `  root      version ${verdict.rootVersion}`,
  ];
}

export const verifyCommand: Command = {
  name: NAME,
  usage: [
    'verify --metadata DIR --target NAME --file PATH [--hardware-id ID] [--now ISO] [--initial-root FILE] [--expiry enforce|ignore] [--floor ROLE=N …] [--json]',
    '',
    '  --metadata DIR       device metadata cache (root.json, roots/N.root.json, …) or a published metadata/ dir',
    '  --target NAME        TUF target name of the image, e.g. firmware/board-a/fw.bin',
    '  --file PATH          the installed image to check (streamed; symlinks refused)',
    '  --hardware-id ID     refuse images not built for this hardware id',
    '  --now ISO            time to check expiry at (default: now)',
    '  --initial-root FILE  pinned root to start the chain from (default: the oldest root in DIR)',
    '  --expiry POLICY      enforce (default) or ignore expiry, e.g. for booting an installed image',
    '  --floor ROLE=N       refuse ROLE (root|timestamp|snapshot|targets) below version N (rollback floor)',
    '  --json               print the verdict as JSON',
    '',
    'exit 0 only when verified; 1 when refused (the code is printed); 2 bad arguments; 3 files unreadable.',
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(NAME, argv, {
      metadata: { type: 'string' },
      target: { type: 'string' },
      file: { type: 'string' },
      'hardware-id': { type: 'string' },
      now: { type: 'string' },
      'initial-root': { type: 'string' },
      expiry: { type: 'string' },
      floor: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    });
    const dir = required(NAME, 'metadata', values.metadata);
    const targetName = required(NAME, 'target', values.target);
    const file = required(NAME, 'file', values.file);
    const now = parseNow(NAME, values.now);
    const expiry = parseExpiry(values.expiry);
    const floors = parseFloors(values.floor);
    const initialRootPath = values['initial-root'];
    const initialRoot = initialRootPath ? await readCapped(initialRootPath, METADATA_MAX_LENGTH.root) : undefined;

    let result: { verdict: Verdict; observed?: FileDigest };
    try {
      const files = await readMetadataDir(dir, initialRoot ? { initialRoot } : {});
      const trusted = loadTrustedMetadata(files, { now, expiry, floors, target: targetName }); // roles off the target's walk are not read
      const hardwareId = values['hardware-id'];
      const onProgress = io.isTTY && !values.json ? await hashProgress(targetName) : undefined;
      result = verifyInstalledImage(trusted, { targetName, file, now, ...(hardwareId !== undefined ? { hardwareId } : {}), ...(onProgress ? { onProgress } : {}) });
    } catch (err) {
      result = { verdict: refusal(err) };
    }
    const { verdict, observed } = result;
    if (values.json) io.out(JSON.stringify({ ...verdict, ...(observed ? { observed } : {}) }, null, 2));
    else for (const line of describe(verdict, observed)) io.out(line);
    return verdict.ok ? EXIT.OK : exitCodeFor(verdict.code);
  },
};

// A bar on the terminal (stderr) while an image long enough to wait for is hashed (issue 12 F);
// loaded only for a terminal, so scripts pay nothing for it at start-up.
async function hashProgress(targetName: string): Promise<(done: number, total: number) => void> {
  const [{ progressLine }, { LONG_WORK_BYTES }] = await Promise.all([import('../ota/progress.js'), import('../ota/progress-plan.js')]);
  const bar = progressLine(`  ${targetName}`, (text) => process.stderr.write(text));
  return (done, total) => {
    if (total > LONG_WORK_BYTES) bar({ received: done, total, resumedFrom: 0, phase: 'verify' });
  };
}
