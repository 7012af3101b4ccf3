import { expect } from 'chai';
import { bypassesProxy, proxyFor, proxySettings } from '../../src/net/proxy.js';
import { expectCode } from '../helpers/expect-code.js';

describe('net/proxy (which proxy a request uses)', () => {
  const u = (s: string): URL => new URL(s);

  it('takes HTTPS_PROXY for https and HTTP_PROXY for http; lower case wins, as in curl', () => {
    const s = proxySettings({}, { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2', HTTP_PROXY: 'plain:3' });
    expect(proxyFor(u('https://repo.example/x'), s)?.host).to.equal('lower:2');
    expect(proxyFor(u('http://repo.example/x'), s)?.href).to.equal('http://plain:3/');
    expect(proxyFor(u('https://repo.example/x'), proxySettings({}, {}))).to.equal(undefined);
  });

  it('update.proxy and update.noProxy override the environment', () => {
    const env = { HTTPS_PROXY: 'http://env:1', NO_PROXY: 'repo.example' };
    expect(proxyFor(u('https://repo.example/x'), proxySettings({}, env))).to.equal(undefined);
    const s = proxySettings({ proxy: 'http://cfg:3128', noProxy: [] }, env);
    expect(proxyFor(u('https://repo.example/x'), s)?.host).to.equal('cfg:3128');
    expect(proxyFor(u('http://repo.example/x'), s)?.host).to.equal('cfg:3128');
  });

  it('matches NO_PROXY entries: host, domain and subdomains, leading dot or *., host:port, IPs, *', () => {
    const list = ['internal.example', '.corp.example', '*.lab.example', 'mirror.example:8443', '10.1.2.3', '[::1]'];
    const yes = ['https://internal.example/', 'https://a.internal.example/', 'https://x.corp.example/', 'https://corp.example/', 'https://b.lab.example/', 'https://mirror.example:8443/', 'http://10.1.2.3/', 'http://[::1]:8080/'];
    const no = ['https://notinternal.example/', 'https://mirror.example/', 'http://10.1.2.30/', 'https://example.org/'];
    for (const s of yes) expect(bypassesProxy(u(s), list), s).to.equal(true);
    for (const s of no) expect(bypassesProxy(u(s), list), s).to.equal(false);
    expect(bypassesProxy(u('https://anything/'), ['*'])).to.equal(true);
  });

  it('refuses a proxy URL it cannot use with CONFIG_INVALID, naming where it came from, without the password', () => {
    const err = expectCode(() => proxySettings({}, { HTTPS_PROXY: 'https://user:secret@proxy:443' }), 'CONFIG_INVALID');
    expect(err.message).to.match(/^HTTPS_PROXY: expected an http:\/\/ proxy URL/);
    expect(err.message).not.to.include('secret');
  });
});
