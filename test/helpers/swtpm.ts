// A real TPM 2.0 (swtpm on libtpms) as a child process on a loopback port pair, for one test suite:
// the same adapter the first-run demo runs (src/demo/swtpm-process.ts), so both start swtpm alike.
export { startSwtpm, type Swtpm } from '../../src/demo/swtpm-process.js';
