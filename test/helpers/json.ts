// The lossless JSON parser lives in src (the verify and repair commands read InfluxDB answers with it).
export { parseJsonLossless } from '../../src/integrity/lossless-json.js';
