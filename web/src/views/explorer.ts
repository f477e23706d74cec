import { apiUrl, getJson, postJson, request } from '../api.js';
import { fill, h, panel, table } from '../dom.js';
import type { Cleanup } from '../main.js';
import { navigate, withParams, type Route } from '../route.js';
import { formatInstant, formatNumber, iso } from '../time.js';
import type { EventPage, EventType, StoredEvent } from '../types.js';
import { copyText, errorMessage, field, isNotFound, loadInto, notAvailable } from '../ui.js';
import { propertyFilter } from '../filters.js';
import { exportFilename } from '../../../lambdas/shared/domain/csv-export.js';
import { periodControls, windowOf } from './controls.js';

const EVENT_TYPES: EventType[] = ['USER_ACTION', 'SYSTEM_EVENT', 'ERROR', 'PERFORMANCE', 'BUSINESS', 'SECURITY', 'CUSTOM'];
const LIMITS = ['25', '50', '100', '500'];

type Filter = Record<string, unknown>;

const list = (params: URLSearchParams, key: string): string[] => params.getAll(key).flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value.length > 0);

/** The body of POST /v1/events/query (and, without paging, of the export) the URL names. */
function filterOf(route: Route): Filter {
  const { params } = route;
  const { range } = windowOf(route);
  const types = list(params, 'types');
  const categories = list(params, 'category');
  const actions = list(params, 'action');
  const properties = propertyFilter(params.getAll('prop'));
  return {
    startTime: iso(range.start),
    endTime: iso(range.end),
    ...(types.length > 0 ? { eventTypes: types } : {}),
    ...(categories.length > 0 ? { categories } : {}),
    ...(actions.length > 0 ? { actions } : {}),
    ...(params.get('user') ? { userId: params.get('user') } : {}),
    ...(params.get('session') ? { sessionId: params.get('session') } : {}),
    ...(properties ? { properties } : {}),
    orderBy: params.get('order') === 'asc' ? 'timestamp_asc' : 'timestamp_desc',
  };
}

/** A shell word: single quotes, each quote inside closed, escaped and reopened. */
const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

function curlOf(method: 'GET' | 'POST', path: string, body?: unknown): string {
  const url = new URL(apiUrl(path), location.href).href;
  const parts = ['curl -s', ...(method === 'POST' ? ['-X POST'] : []), shellQuote(url), '-H "authorization: Bearer $TOKEN"'];
  if (body !== undefined) parts.push("-H 'content-type: application/json'", `-d ${shellQuote(JSON.stringify(body))}`);
  return parts.join(' ');
}

function form(route: Route): HTMLElement {
  const { params } = route;
  const types = new Set(list(params, 'types'));
  const boxes = EVENT_TYPES.map((type) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'types', value: type, checked: types.has(type) }), ` ${type}`));
  const text = (name: string, value: string, placeholder = '') => h('input', { type: 'text', name, value, placeholder, autocomplete: 'off', spellcheck: false });
  const categories = text('category', list(params, 'category').join(', '), 'checkout, auth');
  const actions = text('action', list(params, 'action').join(', '), 'view, click');
  const user = text('user', params.get('user') ?? '', 'a user id (uuid)');
  const session = text('session', params.get('session') ?? '');
  const props = h('textarea', { name: 'prop', rows: '2', spellcheck: false, placeholder: 'plan=pro', value: params.getAll('prop').join('\n') });
  const order = h('select', { name: 'order' }, h('option', { value: 'desc', selected: params.get('order') !== 'asc' }, 'Newest first'), h('option', { value: 'asc', selected: params.get('order') === 'asc' }, 'Oldest first'));
  const limit = h('select', { name: 'limit' }, ...LIMITS.map((value) => h('option', { value, selected: (params.get('limit') ?? '50') === value }, value)));
  const split = (value: string) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    navigate(
      'explorer',
      withParams(route, {
        types: boxes.map((box) => box.querySelector('input') as HTMLInputElement).filter((box) => box.checked).map((box) => box.value).join(',') || undefined,
        category: split(categories.value),
        action: split(actions.value),
        user: user.value.trim(),
        session: session.value.trim(),
        prop: props.value.split('\n').map((line) => line.trim()).filter((line) => line.includes('=')),
        order: order.value === 'asc' ? 'asc' : undefined,
        limit: limit.value === '50' ? undefined : limit.value,
        cursor: undefined,
        until: undefined,
        event: undefined,
      }),
    );
  };
  return h(
    'form',
    { class: 'filters', onsubmit: submit, aria: { label: 'Filters' } },
    h('fieldset', { class: 'types' }, h('legend', {}, 'Event types (none: all)'), ...boxes),
    field('Categories', categories, 'comma-separated'),
    field('Actions', actions, 'comma-separated'),
    field('User id', user),
    field('Session id', session),
    field('Properties', props, 'key=value, one per line; the value is JSON when it reads as JSON'),
    field('Order', order),
    field('Page size', limit),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Apply filters'), h('button', { type: 'button', onclick: () => navigate('explorer', withParams(route, { types: undefined, category: undefined, action: undefined, user: undefined, session: undefined, prop: undefined, cursor: undefined, until: undefined, event: undefined, order: undefined })) }, 'Clear filters')),
  );
}

/** The File System Access API's save dialog: Chromium's (Chrome, Edge), not yet Firefox's or Safari's. */
type SaveFilePicker = (options: { suggestedName: string; types: Array<{ description: string; accept: Record<string, string[]> }> }) => Promise<FileSystemFileHandle>;

/** Where the browser allows it, the answer goes to a file as it arrives; a million rows never sit in the tab's memory. */
async function exportToFile(pick: SaveFilePicker, filter: Filter, status: HTMLElement): Promise<void> {
  let file: FileSystemFileHandle;
  try {
    // Asked before the request: the dialog needs the click's user activation, which a slow first page would outlast.
    file = await pick({ suggestedName: exportFilename({ startTime: String(filter['startTime']), endTime: String(filter['endTime']) }), types: [{ description: 'CSV', accept: { 'text/csv': ['.csv'] } }] });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') return fill(status, 'Export cancelled.');
    throw error;
  }
  const writable = await file.createWritable();
  let bytes = 0;
  try {
    const response = await request('POST', '/v1/events/export', filter);
    if (!response.body) throw new Error('The export answered without a body.');
    const counted = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    await response.body.pipeThrough(counted).pipeTo(writable);
  } catch (error) {
    // An aborted writable leaves the file as it was: a failed export writes no half file.
    await writable.abort().catch(() => undefined);
    throw error;
  }
  fill(status, `Exported ${formatNumber(bytes)} bytes to ${file.name}.`);
}

/**
 * Elsewhere a Blob, which the browser may keep on disk but the tab cannot write out as it
 * comes: an `<a download>` can only fetch without our Authorization header, and a signed
 * one-time URL would put a credential into a URL and need a server-side store of used ones.
 */
async function exportToBlob(filter: Filter, status: HTMLElement): Promise<void> {
  const response = await request('POST', '/v1/events/export', filter);
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = /filename="([\w.:-]+)"/.exec(disposition)?.[1] ?? 'events.csv';
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = h('a', { class: 'sr-only' });
  link.href = url;
  link.download = name.replace(/:/g, '-');
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  fill(status, `Exported ${formatNumber(blob.size)} bytes as ${link.download}.`);
}

async function exportCsv(filter: Filter, status: HTMLElement): Promise<void> {
  fill(status, 'Exporting…');
  const pick = (window as Window & { showSaveFilePicker?: SaveFilePicker }).showSaveFilePicker;
  try {
    await (pick ? exportToFile(pick.bind(window), filter, status) : exportToBlob(filter, status));
  } catch (error) {
    fill(status, isNotFound(error) ? notAvailable('CSV export (POST /v1/events/export)') : errorMessage(error));
  }
}

function detail(event: StoredEvent, zone: string): HTMLElement {
  const status = h('p', { aria: { live: 'polite' } });
  const json = (value: unknown) => h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
  const row = (label: string, value: Node | string) => [h('dt', {}, label), h('dd', {}, value)];
  const heading = h('h2', { tabindex: -1 }, 'Event ', h('code', {}, event.eventId));
  const root = h(
    'section',
    { class: 'panel wide detail', id: 'event-detail', aria: { label: 'Event detail' } },
    heading,
    h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: () => void copyText(JSON.stringify(event, null, 2), status) }, 'Copy as JSON'), h('button', { type: 'button', onclick: () => void copyText(curlOf('GET', `/v1/events/${event.eventId}`), status) }, 'Copy as curl')),
    status,
    h(
      'dl',
      { class: 'fields' },
      ...row('Timestamp', formatInstant(event.timestamp, zone, true)),
      ...row('Received', formatInstant(event.receivedAt, zone, true)),
      ...row('Stored', formatInstant(event.storedAt, zone, true)),
      ...row('Type', event.type),
      ...row('Category', event.category),
      ...row('Action', event.action),
      ...row('Label', event.label ?? '—'),
      ...row('Value', event.value === null ? '—' : String(event.value)),
      ...row('User', event.userId ?? '—'),
      ...row('Session', event.sessionId ?? '—'),
    ),
    h('h3', {}, 'Properties'),
    json(event.properties),
    h('h3', {}, 'Context'),
    json(event.context),
    h('h3', {}, 'Metadata'),
    json(event.metadata),
  );
  requestAnimationFrame(() => heading.focus());
  return root;
}

export function renderExplorer(main: HTMLElement, route: Route): Cleanup {
  const win = windowOf(route);
  const filter = filterOf(route);
  const limit = Number(route.params.get('limit') ?? '50');
  const cursor = route.params.get('cursor');
  const results = panel('Events', { wide: true, id: 'results' });
  const tools = h('p', { aria: { live: 'polite' } });
  const selected = route.params.get('event');
  const detailBox = h('div');
  fill(
    main,
    h('div', { class: 'view-head' }, h('h1', {}, 'Explorer'), h('p', { class: 'muted' }, `${win.range.label}, ${win.zone}`)),
    periodControls(route, win),
    form(route),
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'button', onclick: () => void exportCsv(filter, tools) }, 'Export CSV (whole filter)'),
      h('button', { type: 'button', onclick: () => void copyText(curlOf('POST', '/v1/events/query', { ...filter, limit }), tools) }, 'Copy query as curl'),
      h('button', { type: 'button', onclick: () => void copyText(JSON.stringify({ ...filter, limit }, null, 2), tools) }, 'Copy query as JSON'),
    ),
    tools,
    detailBox,
    h('div', { class: 'grid' }, results.root),
  );
  document.body.dataset['explorer'] = 'loading';
  const loads: Promise<void>[] = [];
  if (selected) {
    loads.push(loadInto(detailBox, async () => detail(await getJson<StoredEvent>(`/v1/events/${encodeURIComponent(selected)}`), win.zone)));
  }
  loads.push(
    loadInto(results.body, async () => {
      const page = await postJson<EventPage>('/v1/events/query', { ...filter, limit, ...(cursor ? { cursor } : {}) });
      const summary = h('p', { data: { total: String(page.total) } }, `${formatNumber(page.total)} events match${cursor ? ' (a later page)' : ''}; ${formatNumber(page.events.length)} shown.`);
      const paging = h(
        'div',
        { class: 'buttons' },
        cursor ? h('button', { type: 'button', onclick: () => navigate('explorer', withParams(route, { cursor: undefined, event: undefined })) }, 'First page') : null,
        page.hasMore && page.nextCursor ? h('button', { type: 'button', data: { next: '' }, onclick: () => navigate('explorer', withParams(route, { cursor: page.nextCursor ?? undefined, until: String(filter['endTime']), event: undefined })) }, 'Next page') : null,
      );
      const rows = page.events.map((event) => [
        h('button', { type: 'button', class: 'link', aria: { label: `Show event ${event.eventId}` }, onclick: () => navigate('explorer', withParams(route, { event: event.eventId })) }, formatInstant(event.timestamp, win.zone, true)),
        event.type,
        h('span', { class: 'text-cell' }, event.category),
        h('span', { class: 'text-cell' }, event.action),
        h('span', { class: 'text-cell' }, event.label ?? ''),
        event.value === null ? '' : formatNumber(event.value),
        h('span', { class: 'text-cell mono' }, event.userId ?? event.sessionId ?? ''),
      ]);
      const content = h('div', {}, summary, table('Matching events', ['Time', 'Type', 'Category', 'Action', 'Label', 'Value', 'User or session'], rows, { numeric: [5], class: 'events' }), paging);
      return content;
    }),
  );
  void Promise.all(loads).then(() => {
    if (main.isConnected) document.body.dataset['explorer'] = 'complete';
  });
  return () => undefined;
}
