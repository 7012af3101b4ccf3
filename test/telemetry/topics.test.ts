import { expect } from 'chai';
import { deviceTopics, fleetFilter } from '../../src/telemetry/topics.js';
import { backoffDelay } from '../../src/telemetry/backoff.js';
import { classifyBrokerError, parseBrokerUrl } from '../../src/telemetry/broker-error.js';
import { expectCode } from '../helpers/expect-code.js';

describe('telemetry topics', () => {
  it('puts every channel under <prefix>/<fleet>/<deviceId>', () => {
    expect(deviceTopics({ prefix: 'acme/edge', fleet: 'lab', deviceId: 'd-1' })).to.deep.equal({
      status: 'acme/edge/lab/d-1/status', event: 'acme/edge/lab/d-1/event', metrics: 'acme/edge/lab/d-1/metrics', cmd: 'acme/edge/lab/d-1/cmd', ack: 'acme/edge/lab/d-1/ack',
    });
    expect(fleetFilter('edgeseal', 'lab')).to.equal('edgeseal/lab/+/+');
    expect(fleetFilter('edgeseal', 'lab', 'd-1')).to.equal('edgeseal/lab/d-1/+');
  });

  it('refuses wildcards and separators that would widen the topic', () => {
    expectCode(() => deviceTopics({ prefix: 'edgeseal/#', fleet: 'lab', deviceId: 'd' }), 'CONFIG_INVALID');
    expectCode(() => deviceTopics({ prefix: 'edgeseal', fleet: 'l/ab', deviceId: 'd' }), 'CONFIG_INVALID');
    expectCode(() => deviceTopics({ prefix: 'edgeseal', fleet: 'lab', deviceId: '+' }), 'CONFIG_INVALID');
    expectCode(() => fleetFilter('edgeseal', 'lab', '#'), 'USAGE');
  });
});

describe('reconnect backoff', () => {
  it('doubles the window up to the cap, with half of it jittered', () => {
    const p = { baseMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, p, () => 0))).to.deep.equal([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, p, () => 1))).to.deep.equal([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(2000, p, () => 0.5)).to.equal(750);
  });
});

describe('broker errors', () => {
  it('rejects URLs that are not MQTT brokers as CONFIG_INVALID', () => {
    for (const bad of ['localhost:1883', 'http://broker', 'mqtt://', '']) expectCode(() => parseBrokerUrl(bad), 'CONFIG_INVALID');
    expect(parseBrokerUrl('mqtts://broker.example:8883').port).to.equal('8883');
  });

  it('maps CONNACK refusals to BROKER_REJECTED and socket failures to BROKER_UNREACHABLE, hiding URL credentials', () => {
    const rejected = classifyBrokerError(Object.assign(new Error('Connection refused: Not authorized'), { code: 5 }), 'mqtt://u:secret@h:1');
    expect(rejected.code).to.equal('BROKER_REJECTED');
    expect(rejected.message).to.not.contain('secret');
    expect(classifyBrokerError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'mqtt://h:1').code).to.equal('BROKER_UNREACHABLE');
    expect(classifyBrokerError(Object.assign(new Error('self-signed'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'mqtts://h:1').message).to.match(/^TLS handshake/);
  });
});
