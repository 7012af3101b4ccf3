import { expect } from 'chai';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { runUpdate } from '../../src/agent/update.js';
import { CommandBootSelector } from '../../src/ota/boot-selector-command.js';
import { S, useBoardRig } from './rig.js';

// The bootloader's env tools named in the config: here two small shell scripts over a key=value file
// that record every argv they get, standing in for grub-editenv list / set.
const PRINT = `#!/bin/sh
printf 'print %s\\n' "$*" >> "$(dirname "$0")/argv.log"
cat "$(dirname "$0")/grubenv"
`;
const SET = `#!/bin/sh
d="$(dirname "$0")"
printf 'set %s\\n' "$*" >> "$d/argv.log"
for kv in "$@"; do
  grep -v "^\${kv%%=*}=" "$d/grubenv" > "$d/grubenv.tmp"
  printf '%s\\n' "$kv" >> "$d/grubenv.tmp"
  mv "$d/grubenv.tmp" "$d/grubenv"
done
`;

describe('agent boot selector from config (real swtpm)', function () {
  const rig = useBoardRig(this);

  it('builds the command selector from update.bootSelector.commands and drives the bootloader env through it', async () => {
    const board = await rig.board();
    const tools = board.dir;
    for (const [name, text] of [['print.sh', PRINT], ['set.sh', SET]] as const) {
      await writeFile(join(tools, name), text);
      await chmod(join(tools, name), 0o755);
    }
    await writeFile(join(tools, 'grubenv'), 'edgeseal_booted=A\nedgeseal_good=A\n');
    const commands = { print: [join(tools, 'print.sh'), 'list'], set: [join(tools, 'set.sh')], setStyle: 'assign' as const, vars: { tryCount: 'es_tries' } };
    const dev = await board.open({ config: { ...board.config, update: { ...board.config.update, bootSelector: { commands } } } });
    try {
      expect(dev.ab?.selector).to.be.instanceOf(CommandBootSelector);
      expect((await bootSequence(dev, new Date())).action).to.equal('verified');
      const o = await runUpdate(dev);
      expect(o).to.include({ action: 'installed', next: 'reboot' });
      expect(o.target?.name).to.equal(S.v2.target);
    } finally {
      await dev.close();
    }
    const argv = (await readFile(join(tools, 'argv.log'), 'utf8')).trim().split('\n');
    expect(argv).to.include('print list');
    // the trial is armed in one grub-editenv style call, count before slot, with the configured variable name
    expect(argv).to.include('set es_tries=1 edgeseal_try=B');
    expect(await readFile(join(tools, 'grubenv'), 'utf8')).to.contain('edgeseal_try=B').and.to.contain('es_tries=1');
    expect(await board.boot.state(), 'the file selector the rig also made is not used').to.include({ trySlot: null });
  });
});
