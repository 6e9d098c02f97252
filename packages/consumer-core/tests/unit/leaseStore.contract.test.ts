import { InMemoryLeaseStore } from '../../src/testing/index.js';
import { leaseStoreContract } from '../helpers/leaseStoreContract.js';

leaseStoreContract('InMemoryLeaseStore', async () => new InMemoryLeaseStore());
