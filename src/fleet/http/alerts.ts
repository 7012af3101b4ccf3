// The alerts of docs/fleet/alerts.yml, as the dashboard lists them with their runbooks
// (test/fleet/alerts.test.ts keeps the two in step).
export interface AlertInfo {
  alert: string;
  summary: string;
  runbook: string; // served by the collector at this path, from docs/runbooks/
}

const rb = (name: string): string => `/runbooks/${name}.md`;

export const ALERTS: readonly AlertInfo[] = [
  { alert: 'EdgesealSignatureFailures', summary: 'events with a bad signature arrived', runbook: rb('signature-failures') },
  { alert: 'EdgesealKeyRotationStuck', summary: 'devices not on the newest root after 24 h', runbook: rb('key-rotation-stuck') },
  { alert: 'EdgesealRevocationStale', summary: 'a device revocation list is older than 7 days', runbook: rb('revocation-stale') },
  { alert: 'EdgesealAuditGaps', summary: 'sequence numbers missing from the audit trail', runbook: rb('audit-gaps') },
  { alert: 'EdgesealDeviceOffline', summary: 'devices report offline (unauthenticated status)', runbook: rb('device-offline') },
  { alert: 'EdgesealRollbackStorm', summary: 'many rollbacks in one hour', runbook: rb('rollback-storm') },
  { alert: 'EdgesealRolloutFailing', summary: 'a rollout is over its failure threshold and not halted', runbook: rb('rollout-failing') },
];
