import { describe } from 'node:test';
import { dropSchema, postgresReachable, postgresUrl, SKIPPED_POSTGRES, uniqueSchema } from '../../../test/support/stores.ts';
import { storeContract } from '../store-contract.ts';
import { openPostgresStore } from './postgres-store.ts';

// Each store gets a schema of its own, so these tests run beside every other PostgreSQL test.
if (await postgresReachable()) {
  storeContract('PostgreSQL store', async () => {
    const schema = uniqueSchema();
    const store = await openPostgresStore({ url: postgresUrl(schema) });
    return {
      ...store,
      async close() {
        await store.close();
        await dropSchema(schema);
      },
    };
  });
} else {
  describe.skip(SKIPPED_POSTGRES, () => {});
}
