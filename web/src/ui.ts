import { ApiError, SignedOutError } from './api.js';
import { fill, h } from './dom.js';

/** An API refusal in words: what went wrong and, for a 400, every field by name. */
export function errorMessage(error: unknown): HTMLElement {
  if (error instanceof ApiError) {
    return h(
      'div',
      { class: 'error', role: 'alert' },
      h('p', {}, h('strong', {}, error.status ? `${error.title} (${error.status})` : error.title), error.detail ? `: ${error.detail}` : ''),
      error.fields.length > 0 ? h('ul', {}, ...error.fields.map((field) => h('li', {}, h('code', {}, field.path || '(body)'), ` ${field.message}`))) : null,
    );
  }
  return h('div', { class: 'error', role: 'alert' }, h('p', {}, error instanceof Error ? error.message : 'Something went wrong.'));
}

/** A route this server does not have (a 404 from an endpoint of a newer API), said plainly. */
export const notAvailable = (what: string): HTMLElement => h('p', { class: 'not-available', data: { state: 'not-available' } }, `${what}: not available on this server.`);

export const isNotFound = (error: unknown): boolean => error instanceof ApiError && (error.status === 404 || error.status === 501);

/**
 * Fills `body` from `load`, or with the error in words. Resolves either way (once the panel is
 * final), so a page can tell when it is complete; a sign-out is left to the app.
 */
export async function loadInto(body: HTMLElement, load: () => Promise<Node | Node[]>, missing?: string): Promise<void> {
  try {
    const content = await load();
    fill(body, ...(Array.isArray(content) ? content : [content]));
  } catch (error) {
    if (error instanceof SignedOutError) return;
    fill(body, missing && isNotFound(error) ? notAvailable(missing) : errorMessage(error));
  }
}

/** Copies text; where the clipboard is refused, selects it in a box to copy by hand. */
export async function copyText(text: string, status: HTMLElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    fill(status, 'Copied.');
  } catch {
    const box = h('textarea', { class: 'copy-box', readonly: true, aria: { label: 'Text to copy' }, value: text });
    fill(status, 'The clipboard is not available here: select and copy.', box);
    box.focus();
    box.select();
  }
}

export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', { class: 'muted' }, hint) : null);
}
