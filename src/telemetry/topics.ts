import { EdgesealError } from '../core/errors.js';
import { isValidId } from './event.js';

export interface TopicScope {
  prefix: string;
  fleet: string;
  deviceId: string;
}

export interface DeviceTopics {
  status: string; // retained online/offline, last-will offline
  event: string;
  metrics: string;
  cmd: string; // nudges in; never trusted
  ack: string; // the collector's signed ack mark (retained), read in telemetry.ack "collector" mode
}

export const DEFAULT_PREFIX = 'edgeseal';

// Topic prefix: one or more levels of [A-Za-z0-9._-]; wildcards would let a device publish fleet-wide.
export function assertPrefix(prefix: string): void {
  if (!prefix.split('/').every(isValidId)) {
    throw new EdgesealError('CONFIG_INVALID', `telemetry prefix: expected levels of [A-Za-z0-9._-] joined by '/', found ${JSON.stringify(prefix)}`);
  }
}

export function deviceTopics(scope: TopicScope): DeviceTopics {
  assertPrefix(scope.prefix);
  for (const [k, v] of [['fleet', scope.fleet], ['deviceId', scope.deviceId]] as const) {
    if (!isValidId(v)) throw new EdgesealError('CONFIG_INVALID', `telemetry ${k}: expected [A-Za-z0-9._-]{1,128}, found ${JSON.stringify(v)}`);
  }
  const base = `${scope.prefix}/${scope.fleet}/${scope.deviceId}`;
  return { status: `${base}/status`, event: `${base}/event`, metrics: `${base}/metrics`, cmd: `${base}/cmd`, ack: `${base}/ack` };
}

// Subscription filter for a fleet watcher: every device, or one device, all channels.
export function fleetFilter(prefix: string, fleet: string, deviceId?: string): string {
  assertPrefix(prefix);
  if (!isValidId(fleet)) throw new EdgesealError('USAGE', `fleet: expected [A-Za-z0-9._-]{1,128}, found ${JSON.stringify(fleet)}`);
  if (deviceId !== undefined && !isValidId(deviceId)) throw new EdgesealError('USAGE', `device: expected [A-Za-z0-9._-]{1,128}, found ${JSON.stringify(deviceId)}`);
  return `${prefix}/${fleet}/${deviceId ?? '+'}/+`;
}
