import { describe, expect, it } from 'vitest';
import { DEFAULT_PII_POLICY, maskJson, maskText, passesIbanCheck, passesLuhn, piiPolicyFor, tenantHashKey, truncateIp } from '../../../../lambdas/shared/domain/pii-masking.js';

describe('maskText', () => {
  it('masks e-mail addresses', () => {
    expect(maskText('contact jane.doe+x@example.co.uk now', DEFAULT_PII_POLICY)).toBe('contact [email] now');
    expect(maskText("o'brien@example.ie", DEFAULT_PII_POLICY)).toBe('[email]');
  });

  it('masks card numbers that pass Luhn and keeps digit runs that do not', () => {
    expect(maskText('card 4111 1111 1111 1111', DEFAULT_PII_POLICY)).toBe('card [card]');
    expect(maskText('4111-1111-1111-1111', DEFAULT_PII_POLICY)).toBe('[card]');
    expect(maskText('order 4111111111111112', DEFAULT_PII_POLICY)).toBe('order 4111111111111112');
  });

  it('masks phone numbers but not dates, times or short numbers', () => {
    expect(maskText('call +44 20 7946 0958', DEFAULT_PII_POLICY)).toBe('call [phone]');
    expect(maskText('(555) 123-4567', DEFAULT_PII_POLICY)).toBe('[phone]');
    expect(maskText('at 2026-11-26 10:00', DEFAULT_PII_POLICY)).toBe('at 2026-11-26 10:00');
    expect(maskText('took 1234 ms', DEFAULT_PII_POLICY)).toBe('took 1234 ms');
  });

  it('runs only the detectors the policy names', () => {
    expect(maskText('a@b.io 4111111111111111', { detectors: new Set(['card']) })).toBe('a@b.io [card]');
  });
});

describe('maskJson', () => {
  it('redacts values of sensitive keys at any depth and masks nested strings', () => {
    const masked = maskJson({ user: { Password: 'hunter2', apiKey: 'k', note: 'mail me: a@b.io' }, list: ['x@y.org'], count: 3 }, DEFAULT_PII_POLICY);
    expect(JSON.parse(JSON.stringify(masked))).toEqual({
      user: { Password: '[redacted]', apiKey: '[redacted]', note: 'mail me: [email]' },
      list: ['[email]'],
      count: 3,
    });
  });

  it('keeps a __proto__ key as plain data', () => {
    const masked = maskJson(JSON.parse('{"__proto__":{"polluted":true}}'), DEFAULT_PII_POLICY);
    expect(JSON.stringify(masked)).toBe('{"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('truncateIp', () => {
  it('keeps the /24 of IPv4 and the /48 of IPv6', () => {
    expect(truncateIp('203.0.113.77')).toBe('203.0.113.0');
    expect(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(truncateIp('2001:db8::1')).toBe('2001:db8:0::');
    expect(truncateIp('::1')).toBe('0:0:0::');
  });
});

describe('passesLuhn', () => {
  it('checks the Luhn sum', () => {
    expect(passesLuhn('79927398713')).toBe(true);
    expect(passesLuhn('79927398710')).toBe(false);
  });
});

describe('IBANs', () => {
  it('are masked printed or compact when the check digits hold, before cards and phones see their digits', () => {
    expect(maskText('pay to GB82 WEST 1234 5698 7654 32 today', DEFAULT_PII_POLICY)).toBe('pay to [iban] today');
    expect(maskText('DE89370400440532013000', DEFAULT_PII_POLICY)).toBe('[iban]');
    expect(maskText('GB82 WEST 1234 5698 7654 33', DEFAULT_PII_POLICY)).not.toContain('[iban]');
    expect(maskText('ORDER12345678901234', DEFAULT_PII_POLICY)).toBe('ORDER12345678901234');
  });

  it('are found where the run goes on: a BIC, a currency or a word after them stays, the IBAN does not', () => {
    expect(maskText('IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX', DEFAULT_PII_POLICY)).toBe('IBAN [iban] BIC COBADEFFXXX');
    expect(maskText('DE89370400440532013000 EUR', DEFAULT_PII_POLICY)).toBe('[iban] EUR');
    expect(maskText('pay GB82 WEST 1234 5698 7654 32 ASAP', DEFAULT_PII_POLICY)).toBe('pay [iban] ASAP');
  });

  it('are found behind a code that looks like the start of one', () => {
    expect(maskText('ref AB12 DE89 3704 0044 0532 0130 00', DEFAULT_PII_POLICY)).toBe('ref AB12 [iban]');
  });

  it('are found in lower case and with dashes', () => {
    expect(maskText('gb82 west 1234 5698 7654 32', DEFAULT_PII_POLICY)).toBe('[iban]');
    expect(maskText('FR14-2004-1010-0505-0001-3M02-606', DEFAULT_PII_POLICY)).toBe('[iban]');
  });

  it('check mod 97 as ISO 13616 says', () => {
    expect(passesIbanCheck('FR1420041010050500013M02606')).toBe(true);
    expect(passesIbanCheck('FR1420041010050500013M02607')).toBe(false);
  });
});

describe('policies per tenant', () => {
  it('refuse to hash without a secret rather than fall back to another mode', () => {
    const hashing = { deployment: { detectors: ['email' as const], mode: 'hash' as const }, tenants: {} };
    expect(() => piiPolicyFor(hashing, 'tenant-x')).toThrow(/no hash secret/);
  });

  const settings = {
    deployment: { detectors: ['email', 'ip'] as const, mode: 'redact' as const },
    tenants: { 'tenant-h': { detectors: ['email'] as const, mode: 'hash' as const } },
    hashSecret: 'a-deployment-secret-of-32-characters!',
  };

  it("give a tenant its own rule and the others the deployment's", () => {
    expect(maskText('jane@example.com', piiPolicyFor(settings, 'tenant-h'))).toMatch(/^\[email:[0-9a-f]{12}\]$/);
    expect(maskText('jane@example.com', piiPolicyFor(settings, 'tenant-x'))).toBe('[email]');
    expect([...piiPolicyFor(settings, 'tenant-x').detectors]).toEqual(['email', 'ip']);
  });
});

describe('hash mode', () => {
  const policyFor = (tenant: string) => ({ ...DEFAULT_PII_POLICY, hashKey: tenantHashKey('a-deployment-secret-of-32-characters!', tenant) });

  it('replaces PII by a stable token per tenant, different across tenants, and still redacts secrets', () => {
    const a = policyFor('tenant-a');
    const first = maskText('mail Jane@Example.com or jane@example.com, card 4111 1111 1111 1111', a);
    const tokens = first.match(/\[email:[0-9a-f]{12}\]/g);
    expect(tokens).toHaveLength(2);
    expect(tokens?.[0]).toBe(tokens?.[1]);
    expect(first).toMatch(/\[card:[0-9a-f]{12}\]/);
    expect(maskText('jane@example.com', policyFor('tenant-b'))).not.toBe(tokens?.[0]);
    expect(JSON.stringify(maskJson({ password: 'hunter2' }, a))).toBe('{"password":"[redacted]"}');
  });
});
