import { startRedis } from '../helpers/redis.js';
import { storeContract } from '../unit/store-contract.js';

// Started at module level: the server lives as long as this file's tests.
const server = await startRedis();
storeContract('redis store', () => ({ kind: 'redis', url: server.url, keyPrefix: 'mss-test:' }));
