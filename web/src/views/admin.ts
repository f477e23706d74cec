import { deleteJson, getJson, postJson, query } from '../api.js';
import { fill, h, panel, table } from '../dom.js';
import type { Cleanup } from '../main.js';
import { navigate, withParams, type Route } from '../route.js';
import { getToken, hasScope } from '../session.js';
import { formatInstant, formatNumber } from '../time.js';
import { windowOf } from './controls.js';
import type { AuditPage, CreatedWriteKey, RetentionStatus, WriteKeySummary } from '../types.js';
import { copyText, errorMessage, field, loadInto } from '../ui.js';

const AUDIT_ACTIONS = ['EVENTS_TRACKED', 'EVENTS_BATCH_PROCESSED', 'EVENTS_QUERIED', 'EVENTS_PURGED', 'SECURITY_EVENT'];

function keysPanel(body: HTMLElement, zone: string): Promise<void> {
  const created = h('div', { aria: { live: 'polite' } });
  const listBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: '100', autocomplete: 'off' });
  const reload = () =>
    loadInto(listBox, async () => {
      const { keys } = await getJson<{ keys: WriteKeySummary[] }>('/v1/keys');
      if (keys.length === 0) return h('p', { class: 'muted' }, 'No write keys yet.');
      return table(
        'Write keys',
        ['Name', 'Key id', 'Created', 'By', 'State', ''],
        keys.map((key) => [
          h('span', { class: 'text-cell' }, key.name),
          h('code', {}, key.keyId),
          formatInstant(key.createdAt, zone),
          h('span', { class: 'text-cell' }, key.createdBy),
          key.revokedAt ? `revoked ${formatInstant(key.revokedAt, zone)}` : 'active',
          key.revokedAt ? '' : revokeButton(key, reload),
        ]),
      );
    });
  const create = async (event: SubmitEvent) => {
    event.preventDefault();
    try {
      const key = await postJson<CreatedWriteKey>('/v1/keys', { name: name.value.trim() });
      name.value = '';
      const secret = h('input', { type: 'text', readonly: true, value: key.key, class: 'mono', aria: { label: 'The new write key' }, data: { newKey: '' } });
      const status = h('span', { aria: { live: 'polite' } });
      fill(
        created,
        h(
          'div',
          { class: 'notice', role: 'status' },
          h('p', {}, h('strong', {}, 'Copy this key now: '), 'it is shown once and stored only as a hash.'),
          secret,
          h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: () => void copyText(key.key, status) }, 'Copy key'), h('button', { type: 'button', onclick: () => fill(created) }, 'Done, hide it')),
          status,
        ),
      );
      secret.select();
      await reload();
    } catch (error) {
      fill(created, errorMessage(error));
    }
  };
  fill(
    body,
    h('form', { class: 'inline-form', onsubmit: (event) => void create(event) }, field('New key name', name, 'A key may only send events (events:write).'), h('button', { type: 'submit', class: 'primary' }, 'Create write key')),
    created,
    listBox,
  );
  return reload();
}

/** Revoking asks once more in the page itself (no dialog), then revokes. */
function revokeButton(key: WriteKeySummary, reload: () => Promise<void>): HTMLElement {
  const box = h('span', {});
  const ask = h('button', {
    type: 'button',
    aria: { label: `Revoke ${key.name}` },
    onclick: () => {
      const confirm = h('button', {
        type: 'button',
        class: 'danger',
        onclick: async () => {
          try {
            await deleteJson(`/v1/keys/${encodeURIComponent(key.keyId)}`);
            await reload();
          } catch (error) {
            fill(box, errorMessage(error));
          }
        },
      }, 'Confirm revoke');
      fill(box, confirm, ' ', h('button', { type: 'button', onclick: () => fill(box, ask) }, 'Cancel'));
      confirm.focus();
    },
  }, 'Revoke');
  fill(box, ask);
  return box;
}

function auditPanel(body: HTMLElement, route: Route, zone: string): Promise<void> {
  const action = route.params.get('action') ?? '';
  const before = route.params.get('before') ?? '';
  const select = h('select', { name: 'action', onchange: () => navigate('admin', withParams(route, { action: select.value, before: undefined })) }, h('option', { value: '' }, 'Every action'), ...AUDIT_ACTIONS.map((name) => h('option', { value: name, selected: name === action }, name)));
  const limit = route.params.get('limit') ?? '50';
  const limitSelect = h('select', { name: 'limit', onchange: () => navigate('admin', withParams(route, { limit: limitSelect.value, before: undefined })) }, ...['20', '50', '100', '500'].map((value) => h('option', { value, selected: value === limit }, value)));
  const entries = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  fill(body, h('div', { class: 'controls' }, field('Action', select), field('Entries', limitSelect)), entries);
  return loadInto(entries, async () => {
    const page = await getJson<AuditPage>(`/v1/audit${query({ action, before, limit })}`);
    if (page.entries.length === 0) return h('p', { class: 'muted' }, 'No audit entries.');
    return h(
      'div',
      {},
      table(
        'Audit log, newest first',
        ['When', 'Action', 'Actor', 'Details'],
        page.entries.map((entry) => [formatInstant(entry.occurredAt, zone, true), entry.action, h('span', { class: 'text-cell' }, entry.actor), h('code', { class: 'text-cell' }, JSON.stringify(entry.details))]),
      ),
      h(
        'div',
        { class: 'buttons' },
        before ? h('button', { type: 'button', onclick: () => navigate('admin', withParams(route, { before: undefined })) }, 'Newest') : null,
        page.nextBefore ? h('button', { type: 'button', onclick: () => navigate('admin', withParams(route, { before: String(page.nextBefore) })) }, 'Older') : null,
      ),
    );
  });
}

function retentionPanel(body: HTMLElement, zone: string): Promise<void> {
  return loadInto(
    body,
    async () => {
      const status = await getJson<RetentionStatus>('/v1/admin/retention');
      const when = (value: string | null) => (value ? formatInstant(value, zone) : '—');
      return [
        h(
          'dl',
          { class: 'fields' },
          h('dt', {}, 'Events kept'),
          h('dd', {}, `${status.eventRetentionDays} days${status.tenantEventDays !== null ? ` (this tenant: ${status.tenantEventDays} days)` : ''}`),
          h('dt', {}, 'Rollups kept'),
          h('dd', {}, `${status.rollupRetentionDays} days`),
          h('dt', {}, 'Last run'),
          h('dd', {}, when(status.lastRun)),
        ),
        status.runs.length === 0
          ? h('p', { class: 'muted' }, 'No retention runs yet.')
          : table(
              'Retention runs',
              ['Kind', 'Month', 'State', 'Rows', 'Bytes', 'Started', 'Finished', 'Error'],
              status.runs.map((run) => [run.kind, run.month, run.state, run.rows === null ? '—' : formatNumber(run.rows), run.bytes === null ? '—' : formatNumber(run.bytes), when(run.startedAt), when(run.finishedAt), h('span', { class: 'text-cell' }, run.error ?? '')]),
              { numeric: [3, 4] },
            ),
      ];
    },
    'Retention status (GET /v1/admin/retention)',
  );
}

export function renderAdmin(main: HTMLElement, route: Route): Cleanup {
  if (!hasScope(getToken(), 'admin')) {
    fill(main, h('h1', {}, 'Admin'), h('p', { class: 'notice', role: 'status' }, 'This view needs a token with the admin scope.'));
    return () => undefined;
  }
  const { zone } = windowOf(route);
  const keys = panel('Write keys', { wide: true, id: 'keys' });
  const audit = panel('Audit log', { wide: true, id: 'audit' });
  const retention = panel('Retention', { wide: true, id: 'retention' });
  fill(main, h('div', { class: 'view-head' }, h('h1', {}, 'Admin')), h('div', { class: 'grid' }, keys.root, audit.root, retention.root));
  document.body.dataset['admin'] = 'loading';
  void Promise.all([keysPanel(keys.body, zone), auditPanel(audit.body, route, zone), retentionPanel(retention.body, zone)]).then(() => {
    if (main.isConnected) document.body.dataset['admin'] = 'complete';
  });
  return () => undefined;
}
