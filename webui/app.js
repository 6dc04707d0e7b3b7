// paird dashboard: polls the API with one request in flight at a time and
// builds the DOM with textContent only (no innerHTML). It is authenticated
// by the session cookie the one-time login URL set (HttpOnly: sent by the
// browser on same-origin requests, never readable here), or by a token
// typed into the form, kept in sessionStorage and sent as a bearer token.
const api = '/api/v1';
const $ = (sel) => document.querySelector(sel);
let inflight = false;

function headers(extra = {}) {
  const h = { ...extra };
  const token = sessionStorage.getItem('paird-token');
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

async function call(method, path, body) {
  const init = {
    method,
    credentials: 'same-origin', // the session cookie; never sent cross-origin
    headers: headers(body ? { 'Content-Type': 'application/json' } : {}),
  };
  if (body) init.body = JSON.stringify(body);
  const res = await fetch(api + path, init);
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const why = res.status === 401
      ? 'not logged in: open the login URL paird logged at start (or send it SIGHUP for a new one), or enter the API token above'
      : data && data.detail ? data.detail : res.statusText;
    throw new Error(`${res.status}: ${why}${data && data.field ? ` (${data.field})` : ''}`);
  }
  return data;
}

function showError(err) {
  const p = $('#error');
  p.hidden = !err;
  p.textContent = err ? String(err.message || err) : '';
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function render(ports) {
  const tbody = $('#ports tbody');
  const rows = ports.map((p) => {
    const tr = document.createElement('tr');
    tr.append(cell(p.name), cell(p.type), cell(p.state, `state-${p.state}`),
      cell(p.mtu ?? '—', 'num'), cell(p.mac ?? '—'), cell(p.addresses.join(', ') || '—'),
      cell(String(p.counters.rx_frames), 'num'), cell(String(p.counters.tx_frames), 'num'));
    const td = document.createElement('td');
    const del = document.createElement('button');
    del.textContent = 'Delete';
    del.addEventListener('click', async () => {
      try { await call('DELETE', `/ports/${encodeURIComponent(p.name)}`); showError(null); refresh(); }
      catch (e) { showError(e); }
    });
    td.append(del);
    tr.append(td);
    return tr;
  });
  tbody.replaceChildren(...rows);
  $('#empty').hidden = ports.length > 0;
}

async function refresh() {
  if (inflight) return;
  inflight = true;
  try {
    const health = await fetch('/healthz').then((r) => r.json());
    const failed = (health.failed_ports || []).map((p) => `${p.name} (${p.state})`);
    $('#health').textContent = `v${health.version}, up ${health.uptime_seconds}s` +
      (failed.length ? `, degraded: ${failed.join(', ')}` : '');
    const data = await call('GET', '/ports');
    render(data.ports);
    showError(null);
  } catch (e) {
    showError(e);
  } finally {
    inflight = false;
  }
}

$('#token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  sessionStorage.setItem('paird-token', $('#token').value.trim());
  $('#token').value = '';
  refresh();
});

$('#create').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const body = { name: form.get('name'), type: form.get('type') };
  const addrs = String(form.get('addresses') || '').split(',').map((s) => s.trim()).filter(Boolean);
  if (addrs.length) body.addresses = addrs;
  try { await call('POST', '/ports', body); ev.target.reset(); showError(null); refresh(); }
  catch (e) { showError(e); }
});

refresh();
setInterval(refresh, 2000);
