import { publicBase, routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { getSegmentSettings } from '../shared/use-cases/track-segment.js';
import { awsHttpSettings, awsWriteKeyStore } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** analytics-next's settings, with apiHost set to where this request came in. */
export function createHandler(ports: Pick<Ports, 'writeKeys' | 'http'>) {
  return routeHandler(ROUTES['get-segment-settings'], ports, async ({ event }) => {
    const { protocol, host } = publicBase(event);
    return getSegmentSettings(ports.writeKeys, event.pathParameters?.['writeKey'] ?? '', { protocol, apiHost: `${host}/v1` });
  });
}

export const handler = lazyHandler(async () => createHandler({ writeKeys: awsWriteKeyStore(), http: awsHttpSettings() }));
