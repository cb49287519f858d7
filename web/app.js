/*
 * app.js: the opencapf web UI. Plain JavaScript, no build step, no outside
 * code: each page (body[data-page]) is drawn from the admin API (/api/v1,
 * docs/api.md) with the browser session cookie. Text from the API is only
 * ever put into the page with textContent, never as HTML. Changes carry the
 * session's CSRF token in the X-CSRF-Token header. Live pages poll the API
 * every few seconds while they are visible.
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
function showNotice(text) { show('notice', text); if (text) showError(''); }

function statusClass(s) {
  if (!s) return '';
  if (/Success/.test(s)) return 'ok';
  if (/Failed/.test(s)) return 'bad';
  if (/Pending/.test(s)) return 'pending';
  return '';
}

function badge(text, cls) { return el('span', { class: 'badge ' + (cls || ''), text: text }); }

function dateOnly(t) { return t ? String(t).slice(0, 10) : '—'; }

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
    try { await fn(); } catch (e) { if (e.status !== 401) showError(e.message); } finally { busy = false; }
  };
  tick();
  setInterval(tick, ms);
  document.addEventListener('visibilitychange', tick);
}

/* ---- the frame of every page ---- */

const NAV = [
  ['dashboard', '/', 'Dashboard'], ['phones', '/phones.html', 'Phones'], ['trust', '/trust.html', 'Trust stores'],
  ['capf', '/capf.html', 'CAPF certificate'],
];

function drawHeader() {
  const page = document.body.dataset.page;
  const nav = el('nav', {}, ...NAV.map(([id, href, label]) =>
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

function card(n, label, cls) {
  return el('div', { class: 'card' }, el('div', { class: 'n ' + (cls || ''), text: String(n) }), el('div', { class: 'l', text: label }));
}

async function refreshDashboard() {
  const d = await api('GET', '/api/v1/dashboard');
  clear($('lsc-cards')).append(card(d.lsc.total, 'phones'), card(d.lsc.installed, 'LSC installed', 'ok'),
    card(d.lsc.none, 'no LSC'), card(d.lsc.expiring, 'LSC expiring (30 days)', 'warn'),
    card(d.lsc.expired, 'LSC expired', 'bad'));
  clear($('op-cards')).append(card(d.operations.install, 'Install/Upgrade pending', 'pending'),
    card(d.operations.delete, 'Delete pending', 'pending'), card(d.operations.troubleshoot, 'Troubleshoot pending', 'pending'),
    card(d.failed, 'phones whose last attempt failed', d.failed ? 'bad' : ''));
  const c = d.capf;
  clear($('capf-summary')).append(c
    ? el('span', {}, el('strong', { text: c.cn }), ' valid until ' + c.not_after + ': ',
      el('span', { id: 'capf-days', class: c.days_left < 30 ? 'bad' : 'ok', text: c.days_left + ' days left' }))
    : 'no CAPF certificate');
  const rows = clear($('failures'));
  if (!d.recent_failures.length) rows.append(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: 'none' })));
  for (const f of d.recent_failures)
    rows.append(el('tr', {}, el('td', {}, el('a', { href: '/phone.html?name=' + encodeURIComponent(f.name), text: f.name })),
      el('td', { text: f.operation }), el('td', {}, badge(f.status, 'bad')), el('td', { text: f.last_contact || '—' })));
}

/* ---- phones ---- */

const PAGE = 50;
let phoneOffset = 0;

function phoneQuery() {
  const q = new URLSearchParams();
  for (const [id, key] of [['f-name', 'name'], ['f-model', 'model'], ['f-lsc', 'lsc_status'], ['f-op', 'operation'],
    ['f-status', 'status']]) {
    const v = $(id).value.trim();
    if (v) q.set(key, v);
  }
  q.set('limit', PAGE);
  q.set('offset', phoneOffset);
  return q;
}

function lscCell(p) {
  if (!p.lsc) return el('span', { class: 'muted', text: 'none' });
  return el('span', {}, dateOnly(p.lsc.not_after));
}

async function refreshPhones() {
  const d = await api('GET', '/api/v1/phones?' + phoneQuery());
  const rows = clear($('phone-rows'));
  for (const p of d.phones) {
    const op = p.operation === 'none' ? '—' : p.operation;
    rows.append(el('tr', { 'data-name': p.name },
      el('td', {}, el('input', { type: 'checkbox', class: 'pick', value: p.name, 'aria-label': 'select ' + p.name })),
      el('td', {}, el('a', { href: '/phone.html?name=' + encodeURIComponent(p.name), text: p.name })),
      el('td', { text: p.model || '—' }), el('td', { text: p.auth }), el('td', { text: op }),
      el('td', {}, p.status ? badge(p.status, statusClass(p.status)) : el('span', { class: 'muted', text: '—' })),
      el('td', {}, lscCell(p))));
  }
  if (!d.phones.length) rows.append(el('tr', {}, el('td', { colspan: 7, class: 'muted', text: 'no phone matches' })));
  $('page-info').textContent = d.total ? `${d.offset + 1}–${d.offset + d.phones.length} of ${d.total}` : '0 phones';
  $('prev').disabled = d.offset === 0;
  $('next').disabled = d.offset + d.phones.length >= d.total;
  $('select-all').checked = false;
}

function pagePhones() {
  const reload = () => refreshPhones().catch((e) => showError(e.message));
  $('search').addEventListener('submit', (ev) => { ev.preventDefault(); phoneOffset = 0; reload(); });
  $('prev').addEventListener('click', () => { phoneOffset = Math.max(0, phoneOffset - PAGE); reload(); });
  $('next').addEventListener('click', () => { phoneOffset += PAGE; reload(); });
  $('select-all').addEventListener('change', (ev) => {
    document.querySelectorAll('input.pick').forEach((c) => { c.checked = ev.target.checked; });
  });
  $('bulk-apply').addEventListener('click', async () => {
    const names = [...document.querySelectorAll('input.pick:checked')].map((c) => c.value);
    if (!names.length) { showError('select phones first'); return; }
    const body = { filter: { names }, operation: $('bulk-op').value };
    if ($('bulk-by').value.trim()) body.by = $('bulk-by').value.trim();
    try {
      const r = await api('POST', '/api/v1/phones/schedule', body);
      showNotice(`${r.operation} scheduled on ${r.count} phone${r.count === 1 ? '' : 's'}` + (r.warning ? ' — ' + r.warning : ''));
      reload();
    } catch (e) { showError(e.message); }
  });
  $('add-phone').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { name: $('add-name').value.trim(), model: $('add-model').value.trim(), auth: $('add-auth').value };
    if ($('add-auth-string').value.trim()) body.auth_string = $('add-auth-string').value.trim();
    try {
      const p = await api('POST', '/api/v1/phones', body);
      showNotice('phone ' + p.name + ' added');
      reload();
    } catch (e) { showError(e.message); }
  });
  const q = new URLSearchParams(location.search);
  if (q.get('name')) $('f-name').value = q.get('name');
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

async function refreshPhone(name) {
  const p = await api('GET', '/api/v1/phones/' + encodeURIComponent(name));
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
    ['LSC', p.lsc ? el('span', { class: 'ok', text: 'Installed, valid until ' + p.lsc.not_after }) : 'none', 'info-lsc'],
    ['Last contact', p.last_contact],
    ['Locked until', p.locked_until],
  ]);
  kv($('certs'), [['LSC', certText(p.lsc), 'cert-lsc'], ['MIC (last seen)', certText(p.mic), 'cert-mic']]);
  const rows = clear($('history'));
  for (const h of p.history)
    rows.append(el('tr', {}, el('td', { text: h.time }), el('td', { text: h.peer }), el('td', { text: h.operation }),
      el('td', { text: h.auth }), el('td', {}, badge(h.outcome, statusClass(h.outcome))), el('td', { text: h.reason })));
  if (!p.history.length) rows.append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'no CAPF session yet' })));
  drawSettings(p);
}

function pagePhone() {
  const name = new URLSearchParams(location.search).get('name') || '';
  $('op-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { operation: $('op-select').value };
    if ($('op-by').value.trim()) body.by = $('op-by').value.trim();
    try {
      const r = await api('POST', '/api/v1/phones/' + encodeURIComponent(name) + '/operation', body);
      showNotice(r.operation_label + (r.deadline ? ', completes by ' + r.deadline : '') + (r.warning ? ' — ' + r.warning : ''));
      await refreshPhone(name);
    } catch (e) { showError(e.message); }
  });
  $('settings-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { auth: $('s-auth').value, key_order: $('s-key-order').value, rsa_bits: Number($('s-rsa').value),
      ec_bits: Number($('s-ec').value), model: $('s-model').value, description: $('s-description').value };
    if ($('s-auth-string').value.trim()) body.auth_string = $('s-auth-string').value.trim();
    try {
      await api('PATCH', '/api/v1/phones/' + encodeURIComponent(name), body);
      $('s-auth-string').value = '';
      showNotice('settings saved');
      await refreshPhone(name);
    } catch (e) { showError(e.message); }
  });
  poll(() => refreshPhone(name), 2000);
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
    showNotice('removed ' + cert.subject + ' from ' + store + (force ? ' (forced)' : ''));
    await showStore(store);
    await refreshStores();
  } catch (e) {
    showError(e.message);
    if (e.status === 409 && !force && App.session.role === 'admin') {
      const again = el('button', { class: 'danger', type: 'button', id: 'force-remove', text: 'Remove anyway',
        onclick: () => { if (confirm('Phones that depend on this certificate will fail TLS. Remove it anyway?')) removeCert(store, cert, true); } });
      $('error').append(' ', again);
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
    rows.append(el('tr', { 'data-sha256': c.sha256 }, el('td', {}, subject),
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
      showNotice(`${r.added.length} added, ${r.already_present.length} already present`);
      $('add-pem').value = '';
      await showStore(currentStore);
      await refreshStores();
    } catch (e) { showError(e.message); }
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
        'schedule Install/Upgrade on them before retiring it.' : `Every phone has moved off ${d.previous.cn}: it can be retired.` }));
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
      showNotice(`new CAPF certificate ${r.new.cn}; the previous one (${r.previous.cn}) stays trusted. ` + r.warning);
      await refreshCapf();
    } catch (e) { showError(e.message); }
  });
  $('csr-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api('POST', '/api/v1/capf/csr', { new_key: $('csr-new-key').checked });
      const out = $('csr-out');
      out.textContent = r.csr;
      out.classList.remove('hidden');
      showNotice('CSR for ' + r.subject);
    } catch (e) { showError(e.message); }
  });
  $('import-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!confirm('Import this CAPF certificate? Phones reset when they load the new ITL.')) return;
    try {
      const r = await api('POST', '/api/v1/capf/import', { certificate: $('import-pem').value });
      showNotice('imported ' + r.new.cn);
      await refreshCapf();
    } catch (e) { showError(e.message); }
  });
  poll(refreshCapf, 5000);
}

/* ---- start ---- */

const PAGES = { dashboard: () => poll(refreshDashboard, 3000), phones: pagePhones, phone: pagePhone, trust: pageTrust,
  capf: pageCapf };

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
