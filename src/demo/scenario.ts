import { fileURLToPath } from 'node:url';

// The update scenario the first-run demo walks through: board-a firmware v1.0.0 (factory, slot A) and
// v1.1.0 (a higher securityVersion) in repos/update; repos/update-tampered is the next release (targets v2
// adds v1.2.0) served by a mirror that altered v1.1.0's and v1.2.0's bytes. firmware-fixtures/update-scenario.ts
// generates the repos from these names; the demo needs only `demo`'s, so the packages ship only them.

const NAME = (v: string): string => `fw/board-a/firmware-${v}.bin`;

export const UPDATE_SCENARIO = {
  repo: 'repos/update',
  tampered: 'repos/update-tampered',
  // the demo's own run of the same scenario, with a signed revocation list from the start; `revoked` is
  // the next publish after `tampered`: the genuine v1.2.0, revoked by digest (IMAGE_REVOKED)
  demo: { repo: 'repos/demo', tampered: 'repos/demo-tampered', revoked: 'repos/demo-revoked' },
  hardwareId: 'board-a',
  v1: { target: NAME('1.0.0'), version: '1.0.0', securityVersion: 1 },
  v2: { target: NAME('1.1.0'), version: '1.1.0', securityVersion: 2 },
  v3: { target: NAME('1.2.0'), version: '1.2.0', securityVersion: 3 },
} as const;

// firmware-fixtures/out at the package root (from dist/src/demo/), in the checkout and in both packages.
export const DEMO_FIXTURES = fileURLToPath(new URL('../../../firmware-fixtures/out', import.meta.url));
