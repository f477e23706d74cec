import { httpHandler, jsonResponse } from '../shared/adapters/http/api-gateway.js';

/** GET /v1/health: no credentials, no dependencies; says the API answers. */
export const handler = httpHandler(async () => jsonResponse(200, { status: 'ok' }));
