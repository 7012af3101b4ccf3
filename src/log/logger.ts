import type { Writable } from 'node:stream';
import { stableJson } from './stable-json.js';

// The one logger: levels, child loggers with fixed fields, three line formats, one stream. Our own
// rather than winston, whose module graph (logform, readable-stream, async, colors…) was ~4 MiB of the
// idle agent's RSS for what fits here (docs/memory.md); the lines it wrote are unchanged.

export type LogFormat = 'text' | 'json' | 'journal';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  // a logger that adds `fields` (e.g. { component }) to every line
  child(fields: LogFields): Logger;
}

const RANK: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };
// syslog priorities (sd-daemon(3)): journald reads a leading "<N>" as the line's priority, so
// `journalctl -p warning` shows our warnings and errors
const PRIORITY: Readonly<Record<LogLevel, number>> = { error: 3, warn: 4, info: 6, debug: 7 };

// journal under systemd (it sets JOURNAL_STREAM), readable lines on a TTY, JSON lines otherwise.
export function defaultLogFormat(env: NodeJS.ProcessEnv = process.env, tty = Boolean(process.stderr.isTTY)): LogFormat {
  if (env.JOURNAL_STREAM) return 'journal';
  return tty ? 'text' : 'json';
}

type Entry = Record<string, unknown> & { level: LogLevel; message: string };
const pad2 = (n: number): string => String(n).padStart(2, '0');

const LINE: Readonly<Record<LogFormat, (e: Entry, now: Date) => string>> = {
  // HH:mm:ss local time, level, [component], message, then any other fields as JSON
  text: ({ level, message, component, ...rest }, now) => {
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    const comp = typeof component === 'string' ? `[${component}] ` : '';
    return `${pad2(now.getHours())}:${pad2(now.getMinutes())}:${pad2(now.getSeconds())} ${level.padEnd(5)} ${comp}${message}${extra}`;
  },
  json: (e, now) => stableJson({ ...e, timestamp: now.toISOString() }),
  // JSON lines with the priority prefix; journald adds its own timestamp
  journal: (e) => `<${PRIORITY[e.level]}>${stableJson(e)}`,
};

interface Sink {
  readonly threshold: number;
  readonly line: (e: Entry, now: Date) => string;
  readonly stream: Writable;
}

function loggerOver(sink: Sink | undefined, fixed: LogFields): Logger {
  const log = (level: LogLevel) => (message: string, fields: LogFields = {}): void => {
    if (!sink || RANK[level] > sink.threshold) return;
    // a `message` among the fields is appended, as winston did
    const text = typeof fields.message === 'string' ? `${message} ${fields.message}` : message;
    sink.stream.write(`${sink.line({ ...fixed, ...fields, level, message: text }, new Date())}\n`);
  };
  return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug'), child: (fields) => loggerOver(sink, { ...fixed, ...fields }) };
}

// The one logger factory. Libraries never log; adapters and entry points take a child of this
// (`logger.child({ component })`).
export function createLogger(opts: { level?: LogLevel; format?: LogFormat; silent?: boolean; stream?: Writable } = {}): Logger {
  if (opts.silent) return loggerOver(undefined, {});
  return loggerOver({ threshold: RANK[opts.level ?? 'info'], line: LINE[opts.format ?? defaultLogFormat()], stream: opts.stream ?? process.stderr }, {});
}
