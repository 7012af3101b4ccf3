import { TpmClient } from '../../src/tpm/client.js';
import { startSwtpm, type Swtpm } from './swtpm.js';

// One swtpm and our client connected to it for the calling describe block: started before its tests,
// closed and stopped after them.
export interface SwtpmClient {
  readonly swtpm: Swtpm;
  readonly tpm: TpmClient;
  // swtpm serves one client: ours disconnects while `fn` runs (e.g. tpm2-tools) and reconnects after
  stepAside<T>(fn: () => Promise<T>): Promise<T>;
}

export function useSwtpmClient(): SwtpmClient {
  let swtpm: Swtpm;
  let tpm: TpmClient;
  before(async function () {
    swtpm = await startSwtpm();
    tpm = await TpmClient.open({ swtpm: swtpm.address });
  });
  after(async function () {
    await tpm?.close();
    await swtpm?.stop();
  });
  return {
    get swtpm() {
      return swtpm;
    },
    get tpm() {
      return tpm;
    },
    async stepAside(fn) {
      await tpm.close();
      try {
        return await fn();
      } finally {
        tpm = await TpmClient.open({ swtpm: swtpm.address });
      }
    },
  };
}
