/**
 * The scanner's verdicts against a real influxd (scanner-verdicts.test.ts) again, with every line through the
 * WebAssembly fast path: by default lines this short take the JS path.
 */
import { fastPathFor, useFastPath } from '../../src/lineprotocol/scanner.js';

useFastPath('wasm');
if (fastPathFor(1) !== 'wasm') throw new Error('WebAssembly is not available to the scanner here');
await import('./scanner-verdicts.test.js');
