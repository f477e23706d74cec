import { httpHandler, jsonResponse } from '../shared/adapters/http/api-gateway.js';
import { openApiDocument } from '../shared/openapi.js';

/** Built once per container: the document depends on nothing but the code. */
const document = openApiDocument();

/** GET /v1/openapi.json: the contract, generated from the schemas that validate requests. */
export const handler = httpHandler(async () => jsonResponse(200, document));
