import type { StreamFilter } from '../domain/live-stream.js';

/** One open WebSocket of the deployed stream, as `$connect` recorded it. */
export interface StreamConnection {
  tenantId: string;
  connectionId: string;
  filter: StreamFilter;
  connectedAt: string;
}

/** The connections of the WebSocket API, by tenant: written at `$connect`, read by the writer. */
export interface StreamConnections {
  add(connection: StreamConnection): Promise<void>;
  remove(tenantId: string, connectionId: string): Promise<void>;
  ofTenant(tenantId: string): Promise<StreamConnection[]>;
}
