import { storageConformance } from './conformance.js';
import { memoryHarness } from './harness.js';

storageConformance('MemoryStorage', () => memoryHarness());
storageConformance('MemoryStorage with latency', () => memoryHarness(3));
