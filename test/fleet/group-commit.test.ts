import { expect } from 'chai';
import { GroupCommit } from '../../src/fleet/collector/group-commit.js';

// A commit function the test completes by hand, oldest first: it records each batch and resolves with it.
function gatedCommit(): { commit: (items: number[]) => Promise<string>; batches: number[][]; release(err?: Error): void } {
  const batches: number[][] = [];
  const gates: ((err?: Error) => void)[] = [];
  return {
    batches,
    commit: (items) => {
      batches.push(items);
      return new Promise<string>((resolve, reject) => gates.push((err) => (err ? reject(err) : resolve(`[${items.join(',')}]`))));
    },
    release: (err) => gates.shift()?.(err),
  };
}

const settled = (p: Promise<unknown>): Promise<string> => p.then((v) => `ok ${String(v)}`, (e: Error) => `failed ${e.message}`);
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('GroupCommit (one commit for every item in flight)', () => {
  it('commits what arrived together as one batch, and what arrived during that commit as the next', async () => {
    const g = gatedCommit();
    const gc = new GroupCommit(g.commit, 100);
    const first = [1, 2, 3].map((i) => settled(gc.add(i)));
    await turn();
    expect(g.batches).to.deep.equal([[1, 2, 3]]);
    const second = [4, 5].map((i) => settled(gc.add(i)));
    await turn();
    expect(g.batches, 'no second commit while the first runs').to.have.length(1);
    g.release();
    expect(await Promise.all(first)).to.deep.equal(['ok [1,2,3]', 'ok [1,2,3]', 'ok [1,2,3]']);
    await turn();
    expect(g.batches).to.deep.equal([[1, 2, 3], [4, 5]]);
    g.release();
    expect(await Promise.all(second)).to.deep.equal(['ok [4,5]', 'ok [4,5]']);
  });

  it('fails every item of a failed commit and none of the next, and caps the batch size', async () => {
    const g = gatedCommit();
    const gc = new GroupCommit(g.commit, 2);
    const all = [1, 2, 3].map((i) => settled(gc.add(i)));
    await turn();
    expect(g.batches).to.deep.equal([[1, 2]]);
    g.release(new Error('disk full'));
    await turn();
    await turn();
    expect(g.batches).to.deep.equal([[1, 2], [3]]);
    g.release();
    expect(await Promise.all(all)).to.deep.equal(['failed disk full', 'failed disk full', 'ok [3]']);
  });

  it('runs up to `concurrency` commits at once, the later ones holding what arrived meanwhile', async () => {
    const g = gatedCommit();
    const gc = new GroupCommit(g.commit, 100, 2);
    const a = settled(gc.add(1));
    await turn();
    const b = [2, 3].map((i) => settled(gc.add(i)));
    await turn();
    const c = settled(gc.add(4));
    await turn();
    expect(g.batches, 'two in flight, the third waits').to.deep.equal([[1], [2, 3]]);
    g.release();
    expect(await a).to.equal('ok [1]');
    await turn();
    expect(g.batches).to.deep.equal([[1], [2, 3], [4]]);
    g.release();
    g.release();
    expect(await Promise.all([...b, c])).to.deep.equal(['ok [2,3]', 'ok [2,3]', 'ok [4]']);
  });
});
