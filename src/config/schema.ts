import cron from 'node-cron';
import { EdgesealError } from '../core/errors.js';
import { parseMaintenanceWindows } from '../core/maintenance-window.js';
import { IMAGE_KINDS, type ImageKind } from '../core/target-meta.js';
import type { CommandBootSelectorConfig } from '../ota/boot-selector-command.js';
import { DEFAULT_FRESHNESS_POLICY, ON_EXPIRED_BOOT, ON_EXPIRED_UPDATE, ON_NEVER, type FreshnessPolicy } from '../revocation/policy.js';
import { DEFAULT_METRICS_CRON } from '../telemetry/metrics-schedule.js';
import { DEFAULT_LIMITS } from '../telemetry/outbox/outbox.js';
import { Fields } from './fields.js';

// The agent's configuration (default /etc/edgeseal/config.json). README documents every field.
export interface ImageConfig {
  readonly target: string; // TUF target name (for the A/B image: the one installed at the factory)
  // installed file or block device; omitted for the A/B image, which lives in update.slots
  readonly path?: string;
  readonly kind: ImageKind;
}

export type OnFailure = 'refuse' | 'fallback' | 'report-only';

// A JSON file the bootloader reads (tests, simple boards), or the bootloader's env tools (GRUB, U-Boot).
export type BootSelectorConfig = { readonly file: string } | { readonly commands: CommandBootSelectorConfig };

export interface AgentConfig {
  readonly deviceId: string;
  readonly fleet: string;
  readonly hardwareId: string;
  readonly stateDir: string;
  // ownerAuthFile: a file holding the TPM owner hierarchy password (see src/trust/owner-auth.ts)
  readonly tpm: { readonly device?: string; readonly swtpm?: string; readonly measurePcr: number; readonly ownerAuthFile?: string };
  readonly images: readonly ImageConfig[];
  readonly onFailure: OnFailure;
  readonly expiryAtBoot: 'enforce' | 'ignore';
  readonly clockToleranceSeconds: number; // how far behind the time floor the clock may be before CLOCK_BEHIND_FLOOR
  readonly update: {
    readonly source?: string; // URL or directory of a published TUF repository
    readonly schedule?: string; // cron expression
    readonly jitterSeconds: number;
    readonly allowDowngrade: boolean;
    readonly slots?: { readonly a: string; readonly b: string };
    readonly bootSelector?: BootSelectorConfig;
    readonly maxTries: number;
    readonly rebootCommand: readonly string[]; // argv, run without a shell after arming or falling back
    readonly reserveBytes: number;
    readonly maintenanceWindows: readonly string[]; // UTC, e.g. "Mon-Fri 02:00-04:00"; empty: any time
  };
  // the freshness policy (src/revocation/policy.ts, docs/revocation.md) plus the refresh schedule
  readonly revocation: FreshnessPolicy & { readonly schedule?: string };
  readonly telemetry: {
    readonly broker?: string; // mqtt(s)://host:port; unset → embedded loopback broker
    readonly prefix: string;
    readonly username?: string;
    readonly password?: string;
    readonly ca?: string;
    readonly cert?: string;
    readonly key?: string;
    readonly metricsSchedule: string;
    readonly outboxMaxBytes: number;
    readonly ack: 'broker' | 'collector'; // who lets the outbox forget an event (docs/fleet/README.md)
    readonly collectorKey?: string; // ed25519 public key (hex) that signs the collector's ack marks
  };
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const SWTPM = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const ABS = /^\//;

const BOOT_VARS = ['active', 'good', 'trySlot', 'tryCount'] as const;

function bootSelector(f: Fields): BootSelectorConfig | undefined {
  const p = 'update.bootSelector';
  const abs = { pattern: ABS, describe: 'an absolute path' };
  if (f.has(`${p}.file`) === f.has(`${p}.commands`)) {
    f.problems.push(`${p}: expected exactly one of { file } or { commands: { print, set, setStyle } }, found ${f.has(`${p}.file`) ? 'both' : 'neither'}`);
    return undefined;
  }
  if (f.has(`${p}.file`)) return { file: f.string(`${p}.file`, abs) };
  const c = `${p}.commands`;
  const name = { pattern: /^[A-Za-z0-9_.-]{1,64}$/, describe: 'a bootloader variable name (letters, digits, _ . -)' };
  const vars = Object.fromEntries(BOOT_VARS.flatMap((k) => (f.has(`${c}.vars.${k}`) ? [[k, f.string(`${c}.vars.${k}`, name)]] : [])));
  // argv lists run without a shell; each needs at least the program
  const argv = (key: string): string[] => {
    const before = f.problems.length;
    const list = f.stringList(`${c}.${key}`);
    if (f.problems.length === before && list.length === 0) f.problems.push(`${c}.${key}: expected an argv list with at least the program, found []`);
    return list;
  };
  return {
    commands: {
      print: argv('print'),
      set: argv('set'),
      setStyle: f.oneOf(`${c}.setStyle`, ['assign', 'pair'] as const),
      ...(Object.keys(vars).length ? { vars } : {}),
      ...(f.has(`${c}.cmdline`) ? { cmdline: { path: f.string(`${c}.cmdline.path`, abs), key: f.string(`${c}.cmdline.key`, name) } } : {}),
      ...(f.has(`${c}.timeoutMs`) ? { timeoutMs: f.int(`${c}.timeoutMs`, { min: 100, max: 600_000 }) } : {}),
    },
  };
}

// Validates raw JSON into an AgentConfig, reporting every bad field at once as CONFIG_INVALID.
export function parseConfig(raw: unknown, origin = 'config'): AgentConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new EdgesealError('CONFIG_INVALID', `${origin}: expected a JSON object, found ${JSON.stringify(raw)}`);
  }
  const f = new Fields(raw as Record<string, unknown>);
  const id = { pattern: ID, describe: 'letters, digits, . _ - (1–64)' };
  const abs = { pattern: ABS, describe: 'an absolute path' };
  const config: AgentConfig = {
    deviceId: f.string('deviceId', id),
    fleet: f.string('fleet', { ...id, default: 'default' }),
    hardwareId: f.string('hardwareId', id),
    stateDir: f.string('stateDir', { ...abs, default: '/var/lib/edgeseal' }),
    tpm: {
      device: f.optionalString('tpm.device', abs),
      swtpm: f.optionalString('tpm.swtpm', { pattern: SWTPM, describe: 'host:port' }),
      measurePcr: f.int('tpm.measurePcr', { default: 23, min: 0, max: 23 }),
      ownerAuthFile: f.optionalString('tpm.ownerAuthFile', abs),
    },
    images: f.list('images', (i, p) => ({ target: i.string(`${p}.target`), path: i.optionalString(`${p}.path`, abs), kind: i.oneOf(`${p}.kind`, IMAGE_KINDS) }), { min: 1 }),
    onFailure: f.oneOf('onFailure', ['refuse', 'fallback', 'report-only'] as const, 'refuse'),
    expiryAtBoot: f.oneOf('expiryAtBoot', ['enforce', 'ignore'] as const, 'ignore'),
    clockToleranceSeconds: f.int('clockToleranceSeconds', { default: 300, min: 0, max: 86400 }),
    update: {
      source: f.optionalString('update.source'),
      schedule: f.optionalString('update.schedule'),
      jitterSeconds: f.int('update.jitterSeconds', { default: 300, min: 0, max: 86400 }),
      allowDowngrade: f.bool('update.allowDowngrade', false),
      slots: f.has('update.slots') ? { a: f.string('update.slots.a', abs), b: f.string('update.slots.b', abs) } : undefined,
      bootSelector: f.has('update.bootSelector') ? bootSelector(f) : undefined,
      maxTries: f.int('update.maxTries', { default: 1, min: 1, max: 10 }),
      rebootCommand: f.stringList('update.rebootCommand', ['systemctl', 'reboot']),
      reserveBytes: f.int('update.reserveBytes', { default: 16 * 1024 ** 2, min: 0 }),
      maintenanceWindows: f.stringList('update.maintenanceWindows', []),
    },
    revocation: {
      schedule: f.optionalString('revocation.schedule'),
      graceDays: f.int('revocation.graceDays', { default: DEFAULT_FRESHNESS_POLICY.graceDays, min: 0, max: 365 }),
      onExpired: {
        update: f.oneOf('revocation.onExpired.update', ON_EXPIRED_UPDATE, DEFAULT_FRESHNESS_POLICY.onExpired.update),
        boot: f.oneOf('revocation.onExpired.boot', ON_EXPIRED_BOOT, DEFAULT_FRESHNESS_POLICY.onExpired.boot),
      },
      onNever: f.oneOf('revocation.onNever', ON_NEVER, DEFAULT_FRESHNESS_POLICY.onNever),
    },
    telemetry: {
      broker: f.optionalString('telemetry.broker', { pattern: /^(mqtts?|wss?):\/\/[^\s]+$/, describe: 'a URL like mqtt://host:1883 or mqtts://host:8883' }),
      prefix: f.string('telemetry.prefix', { default: 'edgeseal', pattern: /^[^#+\s]+$/, describe: 'an MQTT topic prefix without wildcards' }),
      username: f.optionalString('telemetry.username'),
      password: f.optionalString('telemetry.password'),
      ca: f.optionalString('telemetry.ca', abs),
      cert: f.optionalString('telemetry.cert', abs),
      key: f.optionalString('telemetry.key', abs),
      metricsSchedule: f.string('telemetry.metricsSchedule', { default: DEFAULT_METRICS_CRON }),
      outboxMaxBytes: f.int('telemetry.outboxMaxBytes', { default: DEFAULT_LIMITS.maxBytes, min: 64 * 1024 }),
      ack: f.oneOf('telemetry.ack', ['broker', 'collector'] as const, 'broker'),
      collectorKey: f.optionalString('telemetry.collectorKey', { pattern: /^[0-9a-f]{64}$/, describe: '64 lowercase hex characters (the collector public key)' }),
    },
    logLevel: f.oneOf('logLevel', ['error', 'warn', 'info', 'debug'] as const, 'info'),
  };
  if (config.tpm.device && config.tpm.swtpm) f.problems.push('tpm: expected either tpm.device or tpm.swtpm, found both');
  if ((config.telemetry.ack === 'collector') !== (config.telemetry.collectorKey !== undefined)) f.problems.push('telemetry.ack/telemetry.collectorKey: expected collectorKey exactly when ack is "collector"');
  if (Boolean(config.telemetry.cert) !== Boolean(config.telemetry.key)) f.problems.push('telemetry.cert/telemetry.key: expected both (mutual TLS) or neither');
  const slotted = config.images.filter((i) => i.path === undefined);
  if (slotted.length > 1) f.problems.push(`images: expected at most one image without a path (the A/B image), found ${slotted.length}`);
  if (slotted.length > 0 && (!config.update.slots || !config.update.bootSelector)) {
    f.problems.push('update.slots/update.bootSelector: expected both for the A/B image (the image without a path), found them missing');
  }
  if (config.onFailure === 'fallback' && slotted.length === 0) f.problems.push('onFailure: fallback needs an A/B image (update.slots), found none');
  for (const [path, expr] of [['update.schedule', config.update.schedule], ['revocation.schedule', config.revocation.schedule], ['telemetry.metricsSchedule', config.telemetry.metricsSchedule]] as const) {
    if (expr !== undefined && expr !== '' && !cron.validate(expr)) f.problems.push(`${path}: expected a cron expression like '0 3 * * *', found ${JSON.stringify(expr)}`);
  }
  try {
    parseMaintenanceWindows(config.update.maintenanceWindows);
  } catch (err) {
    f.problems.push(`update.maintenanceWindows: ${(err as Error).message}`);
  }
  if (config.update.rebootCommand.length === 0) f.problems.push('update.rebootCommand: expected an argv list with at least the program, found []');
  if (f.problems.length) {
    throw new EdgesealError('CONFIG_INVALID', `${origin} has ${f.problems.length} invalid field(s):\n  - ${f.problems.join('\n  - ')}`);
  }
  return config;
}
