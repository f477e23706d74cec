// The client side of bench:segment, run by it as a child process (never by hand): the server
// and each client have a process of their own, so that the client's CPU is not the server's.
// It is told which client to be, prepares, and on `go` sends through HTTP and says when done.
import { randomUUID } from 'node:crypto';
import { Analytics, type HTTPClient, type HTTPClientRequest } from '@segment/analytics-node';

/** What the bench generates once per round; both clients send the same events. */
export interface LogicalEvent {
  action: string;
  category: string;
  user: string;
  anonymousId: string;
  properties: Record<string, unknown>;
}

/**
 * `replay`: the requests are made before `go` (for the SDK: the very bodies and headers that
 * analytics-node posts, taken through its `httpClient` option) and all sent at once on `go`, so
 * the time is the server's. `live`: the client does its work after `go`, as in an application.
 */
export type ClientMode = 'replay' | 'live';
export type ClientSide = 'segment' | 'ours';

export interface PrepareOrder {
  kind: 'prepare';
  side: ClientSide;
  mode: ClientMode;
  url: string;
  writeKey: string;
  token: string;
  batch: number;
  events: LogicalEvent[];
}

export type ClientReport = { kind: 'ready' } | { kind: 'sent' } | { kind: 'failed'; reason: string };

interface PlannedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Events the answer must list as successful. */
  events: number;
}

const trackOf = (event: LogicalEvent) => ({ userId: event.user, anonymousId: event.anonymousId, event: event.action, properties: { ...event.properties, category: event.category } });

const ourEvent = (event: LogicalEvent) => ({
  id: randomUUID(),
  type: 'USER_ACTION',
  category: event.category,
  action: event.action,
  userId: event.user,
  sessionId: event.anonymousId,
  properties: { ...event.properties, category: event.category },
  timestamp: new Date().toISOString(),
});

/** analytics-node as an application configures it, against `host` or through `httpClient`. */
const segmentSdk = (order: PrepareOrder, httpClient?: HTTPClient) =>
  // A long request timeout: on a loaded machine a batch can take more than the default 10 s.
  new Analytics({ writeKey: order.writeKey, host: order.url, flushAt: order.batch, flushInterval: 10_000, maxRetries: 3, httpRequestTimeout: 120_000, ...(httpClient ? { httpClient } : {}) });

/** The requests analytics-node makes for these events, answered 200 without a network. */
async function segmentRequests(order: PrepareOrder): Promise<PlannedRequest[]> {
  const planned: PlannedRequest[] = [];
  const recorder: HTTPClient = {
    makeRequest: async (request: HTTPClientRequest) => {
      planned.push({ path: new URL(request.url).pathname, headers: request.headers, body: request.body, events: (JSON.parse(request.body) as { batch: unknown[] }).batch.length });
      return { status: 200, statusText: 'OK', text: async () => '{"success":true}' };
    },
  };
  const analytics = segmentSdk(order, recorder);
  for (const event of order.events) analytics.track(trackOf(event));
  await analytics.closeAndFlush();
  return planned;
}

function ourRequests(order: PrepareOrder): PlannedRequest[] {
  const planned: PlannedRequest[] = [];
  for (let start = 0; start < order.events.length; start += order.batch) {
    const events = order.events.slice(start, start + order.batch).map(ourEvent);
    planned.push({ path: '/v1/events/batch', headers: { authorization: `Bearer ${order.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ events, sentAt: new Date().toISOString() }), events: events.length });
  }
  return planned;
}

async function send(url: string, request: PlannedRequest): Promise<void> {
  const response = await fetch(`${url}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
  const receipt = (await response.json()) as { successful?: string[] };
  if (receipt.successful?.length !== request.events) throw new Error(`${request.path} answered ${response.status} with ${receipt.successful?.length ?? 0} of ${request.events} events accepted`);
}

/** analytics-node as an application uses it: one call per event, then closeAndFlush. */
async function sendThroughSdk(order: PrepareOrder): Promise<void> {
  const analytics = segmentSdk(order);
  let failure: unknown;
  analytics.on('error', (error) => (failure ??= error));
  for (const event of order.events) analytics.track(trackOf(event));
  await analytics.closeAndFlush();
  if (failure !== undefined) throw new Error('analytics-node reported a delivery error', { cause: failure });
}

const sendAll = async (url: string, planned: PlannedRequest[]): Promise<void> => {
  await Promise.all(planned.map((request) => send(url, request)));
};

const report = (message: ClientReport) => process.send?.(message);

let go: () => Promise<void> = async () => undefined;
process.on('message', (message: PrepareOrder | { kind: 'go' }) => {
  void (async () => {
    if (message.kind === 'prepare') {
      const order = message;
      if (order.mode === 'replay') {
        const planned = order.side === 'segment' ? await segmentRequests(order) : ourRequests(order);
        go = () => sendAll(order.url, planned);
      } else if (order.side === 'segment') go = () => sendThroughSdk(order);
      else go = () => sendAll(order.url, ourRequests(order));
      report({ kind: 'ready' });
    } else {
      await go();
      report({ kind: 'sent' });
    }
  })().catch((error: unknown) => report({ kind: 'failed', reason: error instanceof Error ? `${error.message}${error.cause ? ` (${String(error.cause)})` : ''}` : String(error) }));
});
