import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { extendPcr, formatEvent, logLines, replayEventLog, type MeasurementEvent } from '../../src/trust/event-log.js';
import { expectCode } from '../helpers/expect-code.js';

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('measurement event log', () => {
  const events: MeasurementEvent[] = [
    { pcr: 23, digest: hex('firmware'), image: 'fw.bin', version: '1.0.0', time: '2026-01-01T00:00:00.000Z' },
    { pcr: 23, digest: hex('os'), image: 'os.img', version: '2.1.0', time: '2026-01-01T00:00:01.000Z' },
    { pcr: 16, digest: hex('other'), image: 'x', version: '0.0.1', time: '2026-01-01T00:00:02.000Z' },
    { pcr: 23, digest: hex('app'), image: 'app.tar', version: '0.3.0', time: '2026-01-01T00:00:03.000Z' },
  ];
  const lines = events.map(formatEvent);
  // the PCR a TPM would hold, computed independently of replayEventLog
  const pcr23 = [hex('firmware'), hex('os'), hex('app')].reduce<Buffer>(
    (acc, d) => createHash('sha256').update(acc).update(Buffer.from(d, 'hex')).digest(),
    Buffer.alloc(32),
  );

  it('replays the PCR from 32 zero bytes and returns the events', () => {
    expect(replayEventLog(lines, pcr23, 23)).to.deep.equal(events);
    expect(Buffer.from(extendPcr(new Uint8Array(32), Buffer.from(hex('a'), 'hex'))).toString('hex')).to.equal(
      createHash('sha256').update(Buffer.concat([Buffer.alloc(32), Buffer.from(hex('a'), 'hex')])).digest('hex'),
    );
  });

  it('detects a forged digest, a missing line and a reordered log', () => {
    const forged = [...lines];
    forged[1] = formatEvent({ ...events[1], digest: hex('evil os') });
    expectCode(() => replayEventLog(forged, pcr23, 23), 'EVENT_LOG_MISMATCH');
    expectCode(() => replayEventLog([lines[0], lines[2], lines[3]], pcr23, 23), 'EVENT_LOG_MISMATCH');
    expectCode(() => replayEventLog([lines[1], lines[0], lines[2], lines[3]], pcr23, 23), 'EVENT_LOG_MISMATCH');
    expectCode(() => replayEventLog(lines, new Uint8Array(32), 23), 'EVENT_LOG_MISMATCH');
  });

  it('treats malformed lines as tampering', () => {
    for (const bad of ['not json', '{"pcr":23}', JSON.stringify({ ...events[0], pcr: 24 }), JSON.stringify({ ...events[0], digest: 'ABC' }), 'null']) {
      expectCode(() => replayEventLog([...lines, bad], pcr23, 23), 'EVENT_LOG_MISMATCH');
    }
  });

  it('splits log text without inventing an empty last line', () => {
    expect(logLines(`${lines[0]}\n${lines[1]}\n`)).to.deep.equal([lines[0], lines[1]]);
    expect(logLines('')).to.deep.equal([]);
  });
});
