import { getConfig, request, SignedOutError } from '../api.js';
import { fill, h } from '../dom.js';
import { startSignIn } from '../hosted-ui.js';
import { readClaims, setToken } from '../session.js';
import { errorMessage, field } from '../ui.js';

/**
 * Sign in with the hosted UI when config.json names one; paste a token otherwise (the local
 * runtime), or instead (an operator's token in AWS). A pasted token is checked against the API
 * once (a read of the last hour) and kept in sessionStorage. The URL, with the filters it
 * carries, stays as it is and is shown next; the hosted UI comes back to it.
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
  const form = h(
    'form',
    { onsubmit: (event) => void submit(event) },
    field('Token', input, 'Paste a bearer token: the dev token that npm start prints, or one from npm run token. It stays in this tab only.'),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  const { auth } = getConfig();
  const hostedUi =
    auth.mode === 'cognito'
      ? h('button', { type: 'button', class: 'primary', data: { signin: 'cognito' }, onclick: () => void startSignIn(auth).catch((error: unknown) => fill(status, errorMessage(error))) }, 'Sign in with Cognito')
      : null;
  fill(
    main,
    h(
      'section',
      { class: 'signin', aria: { label: 'Sign in' } },
      h('h1', {}, 'Sign in'),
      message ? h('p', { class: 'notice', role: 'status', data: { signinReason: '' } }, message) : null,
      hostedUi ? h('div', { class: 'buttons' }, hostedUi) : form,
      hostedUi ? h('details', {}, h('summary', {}, 'Paste a token instead'), form) : null,
      status,
    ),
  );
  (hostedUi ?? input).focus();
}
