import { SignJWT } from 'jose';
import type { Scope } from '../../domain/caller.js';

export interface MintOptions {
  secret: string;
  tenantId: string;
  subject: string;
  scopes: Scope[];
  expiresIn?: string;
  issuer?: string;
  audience?: string;
}

/** An HS256 token as the local runtime accepts it (dev tokens, tests, benchmarks). */
export function mintToken(options: MintOptions): Promise<string> {
  let jwt = new SignJWT({ tenant_id: options.tenantId, scope: options.scopes.join(' ') })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.subject)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
