/*
 * app.js: the opencapf web UI. Plain JavaScript, no build step, no outside
 * code: each page (body[data-page]) is drawn from the admin API (/api/v1,
 * docs/api.md) with the browser session cookie. Text from the API is only
 * ever put into the page with textContent, never as HTML. Changes carry the
 * session's CSRF token in the X-CSRF-Token header. Live pages poll the API
 * every few seconds while they are visible. Pictures are inline SVG drawn
 * by the small chart code below (nothing is fetched from outside).
 *
 * Messages go next to what caused them: a form's result or error appears in
 * a box right after that form (say()), not at the top of the page; the top
 * box (#error) is for the page's own loading.
 */
'use strict';

const App = { session: null, csrf: '' };

/* ---- small helpers ---- */

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return e;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

function show(id, text, kind) {
  const box = $(id);
  if (!box) return;
  box.textContent = text || '';
  box.classList.toggle('hidden', !text);
  if (kind) box.className = 'msg ' + kind + (text ? '' : ' hidden');
}
function showError(text) { show('error', text); }

/* A message about `anchor` (a form or button), in the box right after it:
 * kind 'error', 'warning' or 'success'. The box is scrolled into view. */
function say(anchor, text, kind) {
  if (typeof anchor === 'string') anchor = $(anchor);
  let box = anchor.nextElementSibling;
  if (!box || !box.classList.contains('form-msg')) {
    box = el('div', { class: 'msg form-msg', role: 'status', 'aria-live': 'polite' });
    anchor.after(box);
  }
  box.textContent = text || '';
  box.className = 'msg form-msg ' + (kind || 'success') + (text ? '' : ' hidden');
  if (text && box.scrollIntoView) box.scrollIntoView({ block: 'nearest' });
  return box;
}

/* A result that may carry a warning: the warning style then, never green. */
function sayResult(anchor, text, warning) {
  return warning ? say(anchor, text + ' — ' + warning, 'warning') : say(anchor, text, 'success');
}

function statusClass(s) {
  if (!s) return '';
  if (/Success/.test(s)) return 'ok';
  if (/Failed/.test(s)) return 'bad';
  if (/Pending/.test(s)) return 'pending';
  return '';
}

function badge(text, cls) { return el('span', { class: 'badge ' + (cls || ''), text: text }); }

function dateOnly(t) { return t ? String(t).slice(0, 10) : '—'; }

function plural(n, word) {
  if (n === 1) return `1 ${word}`;
  return `${n} ${word.endsWith('y') ? word.slice(0, -1) + 'ies' : word + 's'}`;
}

function phoneLink(name) { return el('a', { href: '/phone.html?name=' + encodeURIComponent(name), text: name }); }

/* ---- the API ---- */

class ApiError extends Error {
  constructor(status, message, data) { super(message); this.status = status; this.data = data; }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && App.csrf) headers['X-CSRF-Token'] = App.csrf;
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
  if (res.status === 401 && document.body.dataset.page !== 'login') {
    location.href = '/login.html';
    throw new ApiError(401, 'not logged in', data);
  }
  if (!res.ok) throw new ApiError(res.status, (data && data.error) || res.statusText, data);
  return data;
}

/* Run fn now and every `ms` while the page is visible; one call at a time. */
function poll(fn, ms) {
  let busy = false;
  const tick = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try { await fn(); showError(''); } catch (e) { if (e.status !== 401) showError(e.message); } finally { busy = false; }
  };
  tick();
  const timer = setInterval(tick, ms);
  document.addEventListener('visibilitychange', tick);
  return () => clearInterval(timer);
}

/* ---- pictures: inline SVG ---- */

const SVGNS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.setAttribute('class', v);
    else e.setAttribute(k, String(v));
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

/* The top of an axis of 4 round steps (1, 2, 5, 10, 20, ... each) reaching max. */
function niceMax(max) {
  const step = Math.max(1, max / 4);
  const p = Math.pow(10, Math.floor(Math.log10(step)));
  for (const m of [1, 2, 5, 10]) if (m * p >= step) return 4 * m * p;
  return 40 * p;
}

const CHART = { w: 640, h: 220, left: 44, right: 12, top: 12, bottom: 34 };

function chartFrame(title, max) {
  const s = svg('svg', { viewBox: `0 0 ${CHART.w} ${CHART.h}`, class: 'chart', role: 'img', 'aria-label': title });
  s.append(svg('title', { text: title }));
  const ih = CHART.h - CHART.top - CHART.bottom;
  for (let i = 0; i <= 4; i++) {
    const y = CHART.top + ih - (ih * i) / 4;
    s.append(svg('line', { x1: CHART.left, x2: CHART.w - CHART.right, y1: y, y2: y, class: 'grid' }));
    s.append(svg('text', { x: CHART.left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end',
      text: String(Math.round((max * i) / 4 * 10) / 10) }));
  }
  return s;
}

/* Bars: labels[i] under bars of values[i]; every `every`-th label shown. */
function barChart(title, labels, values, every) {
  const max = niceMax(Math.max(0, ...values));
  const s = chartFrame(title, max);
  const iw = CHART.w - CHART.left - CHART.right, ih = CHART.h - CHART.top - CHART.bottom;
  const bw = iw / Math.max(1, values.length);
  values.forEach((v, i) => {
    const h = (ih * v) / max, x = CHART.left + i * bw;
    const bar = svg('rect', { x: x + bw * 0.15, y: CHART.top + ih - h, width: bw * 0.7, height: Math.max(h, v ? 1 : 0),
      class: 'bar', 'data-label': labels[i], 'data-value': v });
    bar.append(svg('title', { text: `${labels[i]}: ${v}` }));
    s.append(bar);
    if (i % (every || 1) === 0)
      s.append(svg('text', { x: x + bw / 2, y: CHART.h - CHART.bottom + 16, class: 'axis', 'text-anchor': 'middle', text: labels[i] }));
  });
  return s;
}

/* Lines: series [{name, cls, values}] over xlabels (first and last shown). */
function lineChart(title, xlabels, series) {
  const all = series.flatMap((x) => x.values);
  const max = niceMax(Math.max(0, ...all));
  const s = chartFrame(title, max);
  const iw = CHART.w - CHART.left - CHART.right, ih = CHART.h - CHART.top - CHART.bottom;
  const n = Math.max(2, xlabels.length);
  const X = (i) => CHART.left + (iw * i) / (n - 1), Y = (v) => CHART.top + ih - (ih * v) / max;
  for (const line of series) {
    const pts = line.values.map((v, i) => `${X(i).toFixed(1)},${Y(v).toFixed(1)}`).join(' ');
    s.append(svg('polyline', { points: pts, class: 'line ' + line.cls, 'data-series': line.name,
      'data-last': line.values.length ? line.values[line.values.length - 1] : 0 }));
  }
  if (xlabels.length) {
    s.append(svg('text', { x: CHART.left, y: CHART.h - CHART.bottom + 16, class: 'axis', text: xlabels[0] }));
    s.append(svg('text', { x: CHART.w - CHART.right, y: CHART.h - CHART.bottom + 16, class: 'axis', 'text-anchor': 'end',
      text: xlabels[xlabels.length - 1] }));
  }
  let lx = CHART.left;
  for (const line of series) {
    s.append(svg('rect', { x: lx, y: CHART.h - 12, width: 10, height: 10, class: 'key ' + line.cls }));
    s.append(svg('text', { x: lx + 14, y: CHART.h - 3, class: 'axis', text: line.name }));
    lx += 24 + line.name.length * 7;
  }
  return s;
}

function timeOfDay(t) { return t ? String(t).slice(11, 16) : ''; }

/* "2026-11-24 18:23:30 UTC" (the API's times) as a Date. */
function utcDate(t) { return new Date(String(t).replace(' UTC', 'Z').replace(' ', 'T')); }

/* ---- the frame of every page ---- */

const NAV = [
  ['dashboard', '/', 'Dashboard'], ['phones', '/phones.html', 'Phones'], ['campaign', '/campaign.html', 'Campaign'],
  ['audit', '/audit.html', 'Audit log'], ['records', '/records.html', 'ITL/CTL/TVS'], ['trust', '/trust.html', 'Trust stores'],
  ['capf', '/capf.html', 'CAPF certificate'], ['tokens', '/tokens.html', 'Tokens', 'admin'],
];

function drawHeader() {
  const page = document.body.dataset.page;
  const items = NAV.filter((n) => !n[3] || App.session.role === n[3]);
  const nav = el('nav', {}, ...items.map(([id, href, label]) =>
    el('a', { href, class: id === page || (page === 'phone' && id === 'phones') ? 'active' : '', text: label })));
  const who = el('span', { class: 'who', id: 'who',
    text: (App.session.label || 'token ' + App.session.token_id) + ' (' + App.session.role + ')' });
  const out = el('button', { class: 'secondary', id: 'logout', type: 'button', text: 'Log out', onclick: logout });
  document.body.prepend(el('header', {}, el('span', { class: 'brand', text: 'opencapf' }), nav, who, out));
  if (App.session.role !== 'admin') document.body.classList.add('read-only');
}

async function logout() {
  try { await api('POST', '/api/v1/logout'); } catch (e) { /* gone anyway */ }
  location.href = '/login.html';
}

/* ---- login ---- */

function pageLogin() {
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    show('login-error', '');
    try {
      await api('POST', '/api/v1/login', { token: $('token').value.trim() });
      location.href = '/';
    } catch (e) {
      show('login-error', e.message);
    }
  });
}

/* ---- dashboard ---- */

function card(n, label, cls, query) {
  return el('a', { class: 'card', href: '/phones.html' + (query ? '?' + query : '') },
    el('div', { class: 'n ' + (cls || ''), text: String(n) }), el('div', { class: 'l', text: label }));
}

async function refreshDashboard() {
  const d = await api('GET', '/api/v1/dashboard');
  clear($('lsc-cards')).append(card(d.lsc.total, 'phones', '', ''),
    card(d.lsc.installed, 'LSC installed', 'ok', 'lsc_status=installed'),
    card(d.lsc.none, 'no LSC', '', 'lsc_status=none'),
    card(d.lsc.expiring, 'LSC expiring (30 days)', 'warn', 'lsc_status=expiring'),
    card(d.lsc.expired, 'LSC expired', 'bad', 'lsc_status=expired'));
  clear($('op-cards')).append(card(d.operations.install, 'Install/Upgrade pending', 'pending', 'operation=install'),
    card(d.operations.delete, 'Delete pending', 'pending', 'operation=delete'),
    card(d.operations.troubleshoot, 'Troubleshoot pending', 'pending', 'operation=troubleshoot'),
    card(d.failed, 'phones whose last attempt failed', d.failed ? 'bad' : '', 'status=Failed'));
  const c = d.capf;
  clear($('capf-summary')).append(c
    ? el('span', {}, el('strong', { text: c.cn }), ' valid until ' + c.not_after + ': ',
      el('span', { id: 'capf-days', class: c.days_left < 30 ? 'bad' : 'ok', text: c.days_left + ' days left' }))
    : 'no CAPF certificate');
  const rows = clear($('failures'));
  if (!d.recent_failures.length) rows.append(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: 'none' })));
  for (const f of d.recent_failures)
    rows.append(el('tr', {}, el('td', {}, phoneLink(f.name)),
      el('td', { text: f.operation }), el('td', {}, badge(f.status, 'bad')), el('td', { text: f.last_contact || '—' })));
  const pending = d.operations.install + d.operations.delete + d.operations.troubleshoot;
  clear($('campaign-link')).append(pending ? el('a', { href: '/campaign.html', id: 'campaign-running',
    text: `${plural(pending, 'operation')} pending: follow them on the campaign page` }) : '');
  if (Date.now() - expiryDrawn > 60000) await drawExpiry(); /* a walk over every phone: once a minute */
  await drawRates($('rates-chart'), 15);
}

let expiryDrawn = 0;

async function drawExpiry() {
  expiryDrawn = Date.now();
  const d = await api('GET', '/api/v1/stats/lsc-expiry?months=24');
  const labels = d.months.map((m) => m.month.slice(2)), values = d.months.map((m) => m.count);
  const box = clear($('expiry-chart'));
  box.append(barChart('LSCs expiring per month', labels, values, 3));
  box.append(el('p', { class: 'muted', id: 'expiry-note', 'data-later': d.later,
    text: `${d.expired} already expired, ${d.none} without an LSC, ${d.later} expiring after ${d.months[d.months.length - 1].month}.` }));
}

/* CAPF sessions and TVS requests per minute over the last `minutes`. */
async function drawRates(box, minutes) {
  const d = await api('GET', '/api/v1/stats/rates?minutes=' + minutes);
  const perMin = (a) => a.map((v) => v * (60 / d.slot_seconds));
  const end = utcDate(d.end);
  const xl = d.capf.map((_, i) => new Date(end - (d.capf.length - i) * d.slot_seconds * 1000).toISOString().slice(11, 19));
  clear(box).append(lineChart('requests per minute', xl, [
    { name: 'CAPF sessions/min', cls: 's-capf', values: perMin(d.capf) },
    { name: 'TVS requests/min', cls: 's-tvs', values: perMin(d.tvs) }]));
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  box.append(el('p', { class: 'muted rates-note', 'data-capf': sum(d.capf), 'data-tvs': sum(d.tvs),
    text: `last ${minutes} minutes: ${sum(d.capf)} CAPF sessions, ${sum(d.tvs)} TVS requests (kept by the daemon since it started).` }));
}

/* ---- phones ---- */

const PAGE = 50;
const FILTERS = [['f-name', 'name'], ['f-model', 'model'], ['f-lsc', 'lsc_status'], ['f-op', 'operation'], ['f-status', 'status']];
let phoneOffset = 0;
/* Filters from the address that have no field here (auth, lsc_issuer,
 * expiring_days, names, ...): kept, shown, and removable. */
let extraFilters = {};

function filterObject() {
  const f = { ...extraFilters };
  for (const [id, key] of FILTERS) {
    const v = $(id).value.trim();
    if (v) f[key] = v;
  }
  return f;
}

function drawExtraFilters(reload) {
  const box = clear($('extra-filters'));
  const keys = Object.keys(extraFilters);
  box.classList.toggle('hidden', !keys.length);
  if (!keys.length) return;
  box.append('Also filtered by: ', ...keys.map((k) => badge(`${k}=${extraFilters[k]}`, 'pending')), ' ',
    el('button', { type: 'button', class: 'secondary', id: 'clear-extra', text: 'Clear these',
      onclick: () => { extraFilters = {}; drawExtraFilters(reload); phoneOffset = 0; reload(); } }));
}

function phoneQuery() {
  const q = new URLSearchParams(filterObject());
  q.set('limit', PAGE);
  q.set('offset', phoneOffset);
  return q;
}

function lscCell(p) {
  if (!p.lsc) return el('span', { class: 'muted', text: 'none' });
  return el('span', { class: p.lsc_state === 'expired' ? 'bad' : '' }, dateOnly(p.lsc.not_after));
}

let lastTotal = 0;

async function refreshPhones() {
  const d = await api('GET', '/api/v1/phones?' + phoneQuery());
  const rows = clear($('phone-rows'));
  for (const p of d.phones) {
    const op = p.operation === 'none' ? '—' : p.operation;
    rows.append(el('tr', { 'data-name': p.name },
      el('td', {}, el('input', { type: 'checkbox', class: 'pick', value: p.name, 'aria-label': 'select ' + p.name })),
      el('td', {}, phoneLink(p.name)),
      el('td', { text: p.model || '—' }), el('td', { text: p.auth }), el('td', { text: op }),
      el('td', {}, p.status ? badge(p.status, statusClass(p.status)) : el('span', { class: 'muted', text: '—' })),
      el('td', {}, lscCell(p))));
  }
  if (!d.phones.length) rows.append(el('tr', {}, el('td', { colspan: 7, class: 'muted', text: 'no phone matches' })));
  lastTotal = d.total;
  $('page-info').textContent = d.total ? `${d.offset + 1}–${d.offset + d.phones.length} of ${d.total}` : '0 phones';
  $('prev').disabled = d.offset === 0;
  $('next').disabled = d.offset + d.phones.length >= d.total;
  $('select-all').checked = false;
  const empty = !Object.keys(filterObject()).length;
  $('bulk-all').textContent = empty ? `Schedule on every phone (${d.total})` : `Schedule on all ${d.total} matching`;
}

function bulkBody(filter) {
  const body = { filter, operation: $('bulk-op').value };
  if ($('bulk-by').value.trim()) body.by = $('bulk-by').value.trim();
  if ($('bulk-note').value.trim()) body.note = $('bulk-note').value.trim();
  return body;
}

function bulkDone(r) {
  const text = `${r.operation} scheduled on ${plural(r.count, 'phone')}` + (r.filter ? ` (${r.filter})` : '');
  const box = sayResult('bulk', text, r.warning);
  box.append(' ', el('a', { href: '/campaign.html', id: 'follow-campaign', text: 'Follow it on the campaign page' }));
}

/* Every phone the filter selects, not only this page: a dry run first,
 * then a confirmation naming the count. */
async function bulkAll() {
  const filter = filterObject();
  const all = !Object.keys(filter).length;
  try {
    const dry = await api('POST', '/api/v1/phones/schedule', { ...bulkBody(filter), dry_run: true, all });
    if (!dry.count) { say('bulk', 'no phone matches the filter', 'warning'); return; }
    const what = all ? 'EVERY phone' : `all ${dry.count} phones matching ${dry.filter}`;
    if (!confirm(`Schedule ${dry.operation} on ${what} (${dry.count})?`)) return;
    bulkDone(await api('POST', '/api/v1/phones/schedule', { ...bulkBody(filter), all }));
    await refreshPhones();
  } catch (e) { say('bulk', e.message, 'error'); }
}

function pagePhones() {
  const reload = () => refreshPhones().catch((e) => showError(e.message));
  const q = new URLSearchParams(location.search);
  const fields = FILTERS.map((f) => f[1]);
  for (const [key, v] of q)
    if (fields.includes(key)) $(FILTERS.find((f) => f[1] === key)[0]).value = v;
    else if (key === 'offset') phoneOffset = Math.max(0, Number(v) || 0);
    else if (key !== 'limit' && v) extraFilters[key] = v;
  drawExtraFilters(reload);
  $('search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    phoneOffset = 0;
    history.replaceState(null, '', '/phones.html' + (Object.keys(filterObject()).length ? '?' + new URLSearchParams(filterObject()) : ''));
    reload();
  });
  $('prev').addEventListener('click', () => { phoneOffset = Math.max(0, phoneOffset - PAGE); reload(); });
  $('next').addEventListener('click', () => { phoneOffset += PAGE; reload(); });
  $('select-all').addEventListener('change', (ev) => {
    document.querySelectorAll('input.pick').forEach((c) => { c.checked = ev.target.checked; });
  });
  $('bulk-apply').addEventListener('click', async () => {
    const names = [...document.querySelectorAll('input.pick:checked')].map((c) => c.value);
    if (!names.length) { say('bulk', 'select phones first, or use "Schedule on all matching"', 'error'); return; }
    try {
      bulkDone(await api('POST', '/api/v1/phones/schedule', bulkBody({ names })));
      reload();
    } catch (e) { say('bulk', e.message, 'error'); }
  });
  $('bulk-all').addEventListener('click', bulkAll);
  $('add-phone').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { name: $('add-name').value.trim(), model: $('add-model').value.trim(), auth: $('add-auth').value };
    if ($('add-auth-string').value.trim()) body.auth_string = $('add-auth-string').value.trim();
    try {
      const p = await api('POST', '/api/v1/phones', body);
      const box = say('add-phone', 'phone ' + p.name + ' added: ', 'success');
      box.append(phoneLink(p.name));
      reload();
    } catch (e) { say('add-phone', e.message, 'error'); }
  });
  reload();
}

/* ---- one phone ---- */

function kv(list, pairs) {
  clear(list);
  for (const [k, v, id] of pairs)
    list.append(el('dt', { text: k }), el('dd', { id }, v === null || v === undefined ? '—' : v));
}

function certText(c) {
  if (!c) return 'none';
  return `${c.subject} — issued by ${c.issuer}, valid until ${c.not_after}, serial ${c.serial}`;
}

let settingsDrawn = false;

function drawSettings(p) {
  if (settingsDrawn) return;
  settingsDrawn = true;
  $('s-auth').value = p.auth;
  $('s-key-order').value = p.key_order;
  $('s-rsa').value = String(p.rsa_bits);
  $('s-ec').value = String(p.ec_bits);
  $('s-model').value = p.model;
  $('s-description').value = p.description;
}

function drawPhone(p) {
  $('phone-name').textContent = p.name + (p.model ? ' (' + p.model + ')' : '');
  const st = p.status ? badge(p.status, statusClass(p.status)) : el('span', { class: 'muted', text: 'None' });
  kv($('capf-info'), [
    ['Certificate Operation', p.operation_label, 'info-operation'],
    ['Authentication Mode', p.auth_label, 'info-auth'],
    ['Authentication String', p.auth === 'string' ? (p.auth_string_set ? '(set)' : '(not set)') : '—'],
    ['Key Order', p.key_order_label],
    ['RSA Key Size (Bits)', String(p.rsa_bits)],
    ['EC Key Size (Bits)', String(p.ec_bits)],
    ['Operation Completes By', p.deadline, 'info-deadline'],
    ['Certificate Operation Status', st, 'info-status'],
    ['LSC', p.lsc ? el('span', { class: p.lsc_state === 'expired' ? 'bad' : 'ok',
      text: (p.lsc_state === 'expired' ? 'Expired ' : 'Installed, valid until ') + p.lsc.not_after }) : 'none', 'info-lsc'],
    ['Last contact', p.last_contact],
    ['Configuration', provisioningText(p.provisioning), 'info-provisioning'],
  ]);
  kv($('certs'), [['LSC', certText(p.lsc), 'cert-lsc'], ['MIC (last seen)', certText(p.mic), 'cert-mic']]);
  const rows = clear($('history'));
  for (const h of p.history)
    rows.append(el('tr', {}, el('td', { text: h.time }), el('td', { text: h.peer }), el('td', { text: h.operation }),
      el('td', { text: h.auth }), el('td', {}, badge(h.outcome, statusClass(h.outcome))),
      el('td', { text: h.reason + (h.count > 1 ? ` (${h.count} times since ${h.first_time})` : '') })));
  if (!p.history.length) rows.append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'no CAPF session yet' })));
  drawSettings(p);
  $('audit-link').href = '/audit.html?object=' + encodeURIComponent(p.name);
  document.querySelectorAll('.needs-phone').forEach((x) => x.classList.remove('hidden'));
}

/* What the provisioning folder holds for the phone (opencapf provision). */
function provisioningText(v) {
  if (!v) return '—';
  if (!v.template) return 'no template (opencapf provision publishes phones with one)';
  return (v.published ? 'published ' + v.published : 'not published yet') +
    (v.encrypted ? ', encrypted' + (v.encrypted_to ? ' to ' + v.encrypted_to.slice(0, 16) + '…' : '') : ', signed');
}

/* The phone does not exist (any more): say so, and offer nothing to edit. */
function phoneMissing(name, why) {
  document.querySelectorAll('.needs-phone').forEach((x) => x.classList.add('hidden'));
  $('phone-name').textContent = 'No such phone';
  clear($('missing')).append(el('p', { id: 'missing-text', text: why || `The phone ${name} does not exist.` }),
    el('p', {}, el('a', { href: '/phones.html', text: 'Back to the phones' }),
      App.session.role === 'admin' ? ' — add it on the phones page (Add a phone).' : ''));
  $('missing').classList.remove('hidden');
}

let stopPhonePoll = null;

async function refreshPhone(name) {
  try {
    drawPhone(await api('GET', '/api/v1/phones/' + encodeURIComponent(name)));
  } catch (e) {
    if (e.status !== 404) throw e;
    if (stopPhonePoll) stopPhonePoll();
    phoneMissing(name, name ? `The phone ${name} does not exist.` : 'No phone named: phone.html?name=SEP… names one.');
  }
}

function findingRow(f) {
  const cls = { ok: 'ok', info: '', warning: 'warn', problem: 'bad' }[f.level] || '';
  return el('li', { class: 'finding' }, badge(f.level, cls), ' ', el('strong', { text: f.topic + ': ' }),
    el('span', { text: f.text }), f.fix ? el('div', { class: 'fix', text: 'Fix: ' + f.fix }) : null,
    f.ref ? el('span', { class: 'muted', text: ' (' + f.ref + ')' }) : null);
}

async function runDiagnose(name) {
  try {
    const d = await api('GET', '/api/v1/phones/' + encodeURIComponent(name) + '/diagnose');
    const box = clear($('diag-out'));
    box.append(el('p', { id: 'diag-summary', text: `Presents: ${d.presents}. ${plural(d.problems || 0, 'problem')}, ` +
      `${plural(d.warnings || 0, 'warning')}.` }));
    const trust = el('tbody');
    for (const t of d.trust || [])
      trust.append(el('tr', {}, el('td', { text: t.store }), el('td', {}, badge(t.accepts ? 'accepts' : 'refuses', t.accepts ? 'ok' : 'bad')),
        el('td', { text: t.accepts ? (t.anchor || '') : (t.reason || '—') })));
    box.append(el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Trust store' }), el('th', { text: 'Verdict' }),
      el('th', { text: 'Anchor or reason' }))), trust));
    box.append(el('ul', { class: 'findings', id: 'diag-findings' }, ...(d.findings || []).map(findingRow)));
    say('diag-button', '');
  } catch (e) { say('diag-button', e.message, 'error'); }
}

async function removePhone(name, force) {
  try {
    await api('DELETE', '/api/v1/phones/' + encodeURIComponent(name) + (force ? '?force=true' : ''));
    if (stopPhonePoll) stopPhonePoll();
    phoneMissing(name, `The phone ${name} was removed${force ? ' (forced)' : ''}.`);
  } catch (e) {
    const box = say('remove-button', e.message, 'error');
    if (e.status === 409 && !force)
      box.append(' ', el('button', { class: 'danger', type: 'button', id: 'remove-force', text: 'Remove anyway',
        onclick: () => { if (confirm(`Remove ${name} with its pending operation?`)) removePhone(name, true); } }));
  }
}

async function revokeLsc(name) {
  const reason = $('revoke-reason').value;
  if (!confirm(`Revoke every unexpired LSC of ${name} (${reason})? Servers checking the CRL or OCSP refuse it from then on.`)) return;
  try {
    const r = await api('POST', '/api/v1/phones/' + encodeURIComponent(name) + '/revoke', { reason });
    const serials = r.revoked.map((x) => x.serial).join(', ');
    say('revoke-form', r.revoked.length ? `revoked ${plural(r.revoked.length, 'LSC')} (${reason}): ${serials}` : 'nothing to revoke',
      r.revoked.length ? 'success' : 'warning');
  } catch (e) { say('revoke-form', e.message, 'error'); }
}

function pagePhone() {
  const name = new URLSearchParams(location.search).get('name') || '';
  $('revoke-form').addEventListener('submit', (ev) => { ev.preventDefault(); revokeLsc(name); });
  $('op-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { operation: $('op-select').value };
    if ($('op-by').value.trim()) body.by = $('op-by').value.trim();
    try {
      const r = await api('POST', '/api/v1/phones/' + encodeURIComponent(name) + '/operation', body);
      sayResult('op-form', r.operation_label + (r.deadline ? ', completes by ' + r.deadline : ''), r.warning);
      await refreshPhone(name);
    } catch (e) { say('op-form', e.message, 'error'); }
  });
  $('settings-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { auth: $('s-auth').value, key_order: $('s-key-order').value, rsa_bits: Number($('s-rsa').value),
      ec_bits: Number($('s-ec').value), model: $('s-model').value, description: $('s-description').value };
    if ($('s-auth-string').value.trim()) body.auth_string = $('s-auth-string').value.trim();
    try {
      await api('PATCH', '/api/v1/phones/' + encodeURIComponent(name), body);
      $('s-auth-string').value = '';
      say('settings-form', 'settings saved', 'success');
      await refreshPhone(name);
    } catch (e) { say('settings-form', e.message, 'error'); }
  });
  $('diag-button').addEventListener('click', () => runDiagnose(name));
  $('remove-button').addEventListener('click', () => {
    if (confirm(`Remove the phone ${name}? Its issued certificates stay on record.`)) removePhone(name, false);
  });
  stopPhonePoll = poll(() => refreshPhone(name), 2000);
}

/* ---- campaign ---- */

async function refreshCampaign() {
  const since = $('c-since').value;
  const d = await api('GET', '/api/v1/stats/campaign?since=' + encodeURIComponent(since));
  const p = d.pending;
  kv($('c-summary'), [
    ['Pending now', el('span', { id: 'c-pending', 'data-n': p.total, text: `${p.total} (install ${p.install}, delete ${p.delete}, troubleshoot ${p.troubleshoot})` })],
    ['Done in the window', el('span', { id: 'c-done', 'data-n': d.done, class: 'ok', text: String(d.done) })],
    ['Failed attempts in the window', el('span', { id: 'c-failed', 'data-n': d.failed, class: d.failed ? 'bad' : '', text: String(d.failed) })],
    ['Pending, last attempt failed', el('a', { href: '/phones.html?status=Failed', text: String(d.pending_failing) })],
    ['Rate (last 5 minutes)', el('span', { id: 'c-rate', text: d.rate_per_minute.toFixed(1) + ' per minute' })],
    ['Estimated end', el('span', { id: 'c-eta', text: d.eta || (p.total ? 'unknown (nothing done lately)' : 'nothing pending') })],
    ['Window', `${d.since} to ${d.now}`],
  ]);
  const capf = await api('GET', '/api/v1/capf');
  if (capf.previous)
    $('c-summary').append(el('dt', { text: 'CAPF rollover' }), el('dd', { id: 'c-rollover',
      text: `${capf.rollover.phones_on_previous} phone(s) still hold LSCs from the previous CAPF certificate ${capf.previous.cn}` }));
  let done = 0, failed = 0;
  const doneCum = [], failedCum = [];
  for (const s of d.series) { done += s.done; failed += s.failed; doneCum.push(done); failedCum.push(failed); }
  clear($('campaign-chart')).append(lineChart('done, pending and failed over time', d.series.map((s) => timeOfDay(s.time)), [
    { name: 'pending', cls: 's-pending', values: d.series.map((s) => s.pending) },
    { name: 'done', cls: 's-done', values: doneCum },
    { name: 'failed', cls: 's-failed', values: failedCum }]));
  const span = (utcDate(d.now) - utcDate(d.since)) / 60000;
  await drawRates($('c-rates'), Math.min(60, Math.max(5, Math.ceil(span))));
}

function pageCampaign() {
  const q = new URLSearchParams(location.search);
  if (q.get('since')) $('c-since').value = q.get('since');
  $('c-since').addEventListener('change', () => refreshCampaign().catch((e) => showError(e.message)));
  poll(refreshCampaign, 2000);
}

/* ---- audit log ---- */

function fieldText(v) {
  if (v === null || v === undefined || v === '') return '—';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/* What an entry did, for people: "operation: none → install; deadline: — → …". */
function auditSummary(e) {
  let d = e.detail;
  if (typeof d === 'string') try { d = JSON.parse(d); } catch (x) { return d; }
  if (!d || typeof d !== 'object') return fieldText(d);
  if ('before' in d || 'after' in d) {
    const b = d.before || {}, a = d.after || {};
    if (!d.before) return 'created: ' + Object.entries(a).filter(([k, v]) => v !== '' && v !== null && k !== 'name')
      .map(([k, v]) => `${k} ${fieldText(v)}`).join(', ');
    if (!d.after) return 'removed (it was: ' + ['operation', 'status', 'auth'].map((k) => `${k} ${fieldText(b[k])}`).join(', ') + ')';
    const changed = Object.keys({ ...b, ...a }).filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k]))
      .map((k) => `${k}: ${fieldText(b[k])} → ${fieldText(a[k])}`);
    const extra = Object.entries(d).filter(([k]) => k !== 'before' && k !== 'after').map(([k, v]) => `${k} ${fieldText(v)}`);
    return (changed.length ? changed.join('; ') : 'no change') + (extra.length ? ' (' + extra.join(', ') + ')' : '');
  }
  return Object.entries(d).map(([k, v]) => `${k}: ${fieldText(v)}`).join('; ');
}

async function refreshAudit() {
  const q = new URLSearchParams();
  for (const [id, key] of [['a-actor', 'actor'], ['a-action', 'action'], ['a-object', 'object'], ['a-since', 'since'], ['a-limit', 'limit']]) {
    const v = $(id).value.trim();
    if (v) q.set(key, v);
  }
  try {
    const d = await api('GET', '/api/v1/audit?' + q);
    const rows = clear($('audit-rows'));
    for (const e of d.entries)
      rows.append(el('tr', { 'data-action': e.action }, el('td', { class: 'nowrap', text: e.time }), el('td', { text: e.actor }),
        el('td', { text: e.action }), el('td', {}, /^SEP[0-9A-F]{12}$/.test(e.object) ? phoneLink(e.object) : e.object),
        el('td', {}, el('div', { class: 'summary', text: auditSummary(e) }),
          e.detail ? el('details', {}, el('summary', { text: 'recorded detail' }),
            el('pre', { text: typeof e.detail === 'string' ? e.detail : JSON.stringify(e.detail, null, 1) })) : null)));
    if (!d.entries.length) rows.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'no entry matches' })));
    say('audit-form', '');
    $('audit-count').textContent = d.entries.length === 1 ? '1 entry, newest first' : `${d.entries.length} entries, newest first`;
  } catch (e) { say('audit-form', e.message, 'error'); }
}

function pageAudit() {
  const q = new URLSearchParams(location.search);
  for (const [id, key] of [['a-actor', 'actor'], ['a-action', 'action'], ['a-object', 'object'], ['a-since', 'since']])
    if (q.get(key)) $(id).value = q.get(key);
  $('audit-form').addEventListener('submit', (ev) => { ev.preventDefault(); refreshAudit(); });
  refreshAudit();
}

/* ---- ITL, CTL and TVS records ---- */

/* The records of a `show itl|ctl` text: number, role, subject, serial. */
function fileRecords(text) {
  const field = (part, tag) => {
    const m = part.match(new RegExp('^\\d+\\s+' + tag + '\\s+\\d+\\s+(.*)$', 'm'));
    return m ? m[1].trim() : '';
  };
  return text.split(/^(?:ITL|CTL) Record #:/m).slice(1).map((part) => ({
    n: part.split('\n')[0].trim(), role: field(part, 'FUNCTION'), subject: field(part, 'SUBJECTNAME'),
    serial: field(part, 'SERIALNUMBER'), signer: /was used to sign/.test(part),
  }));
}

function drawRecords(kind, text) {
  const rows = clear($(kind + '-rows'));
  for (const r of fileRecords(text))
    rows.append(el('tr', {}, el('td', { text: r.n }), el('td', {}, r.role, r.signer ? el('span', {}, ' ', badge('signed the file', 'ok')) : null),
      el('td', { class: 'dn', text: r.subject }), el('td', { class: 'mono', text: r.serial })));
}

async function showFile(kind) {
  const out = $(kind + '-text'), state = $(kind + '-state');
  try {
    const d = await api('GET', '/api/v1/' + kind);
    out.textContent = d.text;
    drawRecords(kind, d.text);
    clear(state).append(badge(d.verified ? 'verified' : 'does not verify', d.verified ? 'ok' : 'bad'),
      ' ' + plural(d.length, 'byte') + (d.path ? ', ' + d.path : '') + (d.note ? ' — ' + d.note : '') + (d.error ? ' — ' + d.error : ''));
  } catch (e) { clear(state).append(el('span', { class: 'bad', text: e.message })); out.textContent = ''; }
}

async function refreshTvs() {
  const d = await api('GET', '/api/v1/tvs');
  const rows = clear($('tvs-rows'));
  for (const t of d.entries)
    rows.append(el('tr', {}, el('td', { class: 'dn' }, el('div', { text: t.subject }), t.note ? el('div', { class: 'muted', text: t.note }) : null),
      el('td', { text: t.roles.join(', ') }), el('td', { text: t.ttl < 0 ? 'default' : t.ttl + ' s' }),
      el('td', { class: t.expired ? 'bad' : '', text: dateOnly(t.not_after) }), el('td', { text: t.source }),
      el('td', { class: 'mono', text: t.sha256.slice(0, 16) + '…' })));
  $('tvs-count').textContent = plural(d.count, 'entry');
}

function pageRecords() {
  $('itl-rebuild').addEventListener('click', async () => {
    try {
      await api('POST', '/api/v1/itl/rebuild');
      say('itl-rebuild', 'ITL rebuilt and published', 'success');
      await showFile('itl');
    } catch (e) { say('itl-rebuild', e.message, 'error'); }
  });
  showFile('itl');
  showFile('ctl');
  refreshTvs().catch((e) => showError(e.message));
}

/* ---- API tokens ---- */

async function refreshTokens() {
  const d = await api('GET', '/api/v1/tokens');
  const rows = clear($('token-rows'));
  for (const t of d.tokens)
    rows.append(el('tr', { 'data-id': t.id }, el('td', { text: String(t.id) }), el('td', { text: t.role }),
      el('td', { text: t.label || '—' }), el('td', { text: t.created }), el('td', { text: t.last_used || 'never' }),
      el('td', {}, t.revoked ? badge('revoked', 'bad') : badge(t.id === d.you ? 'active (you)' : 'active', 'ok')),
      el('td', {}, t.revoked ? null : el('button', { class: 'danger revoke', type: 'button', text: 'Revoke',
        onclick: (ev) => revokeToken(t, t.id === d.you, ev.target) }))));
}

async function revokeToken(t, self, button) {
  const warn = self ? ' This is the token you are logged in with: you will be logged out.' : '';
  if (!confirm(`Revoke token ${t.id} (${t.label || t.role})? Whatever uses it stops working at once.${warn}`)) return;
  try {
    await api('DELETE', '/api/v1/tokens/' + t.id);
    if (self) { location.href = '/login.html'; return; }
    say('token-table', `token ${t.id} revoked`, 'success');
    await refreshTokens();
  } catch (e) { say(button, e.message, 'error'); }
}

function pageTokens() {
  $('token-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const t = await api('POST', '/api/v1/tokens', { role: $('t-role').value, label: $('t-label').value.trim() });
      const box = say('token-form', `token ${t.id} (${t.role}) created. Copy it now: it is shown only this once.`, 'warning');
      box.append(el('input', { id: 'new-token', class: 'mono token-text', readonly: true, value: t.token,
        'aria-label': 'the new token', onfocus: (e) => e.target.select() }));
      $('t-label').value = '';
      await refreshTokens();
    } catch (e) { say('token-form', e.message, 'error'); }
  });
  refreshTokens().catch((e) => showError(e.message));
}

/* ---- trust stores ---- */

let currentStore = '';

async function refreshStores() {
  const d = await api('GET', '/api/v1/trust');
  const rows = clear($('stores'));
  for (const s of d.stores)
    rows.append(el('tr', {}, el('td', {}, el('strong', { text: s.name })), el('td', { text: String(s.count) }),
      el('td', { text: s.description }),
      el('td', {}, el('button', { class: 'secondary', type: 'button', 'data-store': s.name, text: 'Show',
        onclick: () => showStore(s.name) }))));
}

function usageText(u) {
  if (!u || !u.phones) return el('span', { class: 'muted', text: 'none' });
  const names = u.names.join(', ') + (u.phones > u.names.length ? ', …' : '');
  return el('span', { class: 'warn', text: `${u.phones} (${u.lsc_phones} LSC, ${u.mic_phones} MIC): ${names}` });
}

async function removeCert(store, cert, force) {
  const path = '/api/v1/trust/' + encodeURIComponent(store) + '/' + cert.sha256 + (force ? '?force=true' : '');
  try {
    await api('DELETE', path);
    say('certs-table', 'removed ' + cert.subject + ' from ' + store + (force ? ' (forced)' : ''), 'success');
    await showStore(store);
    await refreshStores();
  } catch (e) {
    const box = say('certs-table', e.message, 'error');
    box.id = 'trust-error';
    if (e.status === 409 && !force && App.session.role === 'admin') {
      const again = el('button', { class: 'danger', type: 'button', id: 'force-remove', text: 'Remove anyway',
        onclick: () => { if (confirm('Phones that depend on this certificate will fail TLS. Remove it anyway?')) removeCert(store, cert, true); } });
      box.append(' ', again);
    }
  }
}

async function showStore(name) {
  currentStore = name;
  const d = await api('GET', '/api/v1/trust/' + encodeURIComponent(name));
  $('store-panel').classList.remove('hidden');
  $('store-title').textContent = name + ' (' + d.count + ')';
  $('export-link').href = '/api/v1/trust/' + encodeURIComponent(name) + '/export';
  const rows = clear($('certs'));
  for (const c of d.certificates) {
    const subject = el('div', {}, el('strong', { text: c.subject }),
      c.current_capf ? el('span', {}, ' ', badge('current CAPF', 'ok')) : null,
      c.note ? el('div', { class: 'muted', text: c.note }) : null);
    rows.append(el('tr', { 'data-sha256': c.sha256 }, el('td', { class: 'dn' }, subject),
      el('td', { class: c.expired ? 'bad' : '', text: dateOnly(c.not_after) }), el('td', {}, usageText(c.usage)),
      el('td', { class: 'mono', text: c.sha256.slice(0, 16) + '…' }),
      el('td', {}, el('button', { class: 'danger admin-only remove', type: 'button', text: 'Remove',
        onclick: () => removeCert(name, c, false) }))));
  }
}

function pageTrust() {
  $('add-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { certificates: $('add-pem').value };
    if ($('add-note').value.trim()) body.note = $('add-note').value.trim();
    try {
      const r = await api('POST', '/api/v1/trust/' + encodeURIComponent(currentStore), body);
      say('add-form', `${r.added.length} added, ${r.already_present.length} already present`, 'success');
      $('add-pem').value = '';
      await showStore(currentStore);
      await refreshStores();
    } catch (e) { say('add-form', e.message, 'error'); }
  });
  refreshStores().catch((e) => showError(e.message));
}

/* ---- CAPF certificate ---- */

async function refreshCapf() {
  const d = await api('GET', '/api/v1/capf');
  const c = d.current;
  if (c)
    kv($('current'), [['Common name', c.cn, 'capf-cn'], ['Subject', c.subject], ['Issuer', c.issuer + (c.self_signed ? ' (self-signed)' : '')],
      ['Key', c.key], ['Valid', c.not_before + ' to ' + c.not_after],
      ['Days left', el('span', { class: c.days_left < 30 ? 'bad' : 'ok', text: String(c.days_left) }), 'capf-days-left'],
      ['SHA-256', el('span', { class: 'mono', text: c.sha256 })], ['LSCs issued under it, held now', String(c.lsc_phones)]]);
  const r = d.rollover;
  clear($('rollover')).append(!d.previous ? el('p', { class: 'muted', text: 'No rollover in progress.' })
    : el('p', { id: 'rollover-text', class: r.phones_on_previous ? 'warn' : 'ok',
      text: r.phones_on_previous ? `${r.phones_on_previous} phone(s) still hold LSCs from the previous certificate ${d.previous.cn}: ` +
        'schedule Install/Upgrade on them before retiring it (the campaign page follows it).' : `Every phone has moved off ${d.previous.cn}: it can be retired.` }));
  const rows = clear($('history'));
  for (const h of d.certificates)
    rows.append(el('tr', {}, el('td', {}, badge(h.state, h.state === 'current' ? 'ok' : '')), el('td', { text: h.cn || '?' }),
      el('td', { text: dateOnly(h.not_after) }), el('td', { text: String(h.lsc_phones) })));
}

function pageCapf() {
  $('regen-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!confirm('Regenerate the CAPF certificate? Phones reset when they load the new ITL.')) return;
    const body = {};
    if ($('regen-key').value) body.key = $('regen-key').value;
    if ($('regen-days').value.trim()) body.days = Number($('regen-days').value.trim());
    try {
      const r = await api('POST', '/api/v1/capf/regenerate', body);
      say('regen-form', `new CAPF certificate ${r.new.cn}; the previous one (${r.previous.cn}) stays trusted. ` + r.warning, 'warning');
      await refreshCapf();
    } catch (e) { say('regen-form', e.message, 'error'); }
  });
  $('csr-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api('POST', '/api/v1/capf/csr', { new_key: $('csr-new-key').checked });
      const out = $('csr-out');
      out.textContent = r.csr;
      out.classList.remove('hidden');
      say('csr-form', 'CSR for ' + r.subject, 'success');
    } catch (e) { say('csr-form', e.message, 'error'); }
  });
  $('import-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!confirm('Import this CAPF certificate? Phones reset when they load the new ITL.')) return;
    try {
      const r = await api('POST', '/api/v1/capf/import', { certificate: $('import-pem').value });
      say('import-form', 'imported ' + r.new.cn, 'success');
      await refreshCapf();
    } catch (e) { say('import-form', e.message, 'error'); }
  });
  poll(refreshCapf, 5000);
}

/* ---- start ---- */

const PAGES = { dashboard: () => poll(refreshDashboard, 3000), phones: pagePhones, phone: pagePhone, trust: pageTrust,
  capf: pageCapf, campaign: pageCampaign, audit: pageAudit, records: pageRecords, tokens: pageTokens };

async function start() {
  const page = document.body.dataset.page;
  if (page === 'login') { pageLogin(); return; }
  try {
    App.session = await api('GET', '/api/v1/session');
  } catch (e) {
    if (e.status !== 401) showError(e.message);
    return;
  }
  App.csrf = App.session.csrf || '';
  drawHeader();
  (PAGES[page] || (() => {}))();
}

document.addEventListener('DOMContentLoaded', start);
