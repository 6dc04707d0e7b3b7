// paird dashboard: one ES module, no framework, no build step. It uses only
// the public API (anything it does, curl can do) and builds the DOM with
// createElement/textContent only: captured frames carry attacker bytes, so no
// data ever goes through innerHTML. It is authenticated by a bearer secret:
// a token typed into the form (kept in sessionStorage), or the session the
// one-time login URL opened, which lands here as /#session=ID and is kept in
// localStorage (both this origin's alone, port included: a cookie for
// 127.0.0.1 would go to every local user's web server). The event stream
// and downloads are read with fetch() (EventSource and links cannot send
// the header); while the stream is down the page polls.
const API = '/api/v1';
const $ = (sel, root = document) => root.querySelector(sel);
const HIST_SECONDS = 300;

const state = {
  ports: [],
  hist: new Map(), // series key -> samples [{t, counter totals...}], see sample()
  stale: false,
  host: null, // the machine's host name (GET /api/v1/info), once authenticated
  view: null, // the current view's {refresh(), stop()}
  title: '', // the current view's part of the title
};

// "br0 · paird — HOST": the view first (what tells tabs apart), then the
// machine, from /api/v1/info; until that answered (it needs the token),
// the name the page was reached by.
function setTitle(part) {
  state.title = part;
  const base = `paird — ${state.host || location.hostname}`;
  document.title = part ? `${part} · ${base}` : base;
}

class HttpError extends Error {
  constructor(status, problem) {
    super(`${status}: ${(problem && (problem.detail || problem.title)) || 'request failed'}`);
    this.status = status;
    this.problem = problem;
  }
}

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

// The login URL's answer sends the browser to /#session=ID: the id is kept,
// and leaves the address bar and the history before anything else runs.
function takeSession() {
  const m = /^#session=([0-9a-f]+)$/.exec(location.hash);
  if (!m) return;
  localStorage.setItem('paird-session', m[1]);
  history.replaceState(null, '', location.pathname + location.search);
}
takeSession();

// The token typed in, else the login URL's session.
function authSecret() {
  const token = sessionStorage.getItem('paird-token');
  if (token) return { store: sessionStorage, key: 'paird-token', value: token };
  const session = localStorage.getItem('paird-session');
  if (session) return { store: localStorage, key: 'paird-session', value: session };
  return null;
}

function authHeaders(extra = {}) {
  const h = { ...extra };
  const secret = authSecret();
  if (secret) h.Authorization = `Bearer ${secret.value}`;
  return h;
}

// A 401: the secret sent is wrong or over (a session ends with paird or
// after 12 hours), so it is forgotten and the token asked for.
function unauthorized(sent) {
  const now = authSecret();
  if (sent && now && now.value === sent) now.store.removeItem(now.key);
  showAuth(true);
}

// Every API request: marks paird reachable or not, asks for the token on 401.
async function request(method, path, body, opts = {}) {
  const init = {
    method,
    headers: authHeaders(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    signal: opts.signal,
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  let res;
  try {
    res = await fetch(API + path, init);
  } catch (e) {
    if (e.name !== 'AbortError') setStale(true);
    throw e;
  }
  setStale(false);
  if (res.status === 401) unauthorized(init.headers.Authorization?.slice(7));
  if (opts.raw && res.ok) return res;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) throw new HttpError(res.status, data);
  if (res.status !== 401) showAuth(false);
  if (streamRefused) restartStream();
  return data;
}

function setStale(on) {
  if (state.stale === on) return;
  state.stale = on;
  $('#stale').hidden = !on;
  document.body.classList.toggle('is-stale', on);
}

function showAuth(on) {
  $('#auth').hidden = !on;
  if (on && document.activeElement === document.body) $('#token').focus();
}

$('#token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  sessionStorage.setItem('paird-token', $('#token').value.trim());
  $('#token').value = '';
  showAuth(false);
  restartStream();
  refreshAll();
});

// --- errors beside their field -------------------------------------------

// A form's fields each have a <span class="field-error" data-field=NAME>.
// A problem's `field` (e.g. "addresses[1]", "match.udp_port") goes to the
// longest matching name, else to the form's own error line. It stays until
// dismissed or until that field is edited. A problem may list every
// invalid field in `errors` ([{field, detail}]): each goes beside its own
// field. Without it, `field` and `detail` name one.
function showFormError(form, err) {
  clearFormErrors(form);
  const p = err.problem || {};
  const list = Array.isArray(p.errors) && p.errors.length
    ? p.errors.map((x) => ({ field: String(x.field || ''), text: `${err.status}: ${x.detail || p.title || ''}` }))
    : [{ field: p.field ? String(p.field) : '', text: err.message }];
  const rest = [];
  for (const { field, text } of list) {
    let best = null;
    for (const s of form.querySelectorAll('.field-error')) {
      const f = s.dataset.field;
      if (field === f || field.startsWith(`${f}.`) || field.startsWith(`${f}[`))
        if (!best || f.length > best.dataset.field.length) best = s;
    }
    if (best && !best.hasChildNodes()) showError(form, best, text);
    else rest.push(text + (field ? ` (${field})` : ''));
  }
  if (rest.length) showError(form, $('.form-error', form), rest.join('; '));
}

// @target (a field's error span, or the form's line) shows @text with a
// dismiss button until dismissed or until its input is edited.
function showError(form, target, text) {
  target.replaceChildren(el('span', { text }),
    el('button', { type: 'button', class: 'dismiss', 'aria-label': 'dismiss',
      text: '×', onclick: () => target.replaceChildren() }));
  target.hidden = false;
  const input = target.dataset.field && form.querySelector(`[name="${target.dataset.field}"]`);
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.addEventListener('input', () => {
      target.replaceChildren();
      input.removeAttribute('aria-invalid');
    }, { once: true });
  }
}

function clearFormErrors(form) {
  for (const s of form.querySelectorAll('.field-error, .form-error')) s.replaceChildren();
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}

// A form sends one request at a time: while one is out, another submit
// (a double click, Enter pressed twice) is ignored, so nothing is made or
// sent twice, and the submit button says so (aria-disabled, not disabled:
// the keyboard focus stays on it).
function onSubmit(form, send) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = '1';
    form.setAttribute('aria-busy', 'true');
    for (const b of form.querySelectorAll('button[type=submit]')) b.setAttribute('aria-disabled', 'true');
    try { await send(); } finally {
      delete form.dataset.busy;
      form.removeAttribute('aria-busy');
      for (const b of form.querySelectorAll('button[type=submit]')) b.removeAttribute('aria-disabled');
    }
  });
}

function field(label, name, input) {
  input.name = name;
  input.id = input.id || `f-${name}-${Math.random().toString(36).slice(2, 7)}`;
  return el('div', { class: 'field' }, el('label', { for: input.id, text: label }), input,
    el('span', { class: 'field-error', 'data-field': name, role: 'alert' }));
}

// Lists are rebuilt on every refresh (one comes with each event, and at
// least every 2 s): @rebuild() replaces what is in @root, and the keyboard
// focus, if it was on a control of an item (an element with data-key),
// goes back to the same control of the item with that key, instead of
// falling to the page's body between a Tab and an Enter.
const FOCUSABLE = 'a[href], button, input, select, textarea, [tabindex]';
function keepFocus(root, rebuild) {
  const a = document.activeElement;
  const item = a && a !== root && root.contains(a) ? a.closest('[data-key]') : null;
  const at = item && root.contains(item) ? { key: item.dataset.key, i: [...item.querySelectorAll(FOCUSABLE)].indexOf(a) } : null;
  rebuild();
  if (!at) return;
  const again = [...root.querySelectorAll('[data-key]')].find((x) => x.dataset.key === at.key);
  const target = again && (at.i < 0 ? again : again.querySelectorAll(FOCUSABLE)[at.i]);
  if (target) target.focus({ preventScroll: true });
}

const splitList = (s) => String(s || '').split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

// --- the API's bodies ----------------------------------------------------

// Every read of a port's or a binding's members goes through these: the
// API keeps what was asked for (config: what a PUT carries) apart from
// what is observed (status: the kernel's and paird's view).
function portCfg(p) {
  return p.config || {};
}

function portStatus(p) {
  return p.status || {};
}

function bindingCfg(b) {
  return b.config || {};
}

// --- figures -----------------------------------------------------------

function fmtRate(bytesPerSec, framesPerSec) {
  if (bytesPerSec === null) return '—';
  const bits = bytesPerSec * 8;
  const u = bits >= 1e9 ? [1e9, 'Gb/s'] : bits >= 1e6 ? [1e6, 'Mb/s'] : bits >= 1e3 ? [1e3, 'kb/s'] : [1, 'b/s'];
  return `${(bits / u[0]).toFixed(u[0] === 1 ? 0 : 1)} ${u[1]} (${framesPerSec.toFixed(1)} f/s)`;
}

// Rolling counter history, kept while the page is open (paird keeps none):
// one series per port ("port/NAME") and per binding whose rate is shown
// ("binding/PORT/ID"), at most one sample a second (refreshes come as
// often as events do), HIST_SECONDS long. Samples carry counter totals;
// rates are the differences over time.
const MIN_SAMPLE_GAP = 0.9;

function sample(key, values, t = performance.now() / 1000) {
  const h = state.hist.get(key) || [];
  if (h.length && t - h[h.length - 1].t < MIN_SAMPLE_GAP) return;
  h.push({ t, ...values });
  while (h.length > 2 && t - h[0].t > HIST_SECONDS) h.shift();
  state.hist.set(key, h);
}

function record(ports) {
  const t = performance.now() / 1000;
  const names = new Set();
  for (const p of ports) {
    const c = p.counters || {};
    names.add(`port/${p.name}`);
    sample(`port/${p.name}`, { rx: c.rx_bytes, tx: c.tx_bytes, rxf: c.rx_frames, txf: c.tx_frames }, t);
  }
  // A deleted port's series goes now; a binding's once nothing samples it.
  for (const [k, h] of [...state.hist])
    if (k.startsWith('port/') ? !names.has(k) : t - h[h.length - 1].t > HIST_SECONDS) state.hist.delete(k);
}

// Per-second rates between consecutive samples of a series: [{t, KEY...}]
// for each counter KEY it samples. A counter that went back (a binding
// replaced, paird restarted) counts as 0 for that step.
function seriesRates(key) {
  const h = state.hist.get(key) || [];
  const out = [];
  for (let i = 1; i < h.length; i++) {
    const dt = h[i].t - h[i - 1].t;
    if (dt <= 0) continue;
    const r = { t: h[i].t };
    for (const k of Object.keys(h[i])) if (k !== 't') r[k] = Math.max(0, h[i][k] - h[i - 1][k]) / dt;
    out.push(r);
  }
  return out;
}

function lastSeriesRate(key) {
  const r = seriesRates(key);
  return r.length ? r[r.length - 1] : null;
}

const rates = (name) => seriesRates(`port/${name}`);
const lastRate = (name) => lastSeriesRate(`port/${name}`);

// "12.0 f/s, 4.8 kB/s": what a link or a binding carries.
function fmtFlow(r) {
  if (!r) return '— f/s';
  const b = r.bytes;
  const u = b >= 1e9 ? [1e9, 'GB/s'] : b >= 1e6 ? [1e6, 'MB/s'] : b >= 1e3 ? [1e3, 'kB/s'] : [1, 'B/s'];
  return `${r.frames.toFixed(1)} f/s, ${(b / u[0]).toFixed(u[0] === 1 ? 0 : 1)} ${u[1]}`;
}

function stateText(p) {
  const st = portStatus(p);
  let s = st.state;
  if ((st.state === 'error' || st.state === 'gone') && st.last_error)
    s += `: ${st.last_error.operation} ${st.last_error.errno_name || ''}`.trimEnd();
  if (st.drift && st.drift.length) s += ` (drift: ${st.drift.join(', ')})`;
  return s;
}

// --- refresh loop and event stream --------------------------------------

let refreshing = null;
let refreshAgain = false;

async function refreshAll() {
  if (refreshing) { refreshAgain = true; return refreshing; }
  refreshing = (async () => {
    if (!state.host) {
      try {
        state.host = (await request('GET', '/info')).hostname;
        setTitle(state.title);
      } catch { /* asked again on the next refresh */ }
    }
    try {
      const health = await fetch('/healthz').then((r) => r.json());
      setStale(false);
      const failed = (health.failed_ports || []).map((p) => `${p.name} (${p.state})`);
      $('#health').textContent = `${state.host ? `${state.host} · ` : ''}v${health.version}, up ${health.uptime_seconds}s` +
        (failed.length ? `, degraded: ${failed.join(', ')}` : '');
    } catch {
      setStale(true);
    }
    try {
      const data = await request('GET', '/ports');
      state.ports = data.ports;
      record(state.ports);
      if (state.view) state.view.refresh();
    } catch { /* stale mark or token prompt already shown */ }
  })();
  try { await refreshing; } finally {
    refreshing = null;
    if (refreshAgain) { refreshAgain = false; refreshAll(); }
  }
}

let backoff = 1000;
let pollTimer = null;
function schedulePoll() {
  clearTimeout(pollTimer);
  // Unreachable: retry with backoff up to 5 s; else every 2 s as the
  // stream's safety net (and the only source while it is down).
  const delay = state.stale ? backoff : 2000;
  backoff = state.stale ? Math.min(backoff * 2, 5000) : 1000;
  pollTimer = setTimeout(async () => { await refreshAll(); schedulePoll(); }, delay);
}

let stream = null;
// The stream was refused (401). The secret may come back without the token
// form: a login URL opened in another tab stores a session this tab reads
// too; the first request let in then starts the stream again.
let streamRefused = false;
let lastEventId = null;
let debounce = null;
function onEvent(type) {
  if (type === 'capture' && state.view && state.view.onCapture) state.view.onCapture();
  clearTimeout(debounce);
  debounce = setTimeout(refreshAll, 150);
}

function parseSse(chunk, buf, dispatch) {
  buf.text += chunk;
  let i;
  while ((i = buf.text.search(/\r?\n\r?\n/)) >= 0) {
    const block = buf.text.slice(0, i);
    buf.text = buf.text.slice(i + (buf.text[i] === '\r' ? 4 : 2));
    let type = 'message';
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) type = line.slice(6).trim();
      else if (line.startsWith('id:')) lastEventId = line.slice(3).trim();
    }
    if (!block.split(/\r?\n/).every((l) => l.startsWith(':'))) dispatch(type);
  }
}

async function runStream() {
  const ctl = new AbortController();
  stream = ctl;
  let delay = 1000;
  while (stream === ctl) {
    try {
      const h = authHeaders({ Accept: 'text/event-stream' });
      if (lastEventId) h['Last-Event-ID'] = lastEventId;
      const res = await fetch(`${API}/events`, { headers: h, signal: ctl.signal });
      if (res.status === 401) {
        // Ended, to be started again by the next request that is let in.
        if (stream === ctl) streamRefused = true;
        unauthorized(h.Authorization?.slice(7));
        return;
      }
      if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
      setStale(false);
      delay = 1000;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const buf = { text: '' };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parseSse(value, buf, onEvent);
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
    }
    if (stream !== ctl) return;
    refreshAll();
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5000);
  }
}

function restartStream() {
  streamRefused = false;
  if (stream) stream.abort();
  stream = null;
  runStream();
}

// --- downloads (fetch + blob, so a bearer token works) -----------------

async function download(path, filename, errTarget) {
  try {
    const res = await request('GET', path, undefined, { raw: true });
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    errTarget.textContent = String(e.message || e);
  }
}

// --- views ---------------------------------------------------------------

function portsView(root) {
  const tbody = el('tbody');
  const table = el('table', { id: 'ports' },
    el('thead', {}, el('tr', {}, ...['name', 'type', 'state', 'addresses', 'rx', 'tx', '']
      .map((h) => el('th', { text: h })))), tbody);
  const empty = el('p', { class: 'muted', id: 'empty', text: 'No ports yet.', hidden: true });
  const listErr = el('p', { class: 'error', role: 'alert' });

  const form = el('form', { id: 'create', class: 'grid-form' });
  const type = el('select', {}, el('option', { text: 'tap' }), el('option', { text: 'tun' }));
  form.append(
    field('type', 'type', type),
    field('name', 'name', el('input', { maxlength: 15, placeholder: 'tap0' })),
    field('MTU', 'mtu', el('input', { type: 'number', min: 68, max: 65535, placeholder: '1500' })),
    field('MAC (tap)', 'mac', el('input', { placeholder: '02:00:00:00:00:01' })),
    field('addresses', 'addresses', el('input', { placeholder: '198.18.0.1/24, 2001:db8::1/64' })),
    field('up', 'up', el('input', { type: 'checkbox', checked: true })),
    field('attach', 'attach', el('input', { type: 'checkbox' })),
    field('packet_info (tun)', 'packet_info', el('input', { type: 'checkbox' })),
    field('strict (drop bad checksums)', 'strict', el('input', { type: 'checkbox' })),
    el('div', { class: 'actions' }, el('button', { type: 'submit', text: 'Create port' })),
    el('p', { class: 'form-error error', role: 'alert' }));
  onSubmit(form, async () => {
    const f = form.elements;
    const body = { type: f.type.value, up: f.up.checked };
    if (f.name.value.trim()) body.name = f.name.value.trim();
    if (f.mtu.value !== '') body.mtu = Number(f.mtu.value);
    if (f.mac.value.trim()) body.mac = f.mac.value.trim();
    const addrs = splitList(f.addresses.value);
    if (addrs.length) body.addresses = addrs;
    if (f.attach.checked) body.attach = true;
    if (f.packet_info.checked) body.packet_info = true;
    if (f.strict.checked) body.strict = true;
    try {
      await request('POST', '/ports', body);
      clearFormErrors(form);
      form.reset();
      refreshAll();
    } catch (e) { showFormError(form, e); }
  });

  root.append(
    el('section', {}, el('h2', { text: 'Ports' }), listErr, el('div', { class: 'scroll' }, table), empty),
    el('section', {}, el('h2', { text: 'New port' }), form));

  return {
    refresh() {
      keepFocus(tbody, () => tbody.replaceChildren(...state.ports.map((p) => {
        const r = lastRate(p.name);
        const del = el('button', { type: 'button', text: 'Delete', 'aria-label': `delete ${p.name}` });
        del.addEventListener('click', async () => {
          if (!window.confirm(`Delete port ${p.name}?`)) return;
          try { await request('DELETE', `/ports/${encodeURIComponent(p.name)}`); listErr.textContent = ''; refreshAll(); }
          catch (e) { listErr.textContent = String(e.message); }
        });
        return el('tr', { 'data-port': p.name, 'data-key': p.name },
          el('td', {}, el('a', { href: `#/ports/${encodeURIComponent(p.name)}`, text: p.name })),
          el('td', { text: portCfg(p).type }),
          el('td', { class: `state-${portStatus(p).state}${portStatus(p).drift.length ? ' drift' : ''}`, text: stateText(p) }),
          el('td', { text: portCfg(p).addresses.join(', ') || '—' }),
          el('td', { class: 'num rx', text: r ? fmtRate(r.rx, r.rxf) : '—' }),
          el('td', { class: 'num tx', text: r ? fmtRate(r.tx, r.txf) : '—' }),
          el('td', {}, del));
      })));
      empty.hidden = state.ports.length > 0;
    },
    stop() {},
  };
}

function drawChart(canvas, name) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width = canvas.clientWidth || 600;
  const h = canvas.height = 120;
  ctx.clearRect(0, 0, w, h);
  const r = rates(name);
  const now = performance.now() / 1000;
  const max = Math.max(1, ...r.map((x) => Math.max(x.rx, x.tx)));
  ctx.strokeStyle = '#dde1e6';
  ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
  for (const [key, color] of [['rx', '#1f6feb'], ['tx', '#1b7f3b']]) {
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    r.forEach((x, i) => {
      const px = w - ((now - x.t) / HIST_SECONDS) * w;
      const py = h - 4 - (x[key] / max) * (h - 16);
      if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py);
    });
    ctx.stroke();
  }
  ctx.fillStyle = '#6b7580';
  ctx.font = '11px sans-serif';
  ctx.fillText(`max ${fmtRate(max, 0).split(' (')[0]} — rx blue, tx green`, 6, 12);
  // The time axis: the history starts when the page opened.
  const first = (state.hist.get(`port/${name}`) || [])[0];
  const span = first ? Math.min(HIST_SECONDS, now - first.t) : 0;
  ctx.fillText(`${HIST_SECONDS / 60} min ago`, 6, h - 6);
  ctx.textAlign = 'right';
  ctx.fillText(span < HIST_SECONDS - 1 ? `now (history since ${Math.round(span)} s ago)` : 'now', w - 6, h - 6);
  ctx.textAlign = 'left';
}

// Match levels a binding may attach to, per port type.
function matchLevels(type) {
  const l = [['all', 'every frame']];
  if (type === 'tap') l.push(['ethertype', 'an EtherType']);
  l.push(['ip_protocol', 'an IP protocol'], ['udp_port', 'a UDP port']);
  return l;
}

function handlersFor(type, level, match) {
  const hs = ['capture', 'count', 'drop', 'forward'];
  const icmp = level === 'ip_protocol' && ((match.ethertype === 2048 && match.ip_protocol === 1) ||
    (match.ethertype === 34525 && match.ip_protocol === 58));
  if (level === 'udp_port' || icmp) hs.push('echo');
  if (type === 'tap' && level === 'ethertype' && match.ethertype === 2054) hs.push('arp_reply');
  if (type === 'tap' && level === 'ip_protocol' && match.ethertype === 34525 && match.ip_protocol === 58)
    hs.push('ndp_reply');
  return hs;
}

function bindingForm(port) {
  const ptype = portCfg(port).type;
  const form = el('form', { id: 'bind', class: 'grid-form' });
  const level = el('select', {}, ...matchLevels(ptype).map(([v, t]) => el('option', { value: v, text: t })));
  const ethertype = el('select', {},
    ...(ptype === 'tap' ? [['2054', 'ARP (2054)']] : []).concat([['2048', 'IPv4 (2048)'], ['34525', 'IPv6 (34525)']])
      .map(([v, t]) => el('option', { value: v, text: t })));
  const proto = el('input', { type: 'number', min: 0, max: 255, value: 17 });
  const udp = el('input', { type: 'number', min: 0, max: 65535, placeholder: '53' });
  const handler = el('select');
  const opts = el('div', { class: 'options' });
  const fEth = field('ethertype', 'match.ethertype', ethertype);
  const fProto = field('IP protocol', 'match.ip_protocol', proto);
  const fUdp = field('UDP port', 'match.udp_port', udp);

  const match = () => {
    const m = {};
    const lv = level.value;
    if (lv !== 'all') {
      if (lv === 'ethertype' || ptype === 'tap' || ethertype.value !== '2054') m.ethertype = Number(ethertype.value);
      if (lv !== 'ethertype') m.ip_protocol = proto.value === '' ? NaN : Number(proto.value);
      if (lv === 'udp_port') { m.ip_protocol = 17; m.udp_port = udp.value === '' ? NaN : Number(udp.value); }
    }
    return m;
  };
  const options = () => {
    const o = {};
    for (const i of opts.querySelectorAll('input, select')) {
      const k = i.name.replace(/^options\./, '');
      if (i.value === '') continue;
      if (k === 'addresses') o[k] = splitList(i.value);
      else if (i.type === 'number') o[k] = Number(i.value);
      else o[k] = i.value;
    }
    return o;
  };
  const update = () => {
    const lv = level.value;
    fEth.hidden = lv === 'all';
    for (const o of ethertype.options) o.disabled = lv !== 'ethertype' && o.value === '2054';
    if (lv !== 'ethertype' && ethertype.value === '2054') ethertype.value = '2048';
    fProto.hidden = lv !== 'ip_protocol';
    fUdp.hidden = lv !== 'udp_port';
    const hs = handlersFor(ptype, lv, match());
    const keep = hs.includes(handler.value) ? handler.value : hs[0];
    handler.replaceChildren(...hs.map((h) => el('option', { text: h })));
    handler.value = keep;
    const h = handler.value;
    // Rebuilt only when the handler changes, so typed options survive
    // edits of the match.
    if (opts.dataset.handler === h) return;
    opts.dataset.handler = h;
    const o = [];
    if (h === 'capture') o.push(field('limit (records, 0: no limit)', 'options.limit', el('input', { type: 'number', min: 0 })),
      field('snaplen', 'options.snaplen', el('input', { type: 'number', min: 1 })),
      field('filter (BPF)', 'options.filter', el('input', { placeholder: 'udp and src host 198.18.0.1' })));
    if (h === 'arp_reply' || h === 'ndp_reply') o.push(
      field(h === 'arp_reply' ? 'IPv4 addresses' : 'IPv6 addresses', 'options.addresses', el('input', { required: true })),
      field('MAC (blank: the port\'s)', 'options.mac', el('input')));
    if (h === 'forward') o.push(field('to port', 'options.port', el('select')));
    opts.replaceChildren(...o);
    syncTargets();
  };
  // The ports a forward may write to: the others that frame alike (a tap
  // takes Ethernet frames; a tun IP packets, with or without the packet
  // info header). Called on every refresh, so a port made or deleted
  // elsewhere comes and goes here; the choice stays while it exists.
  function syncTargets() {
    const sel = opts.querySelector('select[name="options.port"]');
    if (!sel) return;
    const me = portCfg(state.ports.find((p) => p.name === port.name) || port);
    const names = state.ports.filter((p) => {
      const c = portCfg(p);
      return p.name !== port.name && c.type === me.type && (c.type === 'tap' || !c.packet_info === !me.packet_info);
    }).map((p) => p.name);
    const cur = sel.value;
    if (sel.options.length && names.join('\n') === [...sel.options].filter((o) => o.value).map((o) => o.value).join('\n')) return;
    sel.replaceChildren(...(names.length ? names.map((n) => el('option', { value: n, text: n }))
      : [el('option', { value: '', text: `(no other ${me.type} port)` })]));
    if (names.includes(cur)) sel.value = cur;
  }
  level.addEventListener('change', update);
  ethertype.addEventListener('change', update);
  proto.addEventListener('input', update);
  handler.addEventListener('change', update);
  form.append(field('match', 'match', level), fEth, fProto, fUdp, field('handler', 'handler', handler), opts,
    el('div', { class: 'actions' }, el('button', { type: 'submit', text: 'Add binding' })),
    el('p', { class: 'form-error error', role: 'alert' }));
  update();
  onSubmit(form, async () => {
    try {
      await request('POST', `/ports/${encodeURIComponent(port.name)}/bindings`,
        { match: match(), handler: handler.value, options: options() });
      clearFormErrors(form);
      refreshAll();
    } catch (e) { showFormError(form, e); }
  });
  return { form, refresh: syncTargets };
}

function describeMatch(m) {
  const parts = [];
  if (m.ethertype !== undefined) parts.push(`ethertype ${m.ethertype}`);
  if (m.ip_protocol !== undefined) parts.push(`proto ${m.ip_protocol}`);
  if (m.udp_port !== undefined) parts.push(`udp ${m.udp_port}`);
  return parts.join(', ') || 'every frame';
}

function hexToBytes(hex) {
  const b = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(hex.substr(i * 2, 2), 16);
  return b;
}

function hexDump(bytes) {
  const lines = [];
  for (let o = 0; o < bytes.length; o += 16) {
    const row = bytes.slice(o, o + 16);
    const hex = [...row].map((x) => x.toString(16).padStart(2, '0')).join(' ');
    const asc = [...row].map((x) => (x >= 32 && x < 127 ? String.fromCharCode(x) : '.')).join('');
    lines.push(`${o.toString(16).padStart(4, '0')}  ${hex.padEnd(47)}  ${asc}`);
  }
  return lines.join('\n');
}

// The payload column shows the first bytes only (its cell is cut at 20em):
// a 64 KiB frame is not turned into text whole for a row.
const PAYLOAD_PREVIEW = 96;

function summarize(rec) {
  const h = rec.headers || {};
  const ip = h.ipv4 || h.ipv6 || {};
  const l4 = h.udp ? `UDP ${h.udp.src_port} → ${h.udp.dst_port}` : h.icmp ? `ICMP ${h.icmp.type}`
    : h.icmpv6 ? `ICMPv6 ${h.icmpv6.type}` : h.arp ? 'ARP' : h.ip_protocol !== undefined ? `proto ${h.ip_protocol}` : '';
  let payload = '';
  if (h.payload) payload = [...hexToBytes(h.payload.slice(0, 2 * PAYLOAD_PREVIEW))].map((x) => (x >= 32 && x < 127 ? String.fromCharCode(x) : '.')).join('');
  return { src: ip.src || (h.ethernet && h.ethernet.src) || '', dst: ip.dst || (h.ethernet && h.ethernet.dst) || '', l4, payload };
}

function headerTable(headers) {
  const rows = [];
  for (const [layer, v] of Object.entries(headers || {})) {
    if (layer === 'payload') continue;
    if (v && typeof v === 'object') {
      rows.push(el('tr', {}, el('th', { colspan: 2, text: layer })));
      for (const [k, x] of Object.entries(v)) rows.push(el('tr', {}, el('td', { text: k }), el('td', { text: String(x) })));
    } else rows.push(el('tr', {}, el('td', { text: layer }), el('td', { text: String(v) })));
  }
  return el('table', { class: 'headers' }, el('tbody', {}, ...rows));
}

// The capture list keeps the newest frames, at most this many, and at most
// this much of their hex (a record carries its bytes and its payload's, two
// characters a byte): 1000 jumbo frames would be ~250 MB in the page, 30
// times the default ring (8 MiB) paird keeps them in.
const KEEP_RECORDS = 1000;
const KEEP_HEX = 16 << 20;
const hexSize = (r) => (r.data || '').length + ((r.headers && r.headers.payload) || '').length;

function captureSection(port) {
  const name = encodeURIComponent(port.name);
  let after = 0;
  let generation = null; // of the ring the cursor belongs to, once a page said
  let records = [];
  let selected = null;
  let paused = false;
  let ctl = null;
  let running = false;
  let stopped = false;
  const list = el('tbody');
  const detail = el('div', { class: 'capture-detail', id: 'capture-detail' });
  const filter = el('select', { 'aria-label': 'filter by binding', name: 'capture-filter' },
    el('option', { value: '', text: 'all bindings' }));
  const pause = el('button', { type: 'button', text: 'Pause', class: 'pause', 'aria-pressed': 'false' });
  const err = el('p', { class: 'error', role: 'alert' });
  const note = el('p', { class: 'muted', role: 'status', id: 'capture-note' });
  // Paused: no page is asked for, so frames stay in paird's ring and show,
  // from the same cursor, on resume (unless the ring evicted them meanwhile).
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
    if (paused) { if (ctl) ctl.abort(); } else follow();
  });
  const clear = el('button', { type: 'button', text: 'Clear', class: 'clear', title: 'clear this list (paird keeps the frames)',
    onclick: () => { records = []; selected = null; note.textContent = ''; render(); } });
  const purge = el('button', { type: 'button', text: 'Delete in paird', class: 'purge' });
  purge.addEventListener('click', async () => {
    if (!window.confirm(`Delete every captured frame of ${port.name} in paird?`)) return;
    try {
      await request('DELETE', `/ports/${name}/captures`);
      records = []; selected = null; err.textContent = ''; render();
      if (ctl) ctl.abort(); // the cursor is of the old generation now
    } catch (e) { err.textContent = e.message; }
  });
  filter.addEventListener('change', render);
  const dl = (ext) => el('button', { type: 'button', text: `Download ${ext}`, class: `dl-${ext}`,
    onclick: () => download(`/ports/${name}/captures.${ext}`, `${port.name}.${ext}`, err) });

  function render() {
    const b = filter.value;
    // A frame arriving must not take the keyboard focus off a row.
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.seq : null;
    list.replaceChildren(...records.filter((r) => !b || String(r.binding) === b).slice(-200).map((r) => {
      // Summarized once, not again on each render (one per page of frames).
      const s = r.summary || (r.summary = summarize(r));
      const tr = el('tr', { tabindex: 0, class: r === selected ? 'selected' : '', 'data-seq': r.seq, 'data-binding': r.binding },
        el('td', { class: 'num', text: String(r.seq) }), el('td', { text: r.time.slice(11, 23) }),
        el('td', { text: String(r.binding) }), el('td', { text: s.src }), el('td', { text: s.dst }),
        el('td', { text: s.l4 }), el('td', { class: 'num', text: String(r.len) }),
        el('td', { class: 'payload', text: s.payload }));
      const pick = () => { selected = r; render(); list.querySelector('tr.selected')?.focus(); };
      tr.addEventListener('click', pick);
      tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); pick(); } });
      return tr;
    }));
    if (focused !== null) list.querySelector(`tr[data-seq="${focused}"]`)?.focus();
    if (selected) {
      detail.replaceChildren(headerTable(selected.headers),
        el('pre', { class: 'hex', text: hexDump(hexToBytes(selected.data || '')) }));
    } else detail.replaceChildren(el('p', { class: 'muted', text: 'Select a frame to see its headers and bytes.' }));
  }

  // A long poll of the ring from the cursor: each answer comes as soon as
  // a frame is captured. A cursor paird refuses (409: the ring was
  // cleared or made again, paird restarted; 410: the frames after it were
  // evicted) is moved to where the ring is, with a note, rather than asked
  // for again forever.
  async function follow() {
    if (running) return;
    running = true;
    try {
      while (!stopped && !paused) {
        ctl = new AbortController();
        let page;
        try {
          const gen = generation === null ? '' : `&generation=${generation}`;
          page = await request('GET', `/ports/${name}/captures?after=${after}${gen}&limit=100&wait=20`,
            undefined, { signal: ctl.signal });
        } catch (e) {
          if (stopped || paused) break;
          if (e.name === 'AbortError') continue;
          const p = e instanceof HttpError ? e.problem || {} : {};
          if (e instanceof HttpError && e.status === 409) {
            after = 0;
            generation = null;
            note.textContent = 'The capture ring started over (cleared, or paird restarted): following the new one.';
            continue;
          }
          if (e instanceof HttpError && e.status === 410 && Number.isFinite(p.oldest_seq)) {
            note.textContent = `Frames ${after + 1}..${p.oldest_seq - 1} were evicted from the ring before they were shown.`;
            after = p.oldest_seq - 1;
            continue;
          }
          if (e instanceof HttpError && e.status !== 401) err.textContent = e.message;
          if (e instanceof HttpError && e.status === 404) break;
          await new Promise((r) => setTimeout(r, 2000));
          continue;
        } finally { ctl = null; }
        if (stopped || paused) break; // asked again from the same cursor on resume
        err.textContent = '';
        if (page.records.length) {
          records.push(...page.records);
          let hex = records.reduce((a, r) => a + hexSize(r), 0);
          let drop = 0;
          while (records.length - drop > KEEP_RECORDS || (records.length - drop > 1 && hex > KEEP_HEX))
            hex -= hexSize(records[drop++]);
          if (drop) records = records.slice(drop);
          render();
        }
        after = page.next_after;
        generation = page.generation || null; // 0: no ring yet, the first binding makes one
      }
    } finally { running = false; }
  }

  const sec = el('section', { id: 'captures' }, el('h2', { text: 'Captures' }),
    el('div', { class: 'toolbar' }, pause, clear, filter, dl('pcap'), dl('pcapng'), purge), err, note,
    el('div', { class: 'scroll' }, el('table', { id: 'capture-list' },
      el('thead', {}, el('tr', {}, ...['#', 'time', 'binding', 'src', 'dst', 'proto', 'len', 'payload'].map((t) => el('th', { text: t })))),
      list)), detail);
  render();
  follow();
  return {
    sec,
    // The capture bindings, [{id, label}], for the filter.
    bindings(bs) {
      const cur = filter.value;
      const want = bs.map((b) => `${b.id}\t${b.label}`).join('\n');
      if (filter.dataset.list === want) return;
      filter.dataset.list = want;
      filter.replaceChildren(el('option', { value: '', text: 'all bindings' }),
        ...bs.map((b) => el('option', { value: String(b.id), text: b.label })));
      filter.value = bs.some((b) => String(b.id) === cur) ? cur : '';
      if (filter.value !== cur) render();
    },
    stop() { stopped = true; if (ctl) ctl.abort(); },
  };
}

// POST /ports/NAME/transmit: a UDP datagram or an ICMP echo paird builds
// with the port's framing, or a frame given as hex, delivered to the
// kernel side. Field names follow the body ("udp.src", "hex") so a
// problem's `field` lands beside its input.
function transmitSection(name) {
  const form = el('form', { id: 'transmit', class: 'grid-form' });
  const kind = el('select', {}, ...[['udp', 'UDP datagram'], ['icmp_echo', 'ICMP echo'], ['hex', 'raw frame (hex)']]
    .map(([v, t]) => el('option', { value: v, text: t })));
  const fields = el('div', { class: 'options' });
  const result = el('div', { id: 'transmit-result' });
  const build = () => {
    const k = kind.value;
    const f = [];
    if (k === 'hex') {
      f.push(field('frame (hex)', 'hex', el('input', { placeholder: 'ffffffffffff0200…', spellcheck: 'false' })));
    } else {
      f.push(field('source address', `${k}.src`, el('input', { placeholder: '198.18.0.2' })),
        field('destination address', `${k}.dst`, el('input', { placeholder: '198.18.0.1' })));
      if (k === 'udp') f.push(field('source port', 'udp.src_port', el('input', { type: 'number', min: 0, max: 65535, value: 40000 })),
        field('destination port', 'udp.dst_port', el('input', { type: 'number', min: 0, max: 65535 })));
      else f.push(field('id', 'icmp_echo.id', el('input', { type: 'number', min: 0, max: 65535, value: 1 })),
        field('seq', 'icmp_echo.seq', el('input', { type: 'number', min: 0, max: 65535, value: 1 })),
        field('reply (not a request)', 'icmp_echo.reply', el('input', { type: 'checkbox' })));
      f.push(field('payload (text)', `${k}.payload`, el('input')));
    }
    fields.replaceChildren(...f);
    clearFormErrors(form);
  };
  kind.addEventListener('change', build);
  form.append(field('frame', 'kind', kind), fields,
    el('div', { class: 'actions' }, el('button', { type: 'submit', text: 'Send' })),
    el('p', { class: 'form-error error', role: 'alert' }));
  build();
  onSubmit(form, async () => {
    const k = kind.value;
    let body;
    if (k === 'hex') body = { hex: form.elements.hex.value.replace(/\s+/g, '') };
    else {
      const o = {};
      for (const i of fields.querySelectorAll('input')) {
        const key = i.name.slice(k.length + 1);
        if (i.type === 'checkbox') { if (i.checked) o[key] = true; } else if (i.value !== '') o[key] = i.type === 'number' ? Number(i.value) : i.value;
      }
      body = { [k]: o };
    }
    try {
      const r = await request('POST', `/ports/${encodeURIComponent(name)}/transmit`, body);
      clearFormErrors(form);
      result.replaceChildren(el('p', { class: 'muted', text: `Wrote ${r.length} bytes:` }),
        el('pre', { class: 'hex', text: hexDump(hexToBytes(r.data)) }));
      refreshAll();
    } catch (e) { result.replaceChildren(); showFormError(form, e); }
  });
  return el('section', { id: 'send' }, el('h2', { text: 'Send a frame to the kernel side' }), form, result);
}

function portView(root, name) {
  const title = el('h2', { text: `Port ${name}` });
  const link = el('table', { class: 'kv', id: 'link' });
  const counters = el('table', { class: 'kv', id: 'counters' });
  const breakdown = el('div', { id: 'breakdown', class: 'breakdown' });
  const canvas = el('canvas', { id: 'chart', height: 120, 'aria-label': 'rx/tx rate, last minutes', role: 'img' });
  const bindList = el('tbody');
  const bindErr = el('p', { class: 'error', role: 'alert' });
  const edit = el('form', { id: 'edit', class: 'grid-form' });
  const missing = el('p', { class: 'error', hidden: true, text: `No port ${name}.` });
  // The configuration the edit form was filled from, and whether the user
  // has typed since: a change made elsewhere refills an untouched form.
  let formCfg = null;
  let formDirty = false;
  let bindForm = null;
  const removing = new Set(); // ids of the bindings a DELETE is out for
  const cap = captureSection({ name });
  const bindSec = el('section', { id: 'bindings' }, el('h2', { text: 'Bindings' }), bindErr,
    el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, el('tr', {},
      ...['id', 'match', 'handler', 'options', 'packets', 'bytes', 'rate', 'errors', 'own', ''].map((t) => el('th', { text: t })))), bindList)));
  root.append(el('p', {}, el('a', { href: '#/', text: '← all ports' })), missing,
    el('section', {}, title, el('div', { class: 'cols' },
      el('div', {}, el('h3', { text: 'Link: configured / kernel' }), link),
      el('div', {}, el('h3', { text: 'Edit' }), edit))),
    el('section', {}, el('h2', { text: 'Traffic' }), canvas, el('div', { class: 'cols' },
      el('div', {}, el('h3', { text: 'Counters' }), counters),
      el('div', {}, el('h3', { text: 'Where frames went' }), breakdown))),
    bindSec, cap.sec, transmitSection(name));

  // The values the form was filled with: a PATCH carries only what the
  // user changed, so saving the addresses does not also pin the MTU or the
  // MAC the kernel happened to have.
  let shown = {};
  function buildEdit(p) {
    const cfg = portCfg(p);
    shown = { mtu: String(cfg.mtu ?? ''), mac: cfg.mac || '', strict: !!cfg.strict };
    edit.replaceChildren(
      field('up', 'up', el('input', { type: 'checkbox', checked: cfg.up })),
      field('MTU', 'mtu', el('input', { type: 'number', value: shown.mtu })),
      cfg.type === 'tap' ? field('MAC', 'mac', el('input', { value: shown.mac })) : null,
      field('addresses', 'addresses', el('input', { value: cfg.addresses.join(', ') })),
      field('strict (drop bad checksums)', 'strict', el('input', { type: 'checkbox', checked: shown.strict })),
      el('div', { class: 'actions' }, el('button', { type: 'submit', text: 'Save' })),
      el('p', { class: 'form-error error', role: 'alert' }));
  }
  edit.addEventListener('input', () => { formDirty = true; });
  onSubmit(edit, async () => {
    const f = edit.elements;
    const body = { up: f.up.checked, addresses: splitList(f.addresses.value) };
    if (f.mtu.value !== shown.mtu) body.mtu = f.mtu.value === '' ? null : Number(f.mtu.value);
    if (f.mac && f.mac.value.trim() !== shown.mac) body.mac = f.mac.value.trim() === '' ? null : f.mac.value.trim();
    if (f.strict.checked !== shown.strict) body.strict = f.strict.checked;
    try {
      await request('PATCH', `/ports/${encodeURIComponent(name)}`, body);
      clearFormErrors(edit);
      formCfg = null; // refilled from the answer on the next refresh
      refreshAll();
    } catch (e) { showFormError(edit, e); }
  });

  async function loadBindings() {
    try {
      const data = await request('GET', `/ports/${encodeURIComponent(name)}/bindings`);
      const bs = data.bindings || [];
      cap.bindings(bs.filter((b) => bindingCfg(b).handler === 'capture').map((b) => ({ id: b.id,
        label: `binding ${b.id}${b.name ? ` ${b.name}` : ''} (${describeMatch(bindingCfg(b).match)})` })));
      keepFocus(bindList, () => bindList.replaceChildren(...bs.map((b) => {
        const c = b.counters || {};
        const bc = bindingCfg(b);
        const key = `binding/${name}/${b.id}`;
        sample(key, { frames: c.packets || 0, bytes: c.bytes || 0 });
        const own = Object.entries(c).filter(([k]) => !['packets', 'bytes', 'errors'].includes(k))
          .map(([k, v]) => `${k} ${v}`).join(', ');
        const rm = el('button', { type: 'button', text: 'Remove', 'aria-label': `remove binding ${b.id}` });
        // One DELETE per binding: a second click (or a row rebuilt
        // meanwhile) while it is out would be answered 404.
        if (removing.has(b.id)) rm.setAttribute('aria-disabled', 'true');
        rm.addEventListener('click', async () => {
          if (removing.has(b.id)) return;
          removing.add(b.id);
          rm.setAttribute('aria-disabled', 'true');
          try { await request('DELETE', `/ports/${encodeURIComponent(name)}/bindings/${b.id}`); bindErr.textContent = ''; refreshAll(); }
          catch (e) { bindErr.textContent = e.message; rm.removeAttribute('aria-disabled'); }
          finally { removing.delete(b.id); }
        });
        return el('tr', { 'data-binding': b.id, 'data-key': b.id }, el('td', { text: String(b.id) }), el('td', { text: describeMatch(bc.match) }),
          el('td', { text: bc.handler }), el('td', { text: JSON.stringify(bc.options) }),
          el('td', { class: 'num', text: String(c.packets) }), el('td', { class: 'num', text: String(c.bytes) }),
          el('td', { class: 'num rate', text: fmtFlow(lastSeriesRate(key)) }), el('td', { class: 'num', text: String(c.errors) }), el('td', { text: own }), el('td', {}, rm));
      })));
    } catch { /* shown by the stale mark / token prompt */ }
  }

  const kv = (table, rows) => table.replaceChildren(el('tbody', {}, ...rows.map(([k, ...v]) =>
    el('tr', {}, el('th', { text: k }), ...v.map((x) => el('td', { text: x === undefined || x === null ? '—' : String(x) }))))));

  return {
    refresh() {
      const p = state.ports.find((x) => x.name === name);
      missing.hidden = !!p;
      if (!p) return;
      if (!bindForm) {
        bindForm = bindingForm(p);
        bindSec.append(el('h3', { text: 'Add a binding' }), bindForm.form);
      }
      bindForm.refresh();
      const cfgNow = JSON.stringify(portCfg(p));
      if (formCfg === null || (cfgNow !== formCfg && !formDirty && !edit.contains(document.activeElement))) {
        buildEdit(p);
        formCfg = cfgNow;
        formDirty = false;
      }
      const cfg = portCfg(p);
      const st = portStatus(p);
      title.textContent = `Port ${p.name} — ${stateText(p)}`;
      kv(link, [['', 'configured', 'kernel'], ['type', cfg.type, st.flags.join(' ')], ['ifindex', '', st.ifindex],
        ['up', cfg.up, st.up], ['mtu', cfg.mtu, st.mtu], ['mac', cfg.mac, st.mac],
        ['addresses', cfg.addresses.join(', '), st.addresses ? st.addresses.join(', ') : undefined],
        ['drift', '', st.drift.join(', ') || 'none'], ['attach', cfg.attach, ''], ['packet_info', cfg.packet_info, ''], ['strict', cfg.strict, ''],
        ['last error', '', st.last_error ? `${st.last_error.operation}: ${st.last_error.errno_name}` : 'none']]);
      const c = p.counters;
      const r = lastRate(p.name);
      kv(counters, [['rx frames', c.rx_frames], ['rx bytes', c.rx_bytes], ['rx rate', r ? fmtRate(r.rx, r.rxf) : '—'],
        ['tx frames', c.tx_frames], ['tx bytes', c.tx_bytes], ['tx rate', r ? fmtRate(r.tx, r.txf) : '—'],
        ['truncated', c.truncated], ['fragments', c.fragments],
        ['capture ring', `${c.capture.records} records, ${c.capture.bytes} B of ${c.capture.capacity}`]]);
      const parts = [['matched', c.matched]];
      for (const [k, v] of Object.entries(c.unmatched || {})) parts.push([`unmatched at ${k}`, v]);
      for (const [k, v] of Object.entries(c.malformed || {})) if (v) parts.push([`malformed ${k}`, v]);
      const total = Math.max(1, parts.reduce((a, [, v]) => a + v, 0));
      breakdown.replaceChildren(...parts.map(([k, v]) => {
        const bar = el('span', { class: 'bar' });
        bar.style.width = `${(100 * v) / total}%`;
        return el('div', { class: 'brow' }, el('span', { class: 'blabel', text: `${k}: ${v}` }), el('span', { class: 'track' }, bar));
      }));
      drawChart(canvas, p.name);
      loadBindings();
    },
    stop() { cap.stop(); },
  };
}

function networkView(root) {
  const svgNS = 'http://www.w3.org/2000/svg';
  const s = (tag, attrs, text) => {
    const e = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = s('svg', { viewBox: '0 0 600 400', role: 'img', 'aria-label': 'ports and forward bindings', id: 'network' });
  const legend = el('ul', { id: 'links' });
  const dlErr = el('p', { class: 'error', role: 'alert' });
  // One pcapng, an interface per port (the API takes up to 8): the whole
  // simulated network in one Wireshark window.
  const dlAll = el('button', { type: 'button', class: 'dl-all', text: 'Download every port\'s captures (pcapng)',
    onclick: () => {
      const names = state.ports.slice(0, 8).map((p) => p.name);
      if (!names.length) { dlErr.textContent = 'No ports yet.'; return; }
      dlErr.textContent = state.ports.length > 8 ? `Only the first 8 ports: ${names.join(', ')}.` : '';
      download(`/captures.pcapng?ports=${names.map(encodeURIComponent).join(',')}`, 'paird.pcapng', dlErr);
    } });
  root.append(el('section', {}, el('h2', { text: 'Simulated network' }),
    el('p', { class: 'muted', text: 'Ports as nodes, forward bindings as links (arrows point where frames go), '
      + 'with the frames and bytes per second each forward binding takes now.' }), svg, legend,
    el('div', { class: 'toolbar' }, dlAll), dlErr));
  let busy = false;
  return {
    async refresh() {
      if (busy) return;
      busy = true;
      try {
        const ports = state.ports;
        const links = [];
        for (const p of ports) {
          try {
            const d = await request('GET', `/ports/${encodeURIComponent(p.name)}/bindings`);
            for (const b of d.bindings || []) {
              const bc = bindingCfg(b);
              if (bc.handler !== 'forward') continue;
              const key = `binding/${p.name}/${b.id}`;
              const c = b.counters || {};
              sample(key, { frames: c.packets || 0, bytes: c.bytes || 0 });
              links.push({ from: p.name, to: bc.options.port, b, rate: lastSeriesRate(key) });
            }
          } catch { /* skip a port that went away meanwhile */ }
        }
        const pos = new Map();
        ports.forEach((p, i) => {
          const a = (2 * Math.PI * i) / Math.max(1, ports.length) - Math.PI / 2;
          pos.set(p.name, [300 + 150 * Math.cos(a), 200 + 140 * Math.sin(a)]);
        });
        const kids = [s('defs', {})];
        kids[0].append(s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6,
          markerHeight: 6, orient: 'auto-start-reverse' }));
        kids[0].firstChild.append(s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
        for (const l of links) {
          const a = pos.get(l.from);
          const b = pos.get(l.to);
          if (!a || !b) continue;
          // Each direction on its own side of the line between the nodes,
          // stopping at the circles, so A→B and B→A both show.
          const dx = b[0] - a[0];
          const dy = b[1] - a[1];
          const len = Math.hypot(dx, dy) || 1;
          const [ux, uy] = [dx / len, dy / len];
          const [ox, oy] = [-uy * 6, ux * 6];
          const x1 = a[0] + ux * 28 + ox;
          const y1 = a[1] + uy * 28 + oy;
          const x2 = b[0] - ux * 30 + ox;
          const y2 = b[1] - uy * 30 + oy;
          const g = s('g', { class: 'link', 'data-link': `${l.from}/${l.b.id}` });
          g.append(s('line', { x1, y1, x2, y2, 'marker-end': 'url(#arrow)' }),
            s('text', { x: (x1 + x2) / 2 + ox, y: (y1 + y2) / 2 + oy * 2 + 3,
              'text-anchor': Math.abs(ox) < 2 ? 'middle' : ox > 0 ? 'start' : 'end', class: 'linklabel' }, fmtFlow(l.rate)));
          kids.push(g);
        }
        for (const p of ports) {
          const [x, y] = pos.get(p.name);
          const r = lastRate(p.name);
          const g = s('a', { href: `#/ports/${encodeURIComponent(p.name)}`, 'aria-label': `port ${p.name}`, 'data-key': p.name });
          g.append(s('circle', { cx: x, cy: y, r: 26, class: `node state-${portStatus(p).state}` }),
            s('text', { x, y: y + 4, 'text-anchor': 'middle', class: 'nodelabel' }, p.name),
            s('text', { x, y: y + 42, 'text-anchor': 'middle', class: 'rate' },
              r ? `rx+tx ${fmtFlow({ frames: r.rxf + r.txf, bytes: r.rx + r.tx })}` : ''));
          kids.push(g);
        }
        keepFocus(svg, () => svg.replaceChildren(...kids));
        legend.replaceChildren(...links.map((l) => el('li', { 'data-link': `${l.from}/${l.b.id}` },
          el('span', { text: `${l.from} → ${l.to}${pos.has(l.to) ? '' : ' (no such port)'} ` }),
          el('span', { class: 'muted', text: `(binding ${l.b.id}, ${describeMatch(bindingCfg(l.b).match)}): ` }),
          el('span', { class: 'flow', text: fmtFlow(l.rate) }),
          el('span', { class: 'muted', text: `; ${(l.b.counters || {}).forwarded ?? 0} forwarded, ${(l.b.counters || {}).errors ?? 0} errors in all` }))));
        if (!ports.length) legend.replaceChildren(el('li', { class: 'muted', text: 'No ports yet.' }));
        else if (!links.length) legend.replaceChildren(el('li', { class: 'muted', text: 'No forward bindings yet.' }));
      } finally { busy = false; }
    },
    stop() {},
  };
}

function route() {
  if (state.view) state.view.stop();
  const root = $('#view');
  root.replaceChildren();
  const h = location.hash || '#/';
  const m = h.match(/^#\/ports\/(.+)$/);
  if (m) {
    // A malformed escape (a link cut short, "%E0%A4%A") is a name no
    // port has, not an exception that would stop the page before it polls.
    let name;
    try { name = decodeURIComponent(m[1]); } catch { name = m[1]; }
    state.view = portView(root, name);
    setTitle(name);
  } else if (h === '#/network') {
    state.view = networkView(root);
    setTitle('network');
  } else {
    state.view = portsView(root);
    setTitle('');
  }
  state.view.refresh();
  refreshAll();
}

window.addEventListener('hashchange', route);
route();
schedulePoll();
runStream();
