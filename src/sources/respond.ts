/**
 * Answers in the InfluxDB 1.x HTTP API's shape: JSON error bodies `{"error":"..."}`, X-Influxdb-Version on every answer.
 */
import type { ServerResponse } from 'node:http';
import { VERSION_HEADER } from '../version.js';

export function baseHeaders(res: ServerResponse): void {
  res.setHeader('X-Influxdb-Version', VERSION_HEADER);
  res.setHeader('X-Influxdb-Build', 'relay');
}

export function noContent(res: ServerResponse): void {
  baseHeaders(res);
  res.writeHead(204);
  res.end();
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  baseHeaders(res);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: message }, headers);
}

/** Passes a backend's own error answer through; InfluxDB's are JSON already, anything else is wrapped. */
export function sendBackendAnswer(res: ServerResponse, status: number, body: string, backend: string): void {
  const trimmed = body.trim();
  let json: unknown;
  try {
    json = trimmed ? JSON.parse(trimmed) : undefined;
  } catch {
    json = undefined;
  }
  if (json && typeof json === 'object' && 'error' in json) {
    sendJson(res, status, json, { 'X-Relay-Backend': backend });
  } else {
    sendError(res, status, trimmed || `backend ${backend} answered ${status}`, { 'X-Relay-Backend': backend });
  }
}
