import { runDemo } from '../demo/demo.js';
import { progressLine } from '../ota/progress.js';
import { EXIT, parseCommandArgs, type CliIo, type Command } from './command.js';

const NAME = 'demo';

export const demoCommand: Command = {
  name: NAME,
  usage: [
    'demo',
    '',
    'Starts its own swtpm (apt-get install swtpm) in a temporary dir, provisions it with the fixture',
    "repository's initial root, serves firmware-fixtures/ on a loopback HTTP mirror, installs v1.0.0 into",
    'slot A, runs the boot check, updates to v1.1.0 in slot B, reboots into it, commits and raises the TPM',
    'floors, then shows a tampered release refused (DIGEST_MISMATCH) and, once the publisher revokes it in a',
    'signed revocation list, the genuine release refused (IMAGE_REVOKED); telemetry flows through an embedded MQTT broker.',
    'Everything stays on 127.0.0.1 and is removed afterwards.',
    '',
    'exit 0 when the demo ran; 3 when swtpm is missing or cannot start.',
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    parseCommandArgs(NAME, argv, {});
    const progress = io.isTTY ? progressLine('  downloading', (t) => process.stdout.write(t)) : undefined;
    await runDemo({ line: (t) => io.out(t), ...(progress ? { progress } : {}) });
    return EXIT.OK;
  },
};
