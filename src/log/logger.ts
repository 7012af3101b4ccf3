import type { Writable } from 'node:stream';
import winston from 'winston';

export type Logger = winston.Logger;
export type LogFormat = 'text' | 'json' | 'journal';

// syslog priorities (sd-daemon(3)): journald reads a leading "<N>" as the line's priority, so
// `journalctl -p warning` shows our warnings and errors
const PRIORITY: Readonly<Record<string, number>> = { error: 3, warn: 4, info: 6, debug: 7 };

// journal under systemd (it sets JOURNAL_STREAM), readable lines on a TTY, JSON lines otherwise.
export function defaultLogFormat(env: NodeJS.ProcessEnv = process.env, tty = Boolean(process.stderr.isTTY)): LogFormat {
  if (env.JOURNAL_STREAM) return 'journal';
  return tty ? 'text' : 'json';
}

const text = winston.format.combine(
  winston.format.timestamp({ format: 'HH:mm:ss' }),
  winston.format.printf(({ timestamp, level, message, component, ...rest }) => {
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    const comp = typeof component === 'string' ? `[${component}] ` : '';
    return `${String(timestamp)} ${level.padEnd(5)} ${comp}${String(message)}${extra}`;
  }),
);
const json = winston.format.combine(winston.format.timestamp(), winston.format.json());
// JSON lines with the priority prefix; journald adds its own timestamp
const journal = winston.format.combine(
  winston.format.json(),
  winston.format.printf((info) => `<${PRIORITY[info.level] ?? 6}>${String(info[Symbol.for('message')])}`),
);
const FORMATS: Readonly<Record<LogFormat, winston.Logform.Format>> = { text, json, journal };

// The one logger factory. Libraries never log; adapters and entry points take a child of this
// (`logger.child({ component })`).
export function createLogger(opts: { level?: string; format?: LogFormat; silent?: boolean; stream?: Writable } = {}): Logger {
  return winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent ?? false,
    format: FORMATS[opts.format ?? defaultLogFormat()],
    transports: [new winston.transports.Stream({ stream: opts.stream ?? process.stderr })],
  });
}
