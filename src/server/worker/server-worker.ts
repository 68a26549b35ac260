/**
 * The entry module of a server worker (started by `WorkerHub.spawn` from
 * worker-ensemble.ts): reads `workerData` and runs the server (worker-host.ts).
 * Under tsx the hub loads this file as TypeScript; after `npm run build` the controller
 * points at the compiled `server-worker.js` beside it.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import type { WorkerTransportData } from '../../transport/worker.js';
import type { ServerWorkerData } from './protocol.js';
import { hostServer } from './worker-host.js';

if (isMainThread) throw new Error('server-worker: this module is the entry of a worker thread');
const data = workerData as ServerWorkerData & { zoostateTransport: WorkerTransportData };
await hostServer(data.zoostateServer, data.zoostateControl, data.zoostateTransport.control);
