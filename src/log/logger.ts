import winston from 'winston';

export type Logger = winston.Logger;

// The one logger factory: JSON lines for journald/pipes, readable lines on a TTY.
// Libraries never log; adapters and entry points take a child of this (`logger.child({ component })`).
export function createLogger(opts: { level?: string; json?: boolean; silent?: boolean } = {}): Logger {
  const json = opts.json ?? !process.stdout.isTTY;
  const format = json
    ? winston.format.combine(winston.format.timestamp(), winston.format.json())
    : winston.format.combine(
        winston.format.timestamp({ format: 'HH:mm:ss' }),
        winston.format.printf(({ timestamp, level, message, component, ...rest }) => {
          const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
          const comp = typeof component === 'string' ? `[${component}] ` : '';
          return `${String(timestamp)} ${level.padEnd(5)} ${comp}${String(message)}${extra}`;
        }),
      );
  return winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent ?? false,
    format,
    transports: [new winston.transports.Stream({ stream: process.stderr })],
  });
}
