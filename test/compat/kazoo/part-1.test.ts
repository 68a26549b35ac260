/**
 * kazoo's own test suite, part 1 (see parts.ts), against each compatibility target.
 * Run with `npm run test:compat`.
 */
import { registerKazooPart } from './parts.js';

registerKazooPart(0);
