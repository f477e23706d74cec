import { Tags, type App } from 'aws-cdk-lib';
import type { Routes } from '../lambdas/shared/adapters/http/route-spec.js';
import { ServiceStack } from './stacks/service-stack.js';
import { StatefulStack } from './stacks/stateful-stack.js';
import { availabilityZones, type StageConfig } from './stage-config.js';

/** The stacks of one environment; bin/app.ts and the infrastructure tests build the same thing. */
export function buildStacks(app: App, config: StageConfig, options: { routes?: Routes } = {}): { stateful: StatefulStack; service: ServiceStack } {
  const env = { account: config.account, region: config.region };
  // What a context lookup would find, given instead: synth must work offline, without credentials.
  const lookupKey = `availability-zones:account=${config.account}:region=${config.region}`;
  if (app.node.tryGetContext(lookupKey) === undefined) app.node.setContext(lookupKey, availabilityZones(config));
  const prefix = `EventTracker-${config.stage}`;
  const stateful = new StatefulStack(app, `${prefix}-Stateful`, config, { env, terminationProtection: config.stage === 'prod' });
  // The service stack references the stateful one, which makes it deploy second.
  const service = new ServiceStack(app, `${prefix}-Service`, { env, config, stateful, routes: options.routes });
  Tags.of(app).add('product', 'event-tracker');
  Tags.of(app).add('stage', config.stage);
  return { stateful, service };
}
