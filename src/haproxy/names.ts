/** Names of the generated sections, shared by the builders and the tests that assert routing. */
export const NAMES = {
  httpFrontend: 'influxdb',
  tcpFrontend: 'influxdb_tcp',
  statsFrontend: 'stats',
  freshnessFrontend: 'freshness',
  writes: 'writes',
  writesTcp: 'writes_tcp',
  opentsdbFrontend: 'opentsdb',
  writesOpentsdb: 'writes_opentsdb',
  graphiteFrontend: 'graphite',
  writesGraphite: 'writes_graphite',
  writesApiPut: 'writes_api_put',
  relayQueries: 'relay_queries',
  readsFresh: 'reads_fresh',
  readsAny: 'reads_any',
  relaysAlive: 'relays_alive',
  statsUsers: 'stats_users',
} as const;

/** Check-only backend whose servers are the relays, each UP while it reports `database` fresh. */
export function freshBackend(database: string): string {
  return `fresh_${database}`;
}
