/**
 * The only way this app puts anything on the page: elements built one by one, text set as
 * text. Event data is written by anyone with a write key, so nothing here parses HTML, and no
 * attribute that can run script or navigate (on*, href, src, style) is set from a string.
 */
type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  id?: string;
  type?: string;
  name?: string;
  value?: string;
  placeholder?: string;
  title?: string;
  role?: string;
  for?: string;
  min?: string;
  max?: string;
  step?: string;
  autocomplete?: string;
  rows?: string;
  maxlength?: string;
  checked?: boolean;
  disabled?: boolean;
  readonly?: boolean;
  required?: boolean;
  selected?: boolean;
  spellcheck?: boolean;
  tabindex?: number;
  aria?: Record<string, string>;
  data?: Record<string, string>;
  onclick?: (event: MouseEvent) => void;
  onsubmit?: (event: SubmitEvent) => void;
  onchange?: (event: Event) => void;
  oninput?: (event: Event) => void;
  onkeydown?: (event: KeyboardEvent) => void;
}

const BOOLEAN_PROPS = ['checked', 'disabled', 'readonly', 'required', 'selected'] as const;
const TEXT_PROPS = ['id', 'type', 'name', 'placeholder', 'title', 'role', 'for', 'min', 'max', 'step', 'autocomplete', 'rows', 'maxlength'] as const;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  for (const key of TEXT_PROPS) {
    const value = props[key];
    if (value !== undefined) element.setAttribute(key, value);
  }
  for (const key of BOOLEAN_PROPS) if (props[key]) element.setAttribute(key, '');
  if (props.value !== undefined && 'value' in element) (element as HTMLInputElement).value = props.value;
  if (props.checked !== undefined && element instanceof HTMLInputElement) element.checked = props.checked;
  if (props.spellcheck !== undefined) element.spellcheck = props.spellcheck;
  if (props.tabindex !== undefined) element.tabIndex = props.tabindex;
  for (const [key, value] of Object.entries(props.aria ?? {})) element.setAttribute(`aria-${key}`, value);
  for (const [key, value] of Object.entries(props.data ?? {})) element.dataset[key] = value;
  if (props.onclick) element.addEventListener('click', props.onclick as EventListener);
  if (props.onsubmit) element.addEventListener('submit', props.onsubmit as EventListener);
  if (props.onchange) element.addEventListener('change', props.onchange);
  if (props.oninput) element.addEventListener('input', props.oninput);
  if (props.onkeydown) element.addEventListener('keydown', props.onkeydown as EventListener);
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces what `parent` holds. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

export const $ = <T extends Element = HTMLElement>(selector: string, root: ParentNode = document): T => {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`missing ${selector}`);
  return found;
};

/** A table whose cells are text: `rows` of strings or nodes. */
export function table(caption: string, headers: string[], rows: Child[][], options: { class?: string; numeric?: number[] } = {}): HTMLElement {
  const numeric = new Set(options.numeric ?? []);
  return h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', aria: { label: caption } },
    h(
      'table',
      { class: options.class ?? '' },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, ...headers.map((header, index) => h('th', { class: numeric.has(index) ? 'num' : '' }, header)))),
      h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((cell, index) => h('td', { class: numeric.has(index) ? 'num' : '' }, cell))))),
    ),
  );
}

/** A panel: a heading and a body that shows "Loading" until filled. */
export function panel(title: string, options: { id?: string; wide?: boolean } = {}): { root: HTMLElement; body: HTMLElement } {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const root = h('section', { class: `panel${options.wide ? ' wide' : ''}`, id: options.id, aria: { label: title } }, h('h2', {}, title), body);
  return { root, body };
}
