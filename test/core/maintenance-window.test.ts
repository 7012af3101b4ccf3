import { expect } from 'chai';
import { describeWindow, inMaintenanceWindow, parseMaintenanceWindows } from '../../src/core/maintenance-window.js';
import { expectCode } from '../helpers/expect-code.js';

const at = (iso: string): Date => new Date(iso);

describe('maintenance windows', () => {
  it('parses daily and day-restricted windows', () => {
    const [daily, weekdays, weekend, wrapWeek] = parseMaintenanceWindows(['01:30-02:00', 'Mon-Fri 02:00-04:00', 'sat,SUN 00:00-24:00', 'Fri-Mon 10:00-11:00']);
    expect(daily).to.deep.equal({ days: [0, 1, 2, 3, 4, 5, 6], startMinute: 90, endMinute: 120 });
    expect(weekdays?.days).to.deep.equal([1, 2, 3, 4, 5]);
    expect(weekend).to.deep.equal({ days: [0, 6], startMinute: 0, endMinute: 1440 });
    expect(wrapWeek?.days).to.deep.equal([0, 1, 5, 6]);
  });

  it('reports every bad spec at once as CONFIG_INVALID', () => {
    const err = expectCode(() => parseMaintenanceWindows(['2-4', 'Moo 01:00-02:00', '25:00-26:00', '03:00-03:00', '24:00-01:00', '01:60-02:00', 'Mon-Tue-Wed 01:00-02:00', '01:00-02:00']), 'CONFIG_INVALID');
    for (const bad of ['"2-4"', '"Moo 01:00-02:00"', '"25:00-26:00"', '"03:00-03:00"', '"24:00-01:00"', '"01:60-02:00"', '"Mon-Tue-Wed 01:00-02:00"']) {
      expect(err.message).to.contain(bad);
    }
    expect(err.message).not.to.contain('"01:00-02:00"');
  });

  it('allows any time when no window is configured', () => {
    expect(inMaintenanceWindow([], at('2026-03-04T12:34:56Z'))).to.be.true;
  });

  it('treats the start as inclusive and the end as exclusive', () => {
    const w = parseMaintenanceWindows(['02:00-04:00']);
    expect(inMaintenanceWindow(w, at('2026-03-04T01:59:59Z'))).to.be.false;
    expect(inMaintenanceWindow(w, at('2026-03-04T02:00:00Z'))).to.be.true;
    expect(inMaintenanceWindow(w, at('2026-03-04T03:59:59Z'))).to.be.true;
    expect(inMaintenanceWindow(w, at('2026-03-04T04:00:00Z'))).to.be.false;
  });

  it('runs a window past midnight and credits it to the day it starts on', () => {
    const w = parseMaintenanceWindows(['Fri 22:00-02:00']);
    expect(inMaintenanceWindow(w, at('2026-03-06T23:00:00Z'))).to.be.true; // Friday night
    expect(inMaintenanceWindow(w, at('2026-03-07T01:00:00Z'))).to.be.true; // early Saturday, Friday's window
    expect(inMaintenanceWindow(w, at('2026-03-07T02:00:00Z'))).to.be.false;
    expect(inMaintenanceWindow(w, at('2026-03-06T01:00:00Z'))).to.be.false; // early Friday belongs to Thursday
    expect(inMaintenanceWindow(w, at('2026-03-05T23:00:00Z'))).to.be.false; // Thursday night
  });

  it('matches when any one of several windows is open', () => {
    const w = parseMaintenanceWindows(['Mon 01:00-02:00', 'Wed 03:00-04:00']);
    expect(inMaintenanceWindow(w, at('2026-03-04T03:30:00Z'))).to.be.true;
    expect(inMaintenanceWindow(w, at('2026-03-04T01:30:00Z'))).to.be.false;
  });

  it('describes windows for people', () => {
    const [daily, some] = parseMaintenanceWindows(['00:05-24:00', 'Sat,Sun 22:00-02:00']);
    expect(describeWindow(daily)).to.equal('daily 00:05-24:00 UTC');
    expect(describeWindow(some)).to.equal('sun,sat 22:00-02:00 UTC');
  });
});
