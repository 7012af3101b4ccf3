import { expect } from 'chai';
import { TPM_HT } from '../../src/tpm/constants.js';
import { TpmClient } from '../../src/tpm/client.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { EndlessCapabilityTpm } from './hostile-tpm.js';

// Fuzz finding (issue 10 part I): a TPM that keeps setting moreData drove `tpm status` to 3.1 GiB.
describe('tpm GetCapability moreData loop', () => {
  it('ends a list that never ends with TPM_MALFORMED_RESPONSE after a bounded number of responses', async () => {
    const tpm = new EndlessCapabilityTpm(1000);
    const err = await expectCodeAsync(() => new TpmClient(tpm).getHandles(TPM_HT.NV_INDEX), 'TPM_MALFORMED_RESPONSE');
    expect(err.message).to.contain('moreData');
    expect(tpm.responses).to.be.at.most(64);
  });

  it('still follows moreData across a few pages, as a real TPM sends them', async () => {
    const handles = await new TpmClient(new EndlessCapabilityTpm(3, 10)).getHandles(TPM_HT.NV_INDEX);
    expect(handles).to.have.length(30);
  });
});
