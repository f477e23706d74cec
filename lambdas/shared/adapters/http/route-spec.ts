import type { z } from 'zod';
import type { Scope } from '../../domain/caller.js';

/** What a route's function needs where it is deployed; the CDK stack binds exactly this. */
export interface RouteNeeds {
  /** Aurora connections per container (the function runs in the VPC). */
  database?: { poolSize: number };
  /** Sends events to the queue (and masks PII on the way); the queue can refuse them (503). */
  queue?: true;
  /** `read`: finds a key to check it, for a route that authenticates write keys itself. */
  writeKeys?: 'read' | 'create' | 'list' | 'revoke';
  /** Reads the live counters of the counters table. */
  liveCounters?: 'read';
  /** Reads the retention settings (events, rollups, per tenant), as the maintenance job does. */
  retentionSettings?: true;
  memoryMb?: number;
  timeoutSeconds?: number;
}

/** Everything about one route: the API document, the middleware, the local runtime and the CDK API read it. */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** Resource path with `{param}` placeholders, as API Gateway writes it. */
  path: string;
  summary: string;
  /** The scope the caller's credential must carry; without one the route is public and no authorizer runs. */
  scope?: Scope;
  /**
   * The handler authenticates a Segment write key itself (HTTP Basic or the body's `writeKey`):
   * API Gateway's authorizers cannot read a body, so none runs on the route.
   */
  credential?: 'segment-write-key';
  /** More paths served the same way by the same function (Segment's one-letter forms). */
  alsoAt?: readonly string[];
  /**
   * `any-origin`: CORS for every origin, as Segment's API does; a write key is public in every
   * page that embeds it and no cookie is read, so an origin list would only break snippets.
   */
  cors?: 'any-origin';
  request?: {
    body?: z.ZodType;
    /** The media types the body is read from; JSON alone when absent. */
    bodyTypes?: readonly string[];
    query?: z.ZodType;
    path?: z.ZodType;
  };
  answer: {
    status: number;
    description: string;
    schema: z.ZodType;
    headers?: Record<string, string>;
    /** The answer's media type when it is not JSON. */
    contentType?: string;
    /**
     * Sent while it is produced (`streamingRouteHandler`): in AWS through API Gateway's STREAM
     * transfer mode and Lambda's InvokeWithResponseStream, up to 15 minutes.
     */
    streamed?: true;
  };
  /**
   * When a body is over a limit, if more than the whole body's limit applies: a 413, or a 400
   * where the callers' SDKs must drop the body rather than retry it (Segment's never retry a 400).
   */
  tooLarge?: { status: 400 | 413; description: string };
  needs?: RouteNeeds;
  /** The module that serves the route, from the repository root; `lambdas/<function>/handler.ts` when absent. */
  module?: string;
}

export type Routes = Record<string, RouteSpec>;

/** Every path of a route, its own first. */
export const routePaths = (route: RouteSpec): string[] => [route.path, ...(route.alsoAt ?? [])];

/** Where the function of a route has its code. */
export const handlerModule = (fn: string, route: RouteSpec): string => route.module ?? `lambdas/${fn}/handler.ts`;

