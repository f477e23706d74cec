import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildStacks } from '../../lib/build-app.js';
import { parseStageConfig, type StageConfig } from '../../lib/stage-config.js';

interface CdkJson {
  context: { stages: Record<string, unknown> };
}

/** The stage configs exactly as cdk.json holds them. */
export function stageConfig(stage: 'dev' | 'staging' | 'prod'): StageConfig {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as CdkJson;
  return parseStageConfig(stage, cdkJson.context.stages[stage]);
}

export interface SynthesizedStage {
  app: App;
  stateful: Template;
  service: Template;
}

/**
 * Synthesizes both stacks with placeholder assets: bundling every function through CDK (one
 * esbuild process each) is most of a synthesis, and bundles.test.ts proves the bundles build.
 */
export function synthesize(config: StageConfig): SynthesizedStage {
  const app = newTestApp();
  const { stateful, service } = buildStacks(app, config);
  return { app, stateful: Template.fromStack(stateful), service: Template.fromStack(service) };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** A fresh folder for one synthesis, outside the work tree. */
const scratchOutdir = (): string => mkdtempSync(join(tmpdir(), 'cdk-test-'));

/** An app that bundles no stack (`aws:cdk:bundling-stacks` lists the stacks to bundle). */
export function newTestApp(): App {
  return new App({ outdir: scratchOutdir(), context: { 'aws:cdk:bundling-stacks': [] } });
}

/** The logical id of the one function whose logical id starts with `prefix`. */
export function functionId(template: Template, prefix: string): string {
  const ids = Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one function ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0] as string;
}

/** The properties of the one alarm whose id, under the observability construct, starts with `name`. */
export function alarmProperties(template: Template, name: string): Record<string, unknown> {
  const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([id]) => id.startsWith(`Observability${name}`));
  if (alarms.length !== 1) throw new Error(`expected one alarm ${name}, found ${alarms.length}`);
  return alarms[0]?.[1]['Properties'] as Record<string, unknown>;
}

interface DashboardWidget {
  properties: { title: string; metrics: unknown[][] };
}

/** The widgets of the stack's dashboard, its tokens (region, queue names) read as plain text. */
export function dashboardWidgets(template: Template): DashboardWidget[] {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const parts = (dashboard?.['Properties']['DashboardBody'] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return (JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'token')).join('')) as { widgets: DashboardWidget[] }).widgets;
}

export interface PolicyStatementJson {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

/** Every IAM statement granted to the role of a function by policies of the stack (managed ones aside). */
export function statementsOf(template: Template, functionLogicalId: string): PolicyStatementJson[] {
  const fn = template.findResources('AWS::Lambda::Function')[functionLogicalId] as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } };
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy') as Resources).filter((policy) =>
    (policy.Properties?.['Roles'] as Array<{ Ref: string }>).some((role) => role.Ref === roleId),
  );
  return policies.flatMap((policy) => (policy.Properties?.['PolicyDocument'] as { Statement: PolicyStatementJson[] }).Statement);
}

/** Every IAM action granted to the role of a function, sorted. */
export function actionsOf(template: Template, functionLogicalId: string): string[] {
  return statementsOf(template, functionLogicalId)
    .flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]))
    .sort();
}
