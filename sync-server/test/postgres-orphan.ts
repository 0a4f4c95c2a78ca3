// A test process that dies after starting a server, without calling stop(): postgres.test.ts runs
// it and checks the harness still stopped the server and deleted its folder.
import { startPostgres } from './postgres';

const server = await startPostgres();
console.log(JSON.stringify({ dir: server.dir, host: server.host, port: server.port }));
throw new Error('dying without stop()');
