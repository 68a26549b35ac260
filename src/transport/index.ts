/** Peer transports: the `Transport` contract and its in-process, worker_threads and TCP implementations. */
export type { Transport, TransportEvents } from './types.js';
export { InProcessNetwork, InProcessEndpoint, type InProcessNetworkOptions } from './inproc.js';
export { FaultController, type LinkFaults } from './faults.js';
export {
  WorkerHub,
  WorkerTransport,
  workerTransport,
  type SpawnOptions,
  type WorkerTransportData,
  type WorkerTransportOptions,
} from './worker.js';
export { TcpTransport, type PeerAddress, type TcpTlsOptions, type TcpTransportOptions, type TcpTransportStats } from './tcp.js';
