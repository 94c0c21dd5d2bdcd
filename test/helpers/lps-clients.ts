// The API LPS test clients live with the sandbox, whose self-check logs in with them too.
export * from '../../sandbox/lps-client.js';
