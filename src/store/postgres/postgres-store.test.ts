import { describe } from 'node:test';
import { dropSchema, postgresReachable, postgresUrl, SKIPPED_POSTGRES, uniqueSchema } from '../../../test/support/stores.ts';
import { storeContract } from '../store-contract.ts';
import { openPostgresStore } from './postgres-store.ts';

// Each store gets a schema of its own, so these tests run beside every other PostgreSQL test,
// and a failed test's schema stays behind to be looked at.
if (await postgresReachable()) {
  storeContract('PostgreSQL store', async () => {
    const schema = uniqueSchema();
    const store = await openPostgresStore({ url: postgresUrl(schema) });
    return {
      store,
      async dispose(keep) {
        await store.close();
        if (keep) console.log(`kept the failed test's schema ${schema}`);
        else await dropSchema(schema);
      },
    };
  });
} else {
  describe.skip(SKIPPED_POSTGRES, () => {});
}
