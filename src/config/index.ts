/** The configuration: load relay.toml, the types the relay runs on, and the generated reference docs. */
export { ConfigError, type ConfigIssue } from './errors.js';
export { loadConfigFile, parseConfig } from './load.js';
export { renderConfigDocs } from './docs.js';
export { parseGoDuration } from './duration.js';
export { parseHostPort, type HostPort } from '../net/address.js';
export { ACK_MODES, LOG_LEVELS } from './types.js';
export type {
  AckMode,
  HttpListenerConfig,
  HttpOutputConfig,
  LogLevel,
  RelayConfig,
  TcpListenerConfig,
  UdpForwardConfig,
  UdpListenerConfig,
  UdpOutputConfig,
} from './types.js';
