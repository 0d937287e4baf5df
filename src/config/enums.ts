/**
 * The closed sets of words the config and the code share, each defined once as an `as const` array (the schema
 * validates against it and the docs list it) with its type. Nothing here imports anything, so any layer may use it.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How many backends must have delivered a write before the client gets 204: the `ack` key, `?consistency=`. */
export const CONSISTENCY_LEVELS = ['any', 'one', 'quorum', 'all'] as const;
export type Consistency = (typeof CONSISTENCY_LEVELS)[number];

/** When the spool's appends are made durable (the `fsync` key documents each). */
export const FSYNC_POLICIES = ['always', 'interval', 'never'] as const;
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

/** What happens when a backend's queue (memory or spool) is full (the `when-full` key documents each). */
export const WHEN_FULL = ['reject', 'drop-oldest'] as const;
export type WhenFull = (typeof WHEN_FULL)[number];

/** The write API an HTTP output speaks: InfluxDB 1.x `/write`, or 2.x/3.x `/api/v2/write`. */
export const OUTPUT_TYPES = ['v1', 'v2'] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];
