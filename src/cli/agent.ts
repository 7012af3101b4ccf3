import { DEFAULT_CONFIG_PATH } from '../agent/config-path.js';
import { AGENT_IDLE_V8_FLAGS, applyAgentV8Flags } from '../agent/v8-flags.js';
import { parseCommandArgs, type CliIo, type Command } from './command.js';

const NAME = 'agent';

export const agentCommand: Command = {
  name: NAME,
  usage: [
    'agent [--config FILE]',
    '',
    `  --config FILE   agent config (default ${DEFAULT_CONFIG_PATH}); 'edgeseal config check' validates it`,
    '',
    'Under systemd (Type=notify) it sends READY=1 after the boot check, WATCHDOG=1 at half WatchdogSec,',
    'STOPPING=1 on SIGTERM/SIGINT (the running step is abandoned safely, the telemetry outbox flushed).',
    'SIGHUP re-reads the config and replaces the schedules.',
    '',
    'exit 0 after SIGTERM/SIGINT · 1 boot refused (onFailure refuse/fallback, or an install rolled back)',
    'exit 2 config invalid · 3 TPM, disk or broker unavailable · 1 anchors do not unseal (ANCHOR_UNAVAILABLE)',
  ].join('\n'),

  async run(argv: string[], _io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(NAME, argv, { config: { type: 'string' } });
    applyAgentV8Flags();
    // after the flags: loading the agent's modules is the first allocation burst that would grow the heap
    const { runAgent } = await import('../agent/daemon.js');
    return runAgent({ configPath: values.config ?? DEFAULT_CONFIG_PATH, onReady: () => applyAgentV8Flags(AGENT_IDLE_V8_FLAGS) });
  },
};
