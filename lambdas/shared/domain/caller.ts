import { z } from 'zod';

export const SCOPES = ['events:write', 'events:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling, as established by the authorizer from the credential alone. */
export interface Caller {
  tenantId: string;
  subject: string;
  scopes: Scope[];
}

/** Whom a use case acts for: audit rows and rate buckets name the subject. */
export type Actor = Pick<Caller, 'tenantId' | 'subject'>;

const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);

const ClaimsSchema = z.object({
  sub: z.string().min(1).max(255),
  tenant_id: z.uuid().optional(),
  'custom:tenant_id': z.uuid().optional(),
  scope: z.string().optional(),
  'cognito:groups': z.array(z.string()).optional(),
});

/**
 * Maps verified JWT claims to a caller: the tenant from `tenant_id` (or Cognito's
 * `custom:tenant_id`), scopes from `scope` or, for Cognito ID tokens, from group names.
 * Unknown scopes are ignored; a token without a tenant is no credential at all.
 */
export function callerFromClaims(claims: unknown): Caller | undefined {
  const parsed = ClaimsSchema.safeParse(claims);
  if (!parsed.success) return undefined;
  const tenantId = parsed.data.tenant_id ?? parsed.data['custom:tenant_id'];
  if (!tenantId) return undefined;
  const granted = [...(parsed.data.scope?.split(' ') ?? []), ...(parsed.data['cognito:groups'] ?? [])];
  return { tenantId, subject: parsed.data.sub, scopes: [...new Set(granted.filter(isScope))] };
}

/** API Gateway passes authorizer context as flat strings. */
export function callerToContext(caller: Caller): Record<string, string> {
  return { tenantId: caller.tenantId, subject: caller.subject, scopes: caller.scopes.join(' ') };
}

export function callerFromContext(context: Record<string, unknown> | null | undefined): Caller | undefined {
  return callerFromClaims({
    sub: context?.['subject'],
    tenant_id: context?.['tenantId'],
    scope: context?.['scopes'],
  });
}
