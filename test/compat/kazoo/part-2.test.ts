/**
 * kazoo's own test suite, part 2 (see parts.ts), against each compatibility target.
 * Run with `npm run test:compat`.
 */
import { registerKazooPart } from './parts.js';

registerKazooPart(1);
