import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { parseConfig } from '../../src/config/schema.js';
import { COMMANDS } from '../../src/cli/commands.js';

const readme = async (): Promise<string> => readFile(new URL('../../../README.md', import.meta.url), 'utf8');

// README is what a newcomer pastes: its config example must validate and its commands must exist.
describe('README', () => {
  it('shows a config example that the agent accepts', async () => {
    const text = await readme();
    const block = /### Config[\s\S]*?```json\n([\s\S]*?)```/.exec(text);
    expect(block, 'a ```json block under ### Config').to.not.equal(null);
    const config = parseConfig(JSON.parse(block![1]), 'README config example');
    expect(config.hardwareId).to.equal('board-a');
  });

  it('names only commands that exist', async () => {
    const text = await readme();
    const names = new Set(COMMANDS.map((c) => c.name));
    // command lines live in fenced blocks; prose may start a line with "edgeseal runs on …"
    const code = [...text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
    const used = [...code.matchAll(/^\s*edgeseal ((?:[a-z-]+)(?: [a-z-]+)?)/gm)].map((m) => m[1]);
    expect(used.length).to.be.greaterThan(10);
    for (const u of used) {
      const known = names.has(u) || names.has(u.split(' ')[0]);
      expect(known, `README runs 'edgeseal ${u}'`).to.equal(true);
    }
  });
});
