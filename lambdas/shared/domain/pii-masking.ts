import { createHmac } from 'node:crypto';

/** Which detectors run; a deployment picks them with PII_DETECTORS, a tenant with PII_TENANT_POLICIES. */
export const PII_DETECTORS = ['email', 'iban', 'card', 'phone', 'sensitiveKeys', 'ip'] as const;
export type PiiDetector = (typeof PII_DETECTORS)[number];

export const PII_MODES = ['redact', 'hash'] as const;
export type PiiMode = (typeof PII_MODES)[number];

/** A policy as configured: which detectors, and whether found values are redacted or hashed. */
export interface PiiRule {
  detectors: readonly PiiDetector[];
  mode: PiiMode;
}

/** The deployment's rule, tenants' own rules, and the secret their hash keys derive from. */
export interface PiiSettings {
  deployment: PiiRule;
  tenants: Readonly<Record<string, PiiRule>>;
  hashSecret?: string;
}

export interface PiiPolicy {
  detectors: ReadonlySet<PiiDetector>;
  /**
   * Without a key, found values are redacted (`[email]`). With one (the tenant's key, see
   * `tenantHashKey`), they become `[email:3f9a1c0b7d2e]`: the same address always gives the same
   * token within a tenant, so analysts can still count and group, and never see the value.
   */
  hashKey?: Buffer;
}

/** A tenant's own hashing key: tokens of one tenant cannot be joined with another's. */
export function tenantHashKey(secret: string, tenantId: string): Buffer {
  return createHmac('sha256', secret).update(tenantId).digest();
}

function replacement(kind: string, value: string, policy: PiiPolicy): string {
  if (!policy.hashKey) return `[${kind}]`;
  return `[${kind}:${createHmac('sha256', policy.hashKey).update(value).digest('hex').slice(0, 12)}]`;
}

export const DEFAULT_PII_POLICY: PiiPolicy = { detectors: new Set(PII_DETECTORS) };

/** A rule says hash but no secret reached the function: never fall back to another mode silently. */
export class MissingHashSecretError extends Error {
  override readonly name = 'MissingHashSecretError';
}

/** The policy for one tenant's events: its own rule if it has one, else the deployment's. */
export function piiPolicyFor(settings: PiiSettings, tenantId: string): PiiPolicy {
  const rule = settings.tenants[tenantId] ?? settings.deployment;
  const detectors = new Set(rule.detectors);
  if (rule.mode === 'redact') return { detectors };
  if (!settings.hashSecret) throw new MissingHashSecretError(`The PII rule for tenant ${tenantId} hashes, but no hash secret is configured.`);
  return { detectors, hashKey: tenantHashKey(settings.hashSecret, tenantId) };
}

// The local part takes every character RFC 5322 allows unquoted, so no part of a name leaks
// (found by the property tests: "o'brien@..." used to keep "o'"). The lookbehind lets a
// match start only where such a run starts: without it 30 KB of letters took 770 ms
// (every position rescanned the rest), now about 1 ms.
const EMAIL = /(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~-])[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
// Digit runs with the separators people type; the digit count and Luhn decide afterwards.
const CARD_CANDIDATE = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;
const PHONE_CANDIDATE = /(?<![\w+])\+?\(?\d[\d ().-]{6,}\d(?![\w])/g;
const ISO_DATE_LIKE = /^\d{4}-\d{2}-\d{2}/;
// Country, check digits, then up to 30 letters and digits, grouped by spaces or dashes or not.
// The run may go on past the IBAN ("... 3000 EUR"): the country's IBAN length says where it ends.
const IBAN_CANDIDATE = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,30}/;
/** Substrings of a normalised key (lower case, letters and digits only) whose value is secret. */
const SENSITIVE_KEY_PARTS = [
  'password',
  'passwd',
  'secret',
  'token',
  'ssn',
  'apikey',
  'authorization',
  'cvv',
  'cardnumber',
  'creditcard',
  'privatekey',
];

export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Appends one IBAN character to a mod-97 remainder: digits as themselves, letters as 10..35. */
function appendMod97(remainder: number, character: string): number {
  const code = character.charCodeAt(0);
  return code >= 65 ? (remainder * 100 + code - 55) % 97 : (remainder * 10 + code - 48) % 97;
}

/** ISO 13616: the country and check digits moved to the end, letters as 10..35, mod 97 is 1. */
export function passesIbanCheck(iban: string): boolean {
  return [...iban.slice(4), ...iban.slice(0, 4)].reduce(appendMod97, 0) === 1;
}

/** IBAN length per country (SWIFT IBAN registry): one checksum per candidate, not one per length. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23,
  GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19,
  SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** The IBAN at the start of a candidate run, if its country's length of it passes the checksum. */
function ibanAt(run: string): { iban: string; length: number } | undefined {
  const expected = IBAN_LENGTHS[run.slice(0, 2).toUpperCase()];
  if (!expected) return undefined;
  let iban = '';
  let index = 0;
  for (; index < run.length && iban.length < expected; index++) {
    const character = run[index] as string;
    if (character !== ' ' && character !== '-') iban += character.toUpperCase();
  }
  return iban.length === expected && passesIbanCheck(iban) ? { iban, length: index } : undefined;
}

/**
 * Masks every valid IBAN; the rest of a candidate run (a currency, a BIC, the next word) stays.
 * A run with no valid IBAN at its start is searched again from its next word, so a code in
 * front ("ref AB12 DE89 3704 ...") cannot hide the IBAN behind it.
 */
function maskIbans(text: string, policy: PiiPolicy): string {
  const candidates = new RegExp(IBAN_CANDIDATE.source, 'g');
  let masked = '';
  let copiedUpTo = 0;
  for (let match = candidates.exec(text); match; match = candidates.exec(text)) {
    const found = ibanAt(match[0]);
    if (!found) {
      candidates.lastIndex = match.index + 1;
      continue;
    }
    masked += `${text.slice(copiedUpTo, match.index)}${replacement('iban', found.iban, policy)}`;
    copiedUpTo = match.index + found.length;
    candidates.lastIndex = copiedUpTo;
  }
  return masked + text.slice(copiedUpTo);
}

/** Verdicts on keys seen lately: the same few keys come in every event, each verdict two new strings. */
const sensitiveKeys = new Map<string, boolean>();

function isSensitiveKey(key: string): boolean {
  let sensitive = sensitiveKeys.get(key);
  if (sensitive === undefined) {
    const normalised = key.toLowerCase().replace(/[^a-z0-9]/g, '');
    sensitive = SENSITIVE_KEY_PARTS.some((part) => normalised.includes(part));
    // Short keys only, and a bounded count, whatever a client sends.
    if (key.length <= 64) {
      if (sensitiveKeys.size >= 10_000) sensitiveKeys.clear();
      sensitiveKeys.set(key, sensitive);
    }
  }
  return sensitive;
}

/** Digits in a text, counted up to `enough`. */
function digitsUpTo(text: string, enough: number): number {
  let digits = 0;
  for (let index = 0; index < text.length && digits < enough; index++) {
    const code = text.charCodeAt(index);
    if (code >= 48 && code <= 57) digits++;
  }
  return digits;
}

/** The fewest digits each detector's match holds: an IBAN its check digits, a card 13, a phone 9. */
const FEWEST_DIGITS = { iban: 2, card: 13, phone: 9 } as const;
/** The shortest IBAN candidate: country, check digits and 11 more. */
const SHORTEST_IBAN = 15;

/**
 * Masks e-mail addresses, IBANs, Luhn-valid card numbers and phone numbers inside free text.
 * A detector runs only on a text that can hold its match (an `@`, enough digits): most values
 * (names, paths, versions) can hold none, and four regular expressions per string were most of
 * the masking's cost.
 */
export function maskText(text: string, policy: PiiPolicy): string {
  const digits = digitsUpTo(text, FEWEST_DIGITS.card);
  let masked = text;
  if (policy.detectors.has('email') && text.includes('@')) masked = masked.replace(EMAIL, (match) => replacement('email', match.toLowerCase(), policy));
  // Before cards and phones, which would otherwise take the IBAN's digit runs and leave the rest.
  if (policy.detectors.has('iban') && digits >= FEWEST_DIGITS.iban && text.length >= SHORTEST_IBAN) masked = maskIbans(masked, policy);
  if (policy.detectors.has('card') && digits >= FEWEST_DIGITS.card) {
    masked = masked.replace(CARD_CANDIDATE, (match) => {
      const digits = match.replace(/\D/g, '');
      return digits.length >= 13 && digits.length <= 19 && passesLuhn(digits) ? replacement('card', digits, policy) : match;
    });
  }
  if (policy.detectors.has('phone') && digits >= FEWEST_DIGITS.phone) {
    masked = masked.replace(PHONE_CANDIDATE, (match) => {
      const digits = match.replace(/\D/g, '');
      return digits.length >= 9 && digits.length <= 15 && !ISO_DATE_LIKE.test(match) ? replacement('phone', digits, policy) : match;
    });
  }
  return masked;
}

/** Masks every string inside a JSON value; keys are kept, values of sensitive keys redacted. */
export function maskJson(value: unknown, policy: PiiPolicy): unknown {
  if (typeof value === 'string') return maskText(value, policy);
  if (Array.isArray(value)) return value.map((item) => maskJson(item, policy));
  if (value === null || typeof value !== 'object') return value;
  // An ordinary object, which V8 keeps in its fast form (a null-prototype one is a dictionary,
  // slower to serialise into the queue row); a key named "__proto__" is defined, so it stays data.
  const masked: Record<string, unknown> = {};
  const source = value as Record<string, unknown>;
  const sensitiveKeysOn = policy.detectors.has('sensitiveKeys');
  for (const key of Object.keys(source)) {
    const child = source[key];
    // Secrets are never hashed: a token of a password would only invite guessing.
    const maskedChild = sensitiveKeysOn && child !== null && isSensitiveKey(key) ? '[redacted]' : maskJson(child, policy);
    if (key === '__proto__') Object.defineProperty(masked, key, { value: maskedChild, enumerable: true, writable: true, configurable: true });
    else masked[key] = maskedChild;
  }
  return masked;
}

function expandIpv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array<string>(Math.max(missing, 0)).fill('0'), ...tailGroups];
}

/** Keeps the network, drops the host: IPv4 to its /24, IPv6 to its /48. */
export function truncateIp(address: string): string {
  if (address.includes('.') && !address.includes(':')) {
    const [a, b, c] = address.split('.');
    return `${a}.${b}.${c}.0`;
  }
  const groups = expandIpv6(address.toLowerCase());
  return `${groups.slice(0, 3).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::`;
}
