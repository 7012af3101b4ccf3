import { EdgesealError } from '../core/errors.js';

// Commands the fleet may send on <prefix>/<fleet>/<deviceId>/cmd. They are nudges only: they ask the
// agent to do what it would do on its own schedule and never carry URLs, targets, keys or verdicts,
// so a compromised broker can at worst make the device check early.
export const COMMAND_NAMES = ['check-update', 'refresh-revocations', 'report-status'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export interface FleetCommand {
  command: CommandName;
  id?: string; // opaque correlation id echoed in the command event
}

const MAX_COMMAND_BYTES = 1024;
const ID = /^[A-Za-z0-9._:-]{1,64}$/;

// Parses a command payload, capping size before parsing; anything else is COMMAND_INVALID.
export function parseCommand(payload: Uint8Array): FleetCommand {
  if (payload.length > MAX_COMMAND_BYTES) throw new EdgesealError('COMMAND_INVALID', `command: expected at most ${MAX_COMMAND_BYTES} bytes, found ${payload.length}`);
  let x: unknown;
  try {
    x = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw new EdgesealError('COMMAND_INVALID', 'command: expected a UTF-8 JSON object, found unparseable bytes', { cause: err });
  }
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new EdgesealError('COMMAND_INVALID', `command: expected a JSON object, found ${Array.isArray(x) ? 'array' : x === null ? 'null' : typeof x}`);
  const { command, id, ...rest } = x as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new EdgesealError('COMMAND_INVALID', `command: unexpected fields ${extra.join(', ')} (commands are nudges and carry no data)`);
  if (typeof command !== 'string' || !(COMMAND_NAMES as readonly string[]).includes(command)) {
    throw new EdgesealError('COMMAND_INVALID', `command: expected one of ${COMMAND_NAMES.join('|')}, found ${JSON.stringify(command)?.slice(0, 80)}`);
  }
  if (id !== undefined && (typeof id !== 'string' || !ID.test(id))) throw new EdgesealError('COMMAND_INVALID', 'command.id: expected [A-Za-z0-9._:-]{1,64}');
  return id === undefined ? { command: command as CommandName } : { command: command as CommandName, id };
}
