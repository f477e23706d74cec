import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../../lambdas/routes.js';
import { buildStacks } from '../../../lib/build-app.js';
import { ECHO_ROUTE } from '../../fixtures/echo-route/handler.js';
import { newTestApp, stageConfig } from '../../infra/support.js';
import { callApi } from '../../support/api-client.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';
import { TENANT_A } from '../../support/factories.js';

// One table entry and one handler module (test/fixtures/echo-route): nothing else is edited.
const routes = { ...ROUTES, echo: ECHO_ROUTE };

let app: RunningRuntime;

beforeAll(async () => {
  app = await startTestRuntime({ routes });
});

afterAll(async () => {
  await app.stop();
});

describe('a route added to the table', () => {
  it('is served by the local runtime, with the scope of its entry checked', async () => {
    const call = async (scopes: Parameters<RunningRuntime['token']>[1]) =>
      callApi(app.runtime.url, 'POST', '/v1/echo', { token: await app.token(TENANT_A, scopes), body: { word: 'hello' } }, routes);

    const allowed = await call(['events:read']);
    const forbidden = await call(['events:write']);
    const invalid = await callApi(app.runtime.url, 'POST', '/v1/echo', { token: await app.token(TENANT_A), body: { word: 7 } }, routes);
    const anonymous = await callApi(app.runtime.url, 'POST', '/v1/echo', { body: { word: 'hello' } }, routes);

    expect({ status: allowed.status, body: allowed.body }).toEqual({ status: 200, body: { tenantId: TENANT_A, word: 'hello' } });
    expect(forbidden.status).toBe(403);
    expect(invalid.body.errors).toEqual([expect.objectContaining({ path: 'word' })]);
    expect(anonymous.status).toBe(401);
  });

  it('is in the OpenAPI document the runtime serves, with its scope and schemas', async () => {
    const answer = await callApi(app.runtime.url, 'GET', '/v1/openapi.json', {}, routes);
    const operation = answer.body.paths['/v1/echo']?.post;

    expect(operation).toMatchObject({ operationId: 'echo', security: [{ bearer: ['events:read'] }] });
    expect(operation.requestBody.content['application/json'].schema.properties).toHaveProperty('word');
    expect(operation.responses['200'].content['application/json'].schema.required).toEqual(['tenantId', 'word']);
  });

  // A whole synthesis: about 12 s on two cores with other work, over 30 s at a load of 15.
  it('is in the synthesized API, behind the authorizer, on a function of its own built from its module', { timeout: 180_000 }, () => {
    const { service } = buildStacks(newTestApp(), stageConfig('dev'), { routes });
    const template = Template.fromStack(service);
    const resources = template.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: 'echo' } });
    const [resourceId] = Object.keys(resources);

    expect(resourceId).toBeDefined();
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', AuthorizationType: 'CUSTOM', ResourceId: { Ref: resourceId } });
    expect(service.functions['echo']?.entry).toMatch(/test\/fixtures\/echo-route\/handler\.ts$/);
    template.hasResourceProperties('AWS::Lambda::Function', { Description: `POST /v1/echo: ${ECHO_ROUTE.summary}`, MemorySize: 128 });
  });
});
