import { startRedis } from '../helpers/redis.js';
import { storeContract } from '../unit/store-contract.js';

// Started at module level, not in a before() hook: processes.ts registers its after() hook
// on first spawn, and one registered inside a hook would fire when that hook ends.
const server = await startRedis();
storeContract('redis store', () => ({ kind: 'redis', url: server.url, keyPrefix: 'mss-test:' }));
