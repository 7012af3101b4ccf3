import { expect } from 'chai';
import { parseEnrollment, parseEnrollmentLines } from '../../src/fleet/enrollment.js';
import { importOptional } from '../../src/fleet/optional-import.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';
import { simDevice } from './fleet-fixtures.js';

describe('fleet enrolment records', () => {
  const d = simDevice(1);
  const rec = { deviceId: d.enrollment.deviceId, hardwareId: 'hw-a', reportPublicKey: d.enrollment.publicKey, reportKeyId: d.enrollment.keyId };

  it('takes the fleet from --fleet or the record, and derives the keyid', () => {
    expect(parseEnrollment(rec, 'f1', 'x')).to.deep.equal(d.enrollment);
    expect(parseEnrollment({ ...rec, fleet: 'f1' }, undefined, 'x')).to.deep.equal(d.enrollment);
  });

  it('refuses every bad field at once, and a record of another fleet than --fleet', () => {
    const e = expectCode(() => parseEnrollment({ deviceId: 'a/b', hardwareId: '+', reportPublicKey: 'zz' }, undefined, 'x'), 'CONFIG_INVALID');
    expect(e.message).to.include('fleet:').and.include('deviceId:').and.include('hardwareId:').and.include('reportPublicKey:');
    expectCode(() => parseEnrollment({ ...rec, fleet: 'f2' }, 'f1', 'x'), 'CONFIG_INVALID');
  });

  it('names the line of a bad JSON line', () => {
    const e = expectCode(() => parseEnrollmentLines(`${JSON.stringify(rec)}\n\n{oops\n`, 'f1', 'stdin'), 'CONFIG_INVALID');
    expect(e.message).to.match(/^stdin line 3:/);
  });

  it('names the npm package to install when an optional fleet dependency is missing', async () => {
    const name = 'edgeseal-no-such-package';
    const e = await expectCodeAsync(() => importOptional(name, 'fleet store', () => import(name)), 'DEPENDENCY_MISSING');
    expect(e.message).to.include(`npm install ${name}`);
  });
});
