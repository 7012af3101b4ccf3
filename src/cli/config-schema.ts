import { configJsonSchema } from '../config/schema.js';
import { EXIT, parseCommandArgs, type CliIo, type Command } from './command.js';

const NAME = 'config schema';

export const configSchemaCommand: Command = {
  name: NAME,
  usage: [
    'config schema',
    '',
    'Prints the JSON Schema of /etc/edgeseal/config.json, generated from the same field definitions',
    '`config check` validates with (types, defaults, descriptions, constraints; unknown keys are errors).',
    'Rules between fields (an A/B image needs update.slots and update.bootSelector, telemetry.cert needs',
    'telemetry.key, …) are checked by `config check` only. Example: edgeseal config schema > config.schema.json',
  ].join('\n'),

  run(argv: string[], io: CliIo): Promise<number> {
    parseCommandArgs(NAME, argv, {});
    io.out(JSON.stringify(configJsonSchema(), null, 2));
    return Promise.resolve(EXIT.OK);
  },
};
