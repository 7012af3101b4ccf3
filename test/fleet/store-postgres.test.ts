import { expect } from 'chai';
import { PgFleetStore } from '../../src/fleet/store/pg-store.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { storeContract } from './store-contract.js';

describe('fleet store: PostgreSQL (pg, a real server started by the test)', function () {
  this.timeout(60_000);
  let server: Postgres;
  let n = 0;
  before(async () => (server = await startPostgres()));
  after(async () => server.stop());

  storeContract(async () => PgFleetStore.open(await server.createDatabase(`contract_${++n}`)));

  it('migrates once: a second collector opening the same database applies nothing twice', async () => {
    const url = await server.createDatabase('migrate_twice');
    const [a, b] = await Promise.all([PgFleetStore.open(url), PgFleetStore.open(url)]);
    expect(await a.countEvents()).to.equal(0);
    await Promise.all([a.close(), b.close()]);
  });
});
