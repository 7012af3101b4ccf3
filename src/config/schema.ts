import { cronProblem } from '../core/cron.js';
import { EdgesealError } from '../core/errors.js';
import { parseMaintenanceWindows } from '../core/maintenance-window.js';
import { IMAGE_KINDS } from '../core/target-meta.js';
import { DEFAULT_RETRIEVAL } from '../io/retrieval-deadline.js';
import { DEFAULT_FRESHNESS_POLICY, ON_EXPIRED_BOOT, ON_EXPIRED_UPDATE, ON_NEVER } from '../revocation/policy.js';
import { DEFAULT_METRICS_CRON } from '../telemetry/metrics-schedule.js';
import { DEFAULT_LIMITS } from '../telemetry/outbox/outbox.js';
import { bool, choice, exactlyOne, int, list, optional, section, str, strList, type JsonSchema, type SectionOf } from './fields.js';
import { Problems } from './problems.js';

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const SWTPM = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const ABS = { pattern: /^\//, describe: 'an absolute path' };
const id = { pattern: ID, describe: 'letters, digits, . _ - (1–64)' };
const VAR = { pattern: /^[A-Za-z0-9_.-]{1,64}$/, describe: 'a bootloader variable name (letters, digits, _ . -)' };
const ARGV = { minItems: 1, what: 'an argv list with at least the program' };

const cronCheck = (expr: string): string | undefined => {
  const why = cronProblem(expr);
  return why === undefined ? undefined : `expected a cron expression like '0 3 * * *', found ${JSON.stringify(expr)} (${why})`;
};
const cronField = (description: string, def?: string): ReturnType<typeof str> => str({ description, check: cronCheck, ...(def !== undefined ? { default: def } : {}) });
function windowsCheck(windows: readonly string[]): string | undefined {
  try {
    parseMaintenanceWindows(windows);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

const bootVar = (description: string): ReturnType<typeof optional<string>> => optional(str({ description, ...VAR }));

// The bootloader's env tools, run as argv without a shell (src/ota/boot-selector-command.ts).
const BOOT_COMMANDS = section(
  {
    print: strList({ description: 'argv that prints the bootloader environment as key=value lines', ...ARGV }),
    set: strList({ description: 'argv prefix that sets bootloader variables', ...ARGV }),
    setStyle: choice(['assign', 'pair'] as const, { description: "'assign': one call with every key=value (grub-editenv); 'pair': one `key value` call per variable (fw_setenv)" }),
    vars: optional(section({ active: bootVar('variable naming the active slot'), good: bootVar('variable naming the last good slot'), trySlot: bootVar('variable naming the slot on trial'), tryCount: bootVar('variable counting trial boots') }, { description: 'bootloader variable names, when they differ from the defaults' })),
    cmdline: optional(section({ path: str({ description: 'file holding the kernel command line', ...ABS }), key: str({ description: 'command-line key naming the booted slot', ...VAR }) }, { description: 'read the booted slot from the kernel command line' })),
    timeoutMs: optional(int({ description: 'how long one bootloader tool may run (ms)', min: 100, max: 600_000 })),
  },
  { description: 'GRUB/U-Boot environment tools' },
);

// Every field the agent reads (default /etc/edgeseal/config.json), one line each: type, default,
// description, constraints. parseConfig and `edgeseal config schema` both come from this.
export const AGENT_CONFIG = section(
  {
    deviceId: str({ description: 'this device, unique in its fleet', ...id }),
    fleet: str({ description: 'fleet the device reports under', default: 'default', ...id }),
    hardwareId: str({ description: 'board type; a target must list it in custom.hardwareIds', ...id }),
    stateDir: str({ description: 'where the agent keeps its state (metadata cache, journal, outbox)', default: '/var/lib/edgeseal', ...ABS }),
    runDir: str({ description: 'tmpfs, this boot only: the verdict spool and measurement log when the state dir cannot be written (docs/faults.md)', default: '/run/edgeseal', ...ABS }),
    tpm: section(
      {
        device: optional(str({ description: 'TPM character device (default /dev/tpmrm0)', ...ABS })),
        swtpm: optional(str({ description: 'swtpm socket as host:port (tests, demo)', pattern: SWTPM, describe: 'host:port' })),
        measurePcr: int({ description: 'PCR the boot check extends with each verified image (docs/measurement-pcr.md: not resettable by local root, outside the seal set)', default: 6, min: 0, max: 23 }),
        ownerAuthFile: optional(str({ description: 'file holding the TPM owner hierarchy password', ...ABS })),
      },
      { description: 'the TPM holding the pinned root and the floors' },
    ),
    images: list(
      section(
        {
          target: str({ description: 'TUF target name (for the A/B image: the one installed at the factory)' }),
          path: optional(str({ description: 'installed file or block device; omitted for the A/B image, which lives in update.slots', ...ABS })),
          kind: choice(IMAGE_KINDS, { description: 'what the image is; the target must say the same' }),
        },
        { description: 'one image the boot check verifies' },
      ),
      { description: 'images the boot check verifies; at most one without a path (the A/B image)', minItems: 1 },
    ),
    onFailure: choice(['refuse', 'fallback', 'report-only'] as const, { description: 'what a failed boot check does', default: 'refuse' }),
    expiryAtBoot: choice(['enforce', 'ignore'] as const, { description: 'whether expired metadata fails the boot check', default: 'ignore' }),
    clockToleranceSeconds: int({ description: 'how far behind the time floor the clock may be before CLOCK_BEHIND_FLOOR', default: 300, min: 0, max: 86400 }),
    update: section(
      {
        source: optional(str({ description: 'URL or directory of a published TUF repository' })),
        schedule: optional(cronField('cron expression for update checks')),
        jitterSeconds: int({ description: 'random delay added to each scheduled check', default: 300, min: 0, max: 86400 }),
        allowDowngrade: bool({ description: 'allow installing a lower version (never below the securityVersion floor)', default: false }),
        slots: optional(section({ a: str({ description: 'slot A file or block device', ...ABS }), b: str({ description: 'slot B file or block device', ...ABS }) }, { description: 'the A/B slots of the image without a path' })),
        bootSelector: exactlyOne({ file: str({ description: 'JSON file the bootloader reads', ...ABS }), commands: BOOT_COMMANDS }, { description: 'how the agent reads and arms the boot slot', describe: '{ file } or { commands: { print, set, setStyle } }' }),
        maxTries: int({ description: 'boots of a new slot that end neither in a commit nor a rollback (the bootloader counts them); a trial starts at most maxTries + 1 health windows (docs/health.md)', default: 1, min: 1, max: 10 }),
        health: section({ checks: list(section({ name: str({ description: 'check name reported on failure', ...id }), argv: strList({ description: 'argv run without a shell; exit 0 is healthy', ...ARGV }) }, { description: 'one health command' }), { description: 'commands that must exit 0 on a trial boot before it commits' }), units: strList({ description: 'systemd units that must be active (systemctl is-active UNIT)', default: [] }), runVia: strList({ description: 'argv prefix each check runs under, e.g. systemd-run --wait --pipe --collect --quiet (docs/health.md); empty: run directly', default: [] }), deadlineSeconds: int({ description: 'how long the health window of a trial boot may take in all; it runs before READY=1, so keep it below the unit\'s TimeoutStartSec (docs/health.md)', default: 60, min: 1, max: 3600 }), mode: choice(['agent', 'external'] as const, { description: "'agent': a passing health window commits; 'external': a verified trial (its checks passed) waits for edgeseal mark-good or mark-bad (docs/health.md)", default: 'agent' }) }, { description: 'health checks that gate the commit of a trial boot (docs/health.md)' }),
        rebootCommand: strList({ description: 'argv run without a shell after arming or falling back', default: ['systemctl', 'reboot'], ...ARGV }),
        reserveBytes: int({ description: 'free space an install must leave on a file slot\'s filesystem (partition slots: unused; the state dir needs only the journal)', default: 16 * 1024 ** 2, min: 0 }),
        maintenanceWindows: strList({ description: 'UTC windows for installs, e.g. "Mon-Fri 02:00-04:00"; empty: any time', default: [], check: windowsCheck }),
        // slow-retrieval bounds (docs/faults.md): a file's deadline is retrievalFloorSeconds plus its signed length (or size cap) at minBytesPerSecond
        minBytesPerSecond: int({ description: 'slowest transfer rate accepted for any metadata file or target (bytes/s)', default: DEFAULT_RETRIEVAL.minBytesPerSecond, min: 1 }),
        retrievalFloorSeconds: int({ description: 'slack added to every file deadline (connect, TLS, tiny files)', default: DEFAULT_RETRIEVAL.floorSeconds, min: 1, max: 3600 }),
        runBudgetSeconds: int({ description: 'longest one update or revocation refresh run may take', default: DEFAULT_RETRIEVAL.runBudgetSeconds, min: 1, max: 7 * 86400 }),
        // the update transport (docs/transport.md): metadata, targets and the revocation list alike
        tls: optional(
          section(
            {
              ca: optional(str({ description: 'CA certificate(s) (PEM) the update server certificate must chain to, instead of the system store', ...ABS })),
              cert: optional(str({ description: 'client certificate (PEM) for mutual TLS; needs update.tls.key', ...ABS })),
              key: optional(str({ description: 'client private key (PEM) for mutual TLS; needs update.tls.cert', ...ABS })),
            },
            { description: 'TLS to an https update source (private CA, mutual TLS)' },
          ),
        ),
        proxy: optional(str({ description: 'HTTP proxy for the update source (CONNECT for https); overrides HTTPS_PROXY/HTTP_PROXY', pattern: /^http:\/\/[^\s/]+\/?$/, describe: 'a URL like http://proxy.example:3128' })),
        noProxy: optional(strList({ description: 'hosts, domains (.example.com) or host:port reached without the proxy, or "*"; overrides NO_PROXY' })),
        maxBytesPerSecond: optional(int({ description: 'bandwidth cap over all update transfers (bytes/s); must not be below update.minBytesPerSecond', min: 1024 })),
      },
      { description: 'over-the-air updates' },
    ),
    revocation: section(
      {
        schedule: optional(cronField('cron expression for revocation list refreshes')),
        graceDays: int({ description: 'days past its expiry a revocation list is still used', default: DEFAULT_FRESHNESS_POLICY.graceDays, min: 0, max: 365 }),
        onExpired: section(
          {
            update: choice(ON_EXPIRED_UPDATE, { description: 'updates with an expired revocation list', default: DEFAULT_FRESHNESS_POLICY.onExpired.update }),
            boot: choice(ON_EXPIRED_BOOT, { description: 'boot checks with an expired revocation list', default: DEFAULT_FRESHNESS_POLICY.onExpired.boot }),
          },
          { description: 'what an expired revocation list does (docs/revocation.md)' },
        ),
        onNever: choice(ON_NEVER, { description: 'what a device that never fetched a list does', default: DEFAULT_FRESHNESS_POLICY.onNever }),
      },
      { description: 'revocation list freshness policy and refresh schedule' },
    ),
    telemetry: section(
      {
        broker: optional(str({ description: 'MQTT broker URL; unset: events wait in the outbox', pattern: /^(mqtts?|wss?):\/\/[^\s]+$/, describe: 'a URL like mqtt://host:1883 or mqtts://host:8883' })),
        prefix: str({ description: 'MQTT topic prefix', default: 'edgeseal', pattern: /^[^#+\s]+$/, describe: 'an MQTT topic prefix without wildcards' }),
        username: optional(str({ description: 'broker user name' })),
        password: optional(str({ description: 'broker password' })),
        ca: optional(str({ description: 'CA certificate (PEM) the broker certificate must chain to', ...ABS })),
        cert: optional(str({ description: 'client certificate (PEM) for mutual TLS; needs telemetry.key', ...ABS })),
        key: optional(str({ description: 'client private key (PEM) for mutual TLS; needs telemetry.cert', ...ABS })),
        metricsSchedule: cronField('cron expression for metrics reports', DEFAULT_METRICS_CRON),
        outboxMaxBytes: int({ description: 'outbox size before the drop policy discards events', default: DEFAULT_LIMITS.maxBytes, min: 64 * 1024 }),
        ack: choice(['broker', 'collector'] as const, { description: "who lets the outbox forget an event: the broker's PUBACK, or the collector's signed stored mark (docs/fleet/README.md)", default: 'broker' }),
        collectorKey: optional(str({ description: 'ed25519 public key (hex) that signs the collector ack marks; needs telemetry.ack "collector"', pattern: /^[0-9a-f]{64}$/, describe: '64 lowercase hex characters (the collector public key)' })),
      },
      { description: 'signed fleet telemetry (docs/telemetry.md)' },
    ),
    logLevel: choice(['error', 'warn', 'info', 'debug'] as const, { description: 'log verbosity', default: 'info' }),
    logFormat: optional(choice(['text', 'json', 'journal'] as const, { description: "log line format; unset: 'journal' under systemd (JOURNAL_STREAM), 'text' on a terminal, else 'json'" })),
  },
  { description: 'edgeseal agent configuration' },
);

export type AgentConfig = SectionOf<typeof AGENT_CONFIG.fields>;
export type ImageConfig = AgentConfig['images'][number];
export type OnFailure = AgentConfig['onFailure'];
export type BootSelectorConfig = NonNullable<AgentConfig['update']['bootSelector']>;

// The draft 2020-12 JSON Schema of the config (`edgeseal config schema`). Cross-field rules (A/B image
// needs slots and a boot selector, cert needs key, …) are parseConfig's and named in descriptions.
export function configJsonSchema(): JsonSchema {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'edgeseal agent config', ...AGENT_CONFIG.schema };
}

// Rules between fields, which no single field definition can state.
function crossFieldProblems(config: AgentConfig, p: Problems): void {
  if (config.tpm.device && config.tpm.swtpm) p.add('tpm: expected either tpm.device or tpm.swtpm, found both');
  if ((config.telemetry.ack === 'collector') !== (config.telemetry.collectorKey !== undefined)) p.add('telemetry.ack/telemetry.collectorKey: expected collectorKey exactly when ack is "collector"');
  if (Boolean(config.telemetry.cert) !== Boolean(config.telemetry.key)) p.add('telemetry.cert/telemetry.key: expected both (mutual TLS) or neither');
  if (Boolean(config.update.tls?.cert) !== Boolean(config.update.tls?.key)) p.add('update.tls.cert/update.tls.key: expected both (mutual TLS) or neither');
  const { maxBytesPerSecond: cap, minBytesPerSecond: floor } = config.update;
  // a cap below the slow-retrieval floor would make every large transfer fail as SLOW_RETRIEVAL
  if (cap !== undefined && cap < floor) p.add(`update.maxBytesPerSecond: expected at least update.minBytesPerSecond (${floor}), found ${cap}`);
  const slotted = config.images.filter((i) => i.path === undefined);
  if (slotted.length > 1) p.add(`images: expected at most one image without a path (the A/B image), found ${slotted.length}`);
  if (slotted.length > 0 && (!config.update.slots || !config.update.bootSelector)) {
    p.add('update.slots/update.bootSelector: expected both for the A/B image (the image without a path), found them missing');
  }
  if (config.onFailure === 'fallback' && slotted.length === 0) p.add('onFailure: fallback needs an A/B image (update.slots), found none');
}

// Validates raw JSON into an AgentConfig, reporting every bad field at once as CONFIG_INVALID.
export function parseConfig(raw: unknown, origin = 'config'): AgentConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new EdgesealError('CONFIG_INVALID', `${origin}: expected a JSON object, found ${JSON.stringify(raw)}`);
  }
  const p = new Problems();
  const config = AGENT_CONFIG.read(raw, '', p);
  if (!p.full) crossFieldProblems(config, p);
  if (p.count) throw new EdgesealError('CONFIG_INVALID', `${origin} has ${p.summary()}`);
  return config;
}
