import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildStacks } from '../lib/build-app.js';
import { parseStageConfig, StageConfigError } from '../lib/stage-config.js';

/** cdk deploy -c env=dev|staging|prod: the stage config comes from cdk.json's `stages`. */
const app = new App();
const stage = String(app.node.tryGetContext('env') ?? 'dev');
const stages: unknown = app.node.tryGetContext('stages');
const raw = typeof stages === 'object' && stages !== null ? (stages as Record<string, unknown>)[stage] : undefined;
try {
  if (raw === undefined) throw new StageConfigError(`No stage "${stage}" in cdk.json's context.stages.`);
  buildStacks(app, parseStageConfig(stage, raw));
} catch (error) {
  console.error(error instanceof StageConfigError ? error.message : error);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
