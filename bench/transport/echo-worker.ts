/** Benchmark helper: a worker whose server echoes every batch back to its sender. */
import { workerTransport } from '../../src/transport/worker.js';

const transport = workerTransport();
transport.on('message', (from, messages) => transport.send(from, messages));
