import { request, SignedOutError } from '../api.js';
import { fill, h } from '../dom.js';
import { readClaims, setToken } from '../session.js';
import { errorMessage, field } from '../ui.js';

/**
 * Paste a token: checked against the API once (a read of the last hour), kept in
 * sessionStorage. The URL, with the filters it carries, stays as it is and is shown next.
 */
export function renderSignIn(main: HTMLElement, message: string | undefined, signedIn: () => void): void {
  const input = h('textarea', { name: 'token', rows: '4', autocomplete: 'off', spellcheck: false, required: true, placeholder: 'eyJhbGciOi…' });
  const status = h('div', { aria: { live: 'polite' } });
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    fill(status, 'Checking…');
    const claims = readClaims(token);
    if (!claims?.tenantId) {
      fill(status, errorMessage(new Error('This is not a token of this API: it names no tenant (a JWT with a tenant_id claim is expected).')));
      return;
    }
    const now = new Date();
    try {
      await request('GET', `/v1/analytics/event-types?startTime=${new Date(now.getTime() - 3_600_000).toISOString()}&endTime=${now.toISOString()}`, undefined, token);
    } catch (error) {
      if (error instanceof SignedOutError) {
        fill(status, errorMessage(new Error(`The server refused this token: ${error.message.replace(/^[^:]*: /, '')}`)));
        return;
      }
      // Any other refusal (a token without events:read, say) is shown by the views themselves.
    }
    setToken(token);
    signedIn();
  };
  fill(
    main,
    h(
      'section',
      { class: 'signin', aria: { label: 'Sign in' } },
      h('h1', {}, 'Sign in'),
      message ? h('p', { class: 'notice', role: 'status', data: { signinReason: '' } }, message) : null,
      h(
        'form',
        { onsubmit: (event) => void submit(event) },
        field('Token', input, 'Paste a bearer token: the dev token that npm start prints, or one from npm run token. It stays in this tab only.'),
        h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
      ),
      status,
    ),
  );
  input.focus();
}
