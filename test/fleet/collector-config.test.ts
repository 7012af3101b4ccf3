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

  it('binds HTTP to loopback by default and elsewhere only with TLS and a bearer token', () => {
    expect(parseCollectorConfig(minimal, 'x', {}).http).to.deep.include({ host: '127.0.0.1', port: 9477 });
    const e = expectCode(() => parseCollectorConfig({ ...minimal, http: { host: '0.0.0.0' } }, 'x', {}), 'CONFIG_INVALID');
    expect(e.message).to.include('expected loopback, or TLS (http.tlsCert, http.tlsKey) and a bearer token (http.tokenFile)');
    expectCode(() => parseCollectorConfig({ ...minimal, http: { host: '0.0.0.0', tlsCert: '/c.pem', tlsKey: '/k.pem' } }, 'x', {}), 'CONFIG_INVALID');
    expect(parseCollectorConfig({ ...minimal, http: { host: '0.0.0.0', tlsCert: '/c.pem', tlsKey: '/k.pem', tokenFile: '/t' } }, 'x', {}).http.host).to.equal('0.0.0.0');
  });

  it('reads the rollouts section with its defaults, the halt only with a workdir and a key, and names bad fields', () => {
    expect(parseCollectorConfig(minimal, 'x', {}).rollouts).to.equal(undefined);
    const view = parseCollectorConfig({ ...minimal, rollouts: { repository: '/srv/repo', trustedRoot: '/etc/root.json' } }, 'x', {}).rollouts;
    expect(view).to.deep.equal({ repository: '/srv/repo', trustedRoot: '/etc/root.json', checkSeconds: 60, failureThresholdPercent: 20, minSample: 10 });
    const halt = parseCollectorConfig({ ...minimal, rollouts: { repository: '/srv/repo', trustedRoot: '/etc/root.json', halt: { workdir: '/w', key: '/k.json' } } }, 'x', {}).rollouts;
    expect(halt?.halt).to.deep.equal({ workdir: '/w', key: '/k.json' });
    const e = expectCode(() => parseCollectorConfig({ ...minimal, rollouts: { repository: 'rel', failureThresholdPercent: 0, minSample: 0, halt: { workdir: '/w' }, treshold: 5 } }, 'x', {}), 'CONFIG_INVALID');
    for (const field of ['rollouts.repository:', 'rollouts.trustedRoot:', 'rollouts.failureThresholdPercent:', 'rollouts.minSample:', 'rollouts.halt.key:', 'rollouts.treshold']) expect(e.message).to.include(field);
  });
});
