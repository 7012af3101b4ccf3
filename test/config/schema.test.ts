import { expect } from 'chai';
import { parseConfig } from '../../src/config/schema.js';
import { DEFAULT_FRESHNESS_POLICY } from '../../src/revocation/policy.js';
import { expectCode } from '../helpers/expect-code.js';

const minimal = {
  deviceId: 'dev-1',
  hardwareId: 'board-a',
  images: [{ target: 'firmware/board-a.bin', path: '/var/lib/edgeseal/slots/a/fw.bin', kind: 'firmware' }],
};

describe('config schema', () => {
  it('fills safe defaults around a minimal config', () => {
    const c = parseConfig(minimal);
    expect(c.onFailure).to.equal('refuse');
    expect(c.expiryAtBoot).to.equal('ignore');
    expect(c.tpm.measurePcr).to.equal(6);
    expect(c.tpm.ownerAuthFile).to.equal(undefined);
    expect(parseConfig({ ...minimal, tpm: { ownerAuthFile: '/etc/edgeseal/owner.pass' } }).tpm.ownerAuthFile).to.equal('/etc/edgeseal/owner.pass');
    expect(c.telemetry.prefix).to.equal('edgeseal');
    expect(c.stateDir).to.equal('/var/lib/edgeseal');
  });

  it('reports every bad field at once, with its path and what was expected', () => {
    const err = expectCode(
      () =>
        parseConfig({
          deviceId: 'has space',
          hardwareId: 7,
          images: [{ target: '', path: 'relative', kind: 'bios' }],
          onFailure: 'explode',
          tpm: { measurePcr: 99, swtpm: 'nope', ownerAuthFile: 'owner.pass' },
          telemetry: { broker: 'http://x', cert: '/c.pem' },
        }),
      'CONFIG_INVALID',
    );
    for (const path of ['deviceId', 'hardwareId', 'images.0.target', 'images.0.path', 'images.0.kind', 'onFailure', 'tpm.measurePcr', 'tpm.swtpm', 'tpm.ownerAuthFile', 'telemetry.broker', 'telemetry.cert/telemetry.key']) {
      expect(err.message).to.contain(`${path}:`);
    }
    expect(err.message).to.contain('11 invalid field(s)');
  });

  it('revocation: the freshness policy defaults come from the library, overrides are validated', () => {
    expect(parseConfig(minimal).revocation).to.deep.equal(DEFAULT_FRESHNESS_POLICY);
    const c = parseConfig({ ...minimal, revocation: { graceDays: 3, onExpired: { update: 'allow-with-warning', boot: 'block' }, onNever: 'require' } });
    expect(c.revocation).to.include({ graceDays: 3, onNever: 'require' });
    expect(c.revocation.onExpired).to.deep.equal({ update: 'allow-with-warning', boot: 'block' });
    const err = expectCode(() => parseConfig({ ...minimal, revocation: { graceDays: -1, onExpired: { update: 'continue', boot: 'brick' }, onNever: 'maybe' } }), 'CONFIG_INVALID');
    for (const path of ['revocation.graceDays', 'revocation.onExpired.update', 'revocation.onExpired.boot', 'revocation.onNever']) expect(err.message).to.contain(`${path}:`);
    expect(err.message).to.contain('4 invalid field(s)');
  });

  it('update transport: tls paths, proxy URL and bandwidth cap are checked, each with its path', () => {
    const tls = { ca: '/etc/edgeseal/ca.pem', cert: '/etc/edgeseal/d.pem', key: '/etc/edgeseal/d.key' };
    const c = parseConfig({ ...minimal, update: { tls, proxy: 'http://user:pw@proxy.example:3128', noProxy: ['.lan'], maxBytesPerSecond: 65536 } });
    expect(c.update).to.deep.include({ tls, proxy: 'http://user:pw@proxy.example:3128', noProxy: ['.lan'], maxBytesPerSecond: 65536 });
    const err = expectCode(() => parseConfig({ ...minimal, update: { tls: { ca: 'ca.pem', cert: '/d.pem' }, proxy: 'https://proxy:443', maxBytesPerSecond: 2000, minBytesPerSecond: 4096 } }), 'CONFIG_INVALID');
    for (const path of ['update.tls.ca', 'update.tls.cert/update.tls.key', 'update.proxy', 'update.maxBytesPerSecond']) expect(err.message).to.contain(`${path}:`);
    expect(err.message).to.contain('expected at least update.minBytesPerSecond (4096), found 2000');
  });

  it('update.bootSelector: a file, or the bootloader env commands with every bad field reported', () => {
    const ab = { ...minimal, images: [{ target: 'fw/a.bin', kind: 'firmware' }], update: { slots: { a: '/dev/p2', b: '/dev/p3' } } };
    const grub = { print: ['grub-editenv', '/boot/grub/grubenv', 'list'], set: ['grub-editenv', '/boot/grub/grubenv', 'set'], setStyle: 'assign', vars: { active: 'booted' }, cmdline: { path: '/proc/cmdline', key: 'edgeseal.slot' }, timeoutMs: 5000 };
    expect(parseConfig({ ...ab, update: { ...ab.update, bootSelector: { commands: grub } } }).update.bootSelector).to.deep.equal({ commands: grub });
    expect(parseConfig({ ...ab, update: { ...ab.update, bootSelector: { file: '/b.json' } } }).update.bootSelector).to.deep.equal({ file: '/b.json' });
    const bad = { print: [], set: 'fw_setenv', setStyle: 'shell', vars: { good: 'has space' }, cmdline: { path: 'proc/cmdline' }, timeoutMs: 0 };
    const err = expectCode(() => parseConfig({ ...ab, clockToleranceSeconds: -1, update: { ...ab.update, bootSelector: { commands: bad } } }), 'CONFIG_INVALID');
    const c = 'update.bootSelector.commands';
    for (const path of ['clockToleranceSeconds', `${c}.print`, `${c}.set`, `${c}.setStyle`, `${c}.vars.good`, `${c}.cmdline.path`, `${c}.cmdline.key`, `${c}.timeoutMs`]) expect(err.message).to.contain(`${path}:`);
    expect(err.message).to.contain('8 invalid field(s)');
    const both = expectCode(() => parseConfig({ ...ab, update: { ...ab.update, bootSelector: { file: '/b.json', commands: grub } } }), 'CONFIG_INVALID');
    expect(both.message).to.contain('update.bootSelector: expected exactly one of');
  });

  it('rejects what is not an object', () => {
    expectCode(() => parseConfig([]), 'CONFIG_INVALID');
    expectCode(() => parseConfig(null), 'CONFIG_INVALID');
  });

  it('takes the A/B image from update.slots when it has no path, and checks what that needs', () => {
    const ab = { ...minimal, images: [{ target: 'fw/a.bin', kind: 'firmware' }], update: { slots: { a: '/dev/p2', b: '/dev/p3' }, bootSelector: { file: '/var/lib/edgeseal/boot.json' } } };
    const c = parseConfig({ ...ab, onFailure: 'fallback' });
    expect(c.images[0].path).to.equal(undefined);
    expect(c.update.rebootCommand).to.deep.equal(['systemctl', 'reboot']);
    const err = expectCode(
      () =>
        parseConfig({
          ...minimal,
          images: [{ target: 'fw/a.bin', kind: 'firmware' }, { target: 'fw/b.bin', kind: 'os' }],
          update: { rebootCommand: [], schedule: 'every day', maintenanceWindows: ['Mon-Fri 2am'] },
        }),
      'CONFIG_INVALID',
    );
    for (const path of ['images:', 'update.slots/update.bootSelector:', 'update.rebootCommand:', 'update.schedule:', 'update.maintenanceWindows:']) expect(err.message).to.contain(path);
    expect(expectCode(() => parseConfig({ ...minimal, onFailure: 'fallback' }), 'CONFIG_INVALID').message).to.contain('onFailure: fallback needs an A/B image');
  });

  // issue 10 finding 9: wrong-typed sections were replaced by defaults, unknown keys passed
  it('refuses a section that is not an object, naming it', () => {
    for (const section of ['tpm', 'update', 'revocation', 'revocation.onExpired', 'telemetry']) {
      for (const value of [12345, 'x', [], null]) {
        const [outer, inner] = section.split('.');
        const doc = inner ? { ...minimal, [outer]: { [inner]: value } } : { ...minimal, [outer]: value };
        expect(expectCode(() => parseConfig(doc), 'CONFIG_INVALID').message, `${section} = ${JSON.stringify(value)}`).to.contain(`- ${section}: expected an object`);
      }
    }
  });

  it('refuses unknown keys with a did-you-mean', () => {
    const err = expectCode(() => parseConfig({ ...minimal, onFailur: 'refuse', updates: {}, telemetry: { caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' }, measurePcr: 23 }), 'CONFIG_INVALID');
    for (const line of ['onFailur: unknown key; did you mean onFailure?', 'updates: unknown key; did you mean update?', 'telemetry.caFile: unknown key; did you mean telemetry.ca?', 'telemetry.certFile: unknown key; did you mean telemetry.cert?', 'telemetry.keyFile: unknown key; did you mean telemetry.key?', 'measurePcr: unknown key; did you mean tpm.measurePcr?']) {
      expect(err.message).to.contain(line);
    }
  });

  // issue 10 part I: a 1 MiB config with half a million bad entries printed 73 MB
  it('caps the problems reported at once, and what each quotes', () => {
    const junk = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    const err = expectCode(() => parseConfig({ ...minimal, ...junk, images: Array.from({ length: 400_000 }, () => 1), tpm: 'y'.repeat(500_000) }), 'CONFIG_INVALID');
    expect(err.message.split('\n').length).to.be.at.most(52);
    expect(err.message.length).to.be.below(10_000);
    expect(err.message).to.contain('at least 50 invalid fields');
  });
});
