import { EdgesealError } from '../core/errors.js';
import { readEnrollments } from '../fleet/enroll-input.js';
import { reverifyRejected } from '../fleet/ingest.js';
import { openFleetStore } from '../fleet/open-store.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';

const NAME = 'fleet enroll';

// Registers device report keys (what `provision` wrote) in the fleet registry, then verifies again
// the events that were rejected because the device was not enrolled yet.
export const fleetEnrollCommand: Command = {
  name: NAME,
  usage: [
    'fleet enroll --db PATH|URL [--fleet F] [DEVICE.json|DIR|-]...',
    'fleet enroll --db PATH|URL --fleet F --decommission DEVICE_ID',
    '',
    '  --db            SQLite file (created if absent) or postgresql://… URL',
    '  --fleet         fleet of the devices (required unless every record names its fleet)',
    '  --decommission  refuse this device\'s events from now on (re-enrolling reactivates it)',
    '  A device enrolled again with a new key (re-provisioned) keeps its old key in its history.',
  ].join('\n'),
  async run(argv, io) {
    const { values: v, positionals } = parseCommandArgs(NAME, argv, { db: { type: 'string' }, fleet: { type: 'string' }, decommission: { type: 'string' } }, true);
    const store = await openFleetStore(required(NAME, 'db', v.db));
    try {
      const now = new Date();
      if (v.decommission !== undefined) {
        const fleet = required(NAME, 'fleet', v.fleet);
        if (!(await store.device(fleet, v.decommission))) throw new EdgesealError('DEVICE_UNKNOWN', `${NAME}: expected an enrolled device ${fleet}/${v.decommission}, found none`);
        const changed = await store.decommission(fleet, v.decommission, now);
        io.out(`${fleet}/${v.decommission}: ${changed ? 'decommissioned' : 'already decommissioned'}`);
        return EXIT.OK;
      }
      const enrollments = await readEnrollments(positionals, v.fleet, process.stdin);
      if (enrollments.length === 0) throw new EdgesealError('USAGE', `${NAME}: expected at least one device record, found none`);
      for (const e of enrollments) io.out(`${e.fleet}/${e.deviceId}: ${await store.enroll(e, now)} (keyid ${e.keyId.slice(0, 12)})`);
      for (const fleet of new Set(enrollments.map((e) => e.fleet))) {
        const r = await reverifyRejected(store, { fleet });
        if (r.verified + r.stillRejected > 0) io.out(`${fleet}: re-verified events of unknown devices: ${r.verified} now verified, ${r.stillRejected} still rejected`);
      }
      return EXIT.OK;
    } finally {
      await store.close();
    }
  },
};
