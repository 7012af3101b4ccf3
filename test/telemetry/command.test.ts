import { expect } from 'chai';
import { parseCommand } from '../../src/telemetry/command.js';
import { expectCode } from '../helpers/expect-code.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('fleet command parsing', () => {
  it('accepts the three nudges, with an optional correlation id', () => {
    expect(parseCommand(enc('{"command":"check-update"}'))).to.deep.equal({ command: 'check-update' });
    expect(parseCommand(enc('{"command":"refresh-revocations","id":"r-1"}'))).to.deep.equal({ command: 'refresh-revocations', id: 'r-1' });
    expect(parseCommand(enc('{"command":"report-status"}'))).to.deep.equal({ command: 'report-status' });
  });

  const adversarial: [string, Uint8Array][] = [
    ['empty payload', enc('')],
    ['non-JSON', enc('check-update')],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
    ['a JSON string', enc('"check-update"')],
    ['null', enc('null')],
    ['an array', enc('["check-update"]')],
    ['an unknown command', enc('{"command":"reboot"}')],
    ['a non-string command', enc('{"command":1}')],
    ['a missing command', enc('{"id":"x"}')],
    ['data smuggled with a nudge', enc('{"command":"check-update","target":"evil.bin"}')],
    ['a prototype key', enc('{"command":"check-update","__proto__":{"x":1}}')],
    ['a bad id', enc('{"command":"check-update","id":"a b/c"}')],
    ['an oversized payload', enc(`{"command":"check-update","id":"${'a'.repeat(2000)}"}`)],
    ['deep nesting', enc(`${'['.repeat(500)}${']'.repeat(500)}`)],
  ];
  for (const [what, payload] of adversarial) {
    it(`rejects ${what} with COMMAND_INVALID`, () => void expectCode(() => parseCommand(payload), 'COMMAND_INVALID'));
  }
});
