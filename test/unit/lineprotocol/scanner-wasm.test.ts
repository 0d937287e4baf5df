/**
 * The scanner's table-driven suite (scanner.test.ts) again, with every body through the WebAssembly fast path: by
 * default bodies under 512 bytes, most of the table's, take the JS path.
 */
import { fastPathFor, useFastPath } from '../../../src/lineprotocol/scanner.js';

useFastPath('wasm');
if (fastPathFor(1) !== 'wasm') throw new Error('WebAssembly is not available to the scanner here');
await import('./scanner.test.js');
