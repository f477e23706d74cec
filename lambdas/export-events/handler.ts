import { readJsonBody, streamingRouteHandler } from '../shared/adapters/http/api-gateway.js';
import { streamedLambdaHandler } from '../shared/adapters/lambda/response-stream.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { exportEvents } from '../shared/use-cases/query-events.js';
import { awsCallerPorts, awsEventQueries, awsQuerySettings } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** The filters' matches as a CSV download, streamed while the pages are read. */
export function createHandler(ports: Pick<Ports, 'queries' | 'query' | 'limiter' | 'http'>) {
  return streamingRouteHandler(ROUTES['export-events'], ports, async ({ caller, event }) => {
    const { filename, chunks } = await exportEvents(ports.queries, caller, readJsonBody(event), ports.query);
    return { headers: { 'content-disposition': `attachment; filename="${filename}"` }, chunks };
  });
}

export const handler = streamedLambdaHandler(lazyHandler(async () => createHandler({ queries: await awsEventQueries(), query: awsQuerySettings(), ...awsCallerPorts() })));
