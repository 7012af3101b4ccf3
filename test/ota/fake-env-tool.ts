// A stand-in for grub-editenv / fw_setenv over a key=value file, run by the command boot selector in tests:
//   fake-env-tool <file> list | <file> set k=v… | <file> setpair k [v]   (setpair without v deletes k)
import { readFileSync, writeFileSync, existsSync } from 'node:fs';

const [file, verb, ...args] = process.argv.slice(2);
if (!file || !verb) {
  process.stderr.write('usage: fake-env-tool <file> list|set|setpair …\n');
  process.exit(2);
}
const env = new Map<string, string>();
if (existsSync(file)) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env.set(line.slice(0, eq), line.slice(eq + 1));
  }
}
if (verb === 'list') {
  process.stdout.write([...env].map(([k, v]) => `${k}=${v}\n`).join(''));
} else if (verb === 'set') {
  for (const a of args) env.set(a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1));
} else if (verb === 'setpair') {
  const [k, v] = args;
  if (!k) process.exit(2);
  if (v === undefined) env.delete(k);
  else env.set(k, v);
} else {
  process.stderr.write(`unknown verb ${verb}\n`);
  process.exit(2);
}
if (verb !== 'list') writeFileSync(file, [...env].map(([k, v]) => `${k}=${v}\n`).join(''));
