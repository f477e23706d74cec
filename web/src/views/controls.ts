import { h } from '../dom.js';
import { navigate, withParams, type Route } from '../route.js';
import { browserZone, isZone, PERIODS, rangeOf, toLocalInput, zoneNames, type Range } from '../time.js';
import { field } from '../ui.js';

export interface TimeWindow {
  range: Range;
  zone: string;
}

/** The period and time zone the URL names (the browser's zone and 30 days when it names none). */
export function windowOf(route: Route): TimeWindow {
  const asked = route.params.get('tz') ?? '';
  const zone = asked && isZone(asked) ? asked : browserZone();
  return { zone, range: rangeOf(route.params, zone) };
}

/**
 * The period picker (last hour to 90 days, or custom from/to in the chosen zone) and the time
 * zone picker; each change is a new URL.
 */
export function periodControls(route: Route, win: TimeWindow): HTMLElement {
  const period = route.params.get('period') ?? '30d';
  const select = h(
    'select',
    { name: 'period', onchange: () => (select.value === 'custom' ? (custom.hidden = false) : navigate(route.view, withParams(route, { period: select.value, from: undefined, to: undefined, cursor: undefined, until: undefined }))) },
    ...PERIODS.map((item) => h('option', { value: item.key, selected: item.key === period }, item.label)),
    h('option', { value: 'custom', selected: period === 'custom' }, 'Custom…'),
  );
  const zone = h('select', { name: 'tz', onchange: () => navigate(route.view, withParams(route, { tz: zone.value, cursor: undefined, until: undefined })) }, ...zoneNames(win.zone).map((name) => h('option', { value: name, selected: name === win.zone }, name)));
  const from = h('input', { type: 'datetime-local', name: 'from', value: toLocalInput(win.range.start, win.zone) });
  const to = h('input', { type: 'datetime-local', name: 'to', value: toLocalInput(win.range.end, win.zone) });
  const custom = h(
    'div',
    { class: 'custom-range' },
    field('From', from),
    field('To', to),
    h('button', { type: 'button', onclick: () => navigate(route.view, withParams(route, { period: 'custom', from: from.value, to: to.value, cursor: undefined, until: undefined })) }, 'Apply range'),
  );
  custom.hidden = period !== 'custom';
  return h('div', { class: 'controls', role: 'group', aria: { label: 'Period and time zone' } }, field('Period', select), custom, field('Time zone', zone));
}
