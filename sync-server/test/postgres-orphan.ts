// A process that starts a server and never calls stop(): postgres.test.ts runs it and checks the
// harness still stopped the server and deleted its folder. By default it dies at once with an
// error (the exit hook's case); with `wait` it prints and waits to be killed (the reaper's case).
import { startPostgres } from './postgres';

const server = await startPostgres();
console.log(JSON.stringify({ dir: server.dir, host: server.host, port: server.port }));
if (process.argv[2] === 'wait') setInterval(() => {}, 60_000);
else throw new Error('dying without stop()');
