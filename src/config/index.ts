/** The configuration: load relay.toml, the types the relay runs on, and the generated reference docs. */
export { ConfigError, type ConfigIssue } from './errors.js';
export { loadConfigFile, parseConfig } from './load.js';
export { renderConfigDocs } from './docs.js';
export { parseGoDuration } from './duration.js';
export { parseHostPort, type HostPort } from '../net/address.js';
export { CONSISTENCY_LEVELS, FSYNC_POLICIES, LOG_LEVELS, OUTPUT_TYPES, WHEN_FULL } from './enums.js';
export type { Consistency, FsyncPolicy, LogLevel, OutputType, WhenFull } from './enums.js';
export type {
  HttpListenerConfig,
  HttpOutputConfig,
  RelayConfig,
  TcpListenerConfig,
  UdpForwardConfig,
  UdpListenerConfig,
  UdpOutputConfig,
} from './types.js';
