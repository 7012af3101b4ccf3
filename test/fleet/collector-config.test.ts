import { expect } from 'chai';
import { parseCollectorConfig } from '../../src/fleet/collector/config.js';
import { expectCode } from '../helpers/expect-code.js';

describe('fleet.json (collector config)', () => {
  const minimal = { db: '/var/lib/edgeseal/fleet.db', broker: { url: 'mqtts://broker:8883' }, fleets: ['plant-a'], collectorKey: '/etc/edgeseal/collector.key' };

  it('fills a persistent-session default and takes the broker password from the environment only', () => {
    const c = parseCollectorConfig(minimal, 'fleet.json', { EDGESEAL_BROKER_PASSWORD: 's3cret' });
    expect(c).to.deep.include({ clientId: 'edgeseal-collector', sessionExpirySeconds: 604_800, prefix: 'edgeseal', retention: { maxAgeSeconds: undefined, maxEvents: undefined } });
    expect(c.broker.password).to.equal('s3cret');
    expect(parseCollectorConfig({ ...minimal, retention: { maxAgeDays: 30, maxEvents: 1000 } }, 'x', {}).retention).to.deep.equal({ maxAgeSeconds: 2_592_000, maxEvents: 1000 });
  });

  it('reports every bad field at once, including a session that would expire at disconnect', () => {
    const e = expectCode(() => parseCollectorConfig({ db: '', broker: { url: 'http://x' }, fleets: ['a/b'], collectorKey: 'rel', sessionExpirySeconds: 0 }, 'fleet.json', {}), 'CONFIG_INVALID');
    for (const field of ['db:', 'broker.url:', 'fleets.0:', 'collectorKey:', 'sessionExpirySeconds:']) expect(e.message).to.include(field);
  });
});
