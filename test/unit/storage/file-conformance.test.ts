import { storageConformance } from './conformance.js';
import { fileRealHarness, fileVirtualHarness } from './harness.js';

storageConformance('FileStorage (virtual clock, no fsync)', () => fileVirtualHarness());
storageConformance('FileStorage (fsync)', () => fileRealHarness());
