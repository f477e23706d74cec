import type { StreamFilter } from '../domain/live-stream.js';

/** One open WebSocket of the deployed stream, as `$connect` recorded it. */
export interface StreamConnection {
  tenantId: string;
  connectionId: string;
  filter: StreamFilter;
  connectedAt: string;
}

/** The connections of the WebSocket API, by tenant: written at `$connect`, read by the writer and the resume. */
export interface StreamConnections {
  add(connection: StreamConnection): Promise<void>;
  remove(tenantId: string, connectionId: string): Promise<void>;
  ofTenant(tenantId: string): Promise<StreamConnection[]>;
  /** The row of one connection; undefined once it is removed or expired. */
  find(tenantId: string, connectionId: string): Promise<StreamConnection | undefined>;
}

/** Messages to one open connection of the deployed stream (API Gateway's management API). */
export interface ConnectionMessenger {
  /** One text frame; false when the connection is gone, an error for any other failure. */
  post(connectionId: string, frame: string): Promise<boolean>;
  /** Closes the connection (its `$disconnect` then removes the row). */
  close(connectionId: string): Promise<void>;
}
