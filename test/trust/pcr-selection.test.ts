import { expect } from 'chai';
import { formatPcrSelection, parsePcrSelection, pcrBitmap, pcrsFromBitmap } from '../../src/trust/pcr-selection.js';
import { expectCode } from '../helpers/expect-code.js';

describe('PCR selection', () => {
  it('parses, sorts and de-duplicates the --pcrs form', () => {
    const sel = parsePcrSelection('sha256:7,0,4,2,7');
    expect(sel).to.deep.equal({ hash: 'sha256', pcrs: [0, 2, 4, 7] });
    expect(formatPcrSelection(sel)).to.equal('sha256:0,2,4,7');
  });

  it('maps to the TPMS_PCR_SELECTION bitmap and back', () => {
    const bits = pcrBitmap(parsePcrSelection('sha256:0,2,4,7,8,23'));
    expect([...bits]).to.deep.equal([0b10010101, 0b00000001, 0b10000000]);
    expect(pcrsFromBitmap(bits)).to.deep.equal([0, 2, 4, 7, 8, 23]);
  });

  it('rejects other banks, out-of-range PCRs and junk as USAGE', () => {
    for (const bad of ['sha1:0,1', 'sha256:24', 'sha256:', '0,2,4', 'sha256:1,,2']) expectCode(() => parsePcrSelection(bad), 'USAGE');
  });
});
