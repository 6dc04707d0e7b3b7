// paird dashboard: one ES module, no framework, no build step. It uses only
// the public API (anything it does, curl can do) and builds the DOM with
// createElement/textContent only: captured frames carry attacker bytes, so no
// data ever goes through innerHTML. It is authenticated by the session cookie
// the one-time login URL set (HttpOnly, sent on same-origin requests), or by
// a token typed into the form, kept in sessionStorage and sent as a bearer
// token. The event stream is read with fetch() (EventSource cannot send the
// bearer header); while it is down the page polls.
const API = '/api/v1';
const $ = (sel, root = document) => root.querySelector(sel);
const HIST_SECONDS = 300;

const state = {
  ports: [],
  hist: new Map(), // port name -> [{t, rxb, txb, rxf, txf}]
  stale: false,
  view: null, // the current view's {refresh(), stop()}
};

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

function authHeaders(extra = {}) {
  const h = { ...extra };
  const token = sessionStorage.getItem('paird-token');
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

// Every API request: marks paird reachable or not, asks for the token on 401.
async function request(method, path, body, opts = {}) {
  const init = {
    method,
    credentials: 'same-origin',
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
  if (res.status === 401) showAuth(true);
  if (opts.raw && res.ok) return res;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) throw new HttpError(res.status, data);
  if (res.status !== 401) showAuth(false);
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
// dismissed or until that field is edited.
function showFormError(form, err) {
  clearFormErrors(form);
  const field = err.problem && err.problem.field ? String(err.problem.field) : '';
  let best = null;
  for (const s of form.querySelectorAll('.field-error')) {
    const f = s.dataset.field;
    if (field === f || field.startsWith(`${f}.`) || field.startsWith(`${f}[`))
      if (!best || f.length > best.dataset.field.length) best = s;
  }
  const target = best || $('.form-error', form);
  target.replaceChildren(
    el('span', { text: err.message + (field && !best ? ` (${field})` : '') }),
    el('button', { type: 'button', class: 'dismiss', 'aria-label': 'dismiss',
      text: '×', onclick: () => target.replaceChildren() }));
  target.hidden = false;
  const input = best && form.querySelector(`[name="${best.dataset.field}"]`);
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

function field(label, name, input) {
  input.name = name;
  input.id = input.id || `f-${name}-${Math.random().toString(36).slice(2, 7)}`;
  return el('div', { class: 'field' }, el('label', { for: input.id, text: label }), input,
    el('span', { class: 'field-error', 'data-field': name, role: 'alert' }));
}

const splitList = (s) => String(s || '').split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

// --- figures -----------------------------------------------------------

function fmtRate(bytesPerSec, framesPerSec) {
  if (bytesPerSec === null) return '—';
  const bits = bytesPerSec * 8;
  const u = bits >= 1e9 ? [1e9, 'Gb/s'] : bits >= 1e6 ? [1e6, 'Mb/s'] : bits >= 1e3 ? [1e3, 'kb/s'] : [1, 'b/s'];
  return `${(bits / u[0]).toFixed(u[0] === 1 ? 0 : 1)} ${u[1]} (${framesPerSec.toFixed(1)} f/s)`;
}

// The API keeps what was asked for apart from what is observed (config,
// status); the views read one flat object: the configuration, then the
// kernel's view of the link over it (up, mtu, mac), with the configured
// addresses as "addresses" and the kernel's as "link.addresses".
function flatPort(p) {
  const c = p.config || {};
  const s = p.status || {};
  return { ...c, ...s, name: p.name, version: p.version, counters: p.counters, addresses: c.addresses,
    link: s.addresses ? { addresses: s.addresses } : null };
}

// A binding: its config (match, handler, options) and status (created) beside id, name, counters.
function flatBinding(b) {
  return { ...b, ...b.config, ...b.status };
}

function record(ports) {
  const t = performance.now() / 1000;
  const names = new Set();
  for (const p of ports) {
    names.add(p.name);
    const h = state.hist.get(p.name) || [];
    const c = p.counters || {};
    h.push({ t, rxb: c.rx_bytes, txb: c.tx_bytes, rxf: c.rx_frames, txf: c.tx_frames });
    while (h.length > 2 && t - h[0].t > HIST_SECONDS) h.shift();
    state.hist.set(p.name, h);
  }
  for (const n of [...state.hist.keys()]) if (!names.has(n)) state.hist.delete(n);
}

// Rates between consecutive samples: [{t, rx, tx}] in bytes per second.
function rates(name) {
  const h = state.hist.get(name) || [];
  const out = [];
  for (let i = 1; i < h.length; i++) {
    const dt = h[i].t - h[i - 1].t;
    if (dt <= 0) continue;
    out.push({ t: h[i].t, rx: Math.max(0, h[i].rxb - h[i - 1].rxb) / dt,
      tx: Math.max(0, h[i].txb - h[i - 1].txb) / dt,
      rxf: Math.max(0, h[i].rxf - h[i - 1].rxf) / dt, txf: Math.max(0, h[i].txf - h[i - 1].txf) / dt });
  }
  return out;
}

function lastRate(name) {
  const r = rates(name);
  return r.length ? r[r.length - 1] : null;
}

function stateText(p) {
  let s = p.state;
  if ((p.state === 'error' || p.state === 'gone') && p.last_error)
    s += `: ${p.last_error.operation} ${p.last_error.errno_name || ''}`.trimEnd();
  if (p.drift && p.drift.length) s += ` (drift: ${p.drift.join(', ')})`;
  return s;
}

// --- refresh loop and event stream --------------------------------------

let refreshing = null;
let refreshAgain = false;

async function refreshAll() {
  if (refreshing) { refreshAgain = true; return refreshing; }
  refreshing = (async () => {
    try {
      const health = await fetch('/healthz').then((r) => r.json());
      setStale(false);
      const failed = (health.failed_ports || []).map((p) => `${p.name} (${p.state})`);
      $('#health').textContent = `v${health.version}, up ${health.uptime_seconds}s` +
        (failed.length ? `, degraded: ${failed.join(', ')}` : '');
    } catch {
      setStale(true);
    }
    try {
      const data = await request('GET', '/ports');
      state.ports = data.ports.map(flatPort);
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
      const res = await fetch(`${API}/events`, { headers: h, credentials: 'same-origin', signal: ctl.signal });
      if (res.status === 401) { showAuth(true); return; }
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
    field('name', 'name', el('input', { maxlength: 15, placeholder: 'tap0 (blank: kernel picks)' })),
    field('MTU', 'mtu', el('input', { type: 'number', min: 68, max: 65535, placeholder: '1500' })),
    field('MAC (tap)', 'mac', el('input', { placeholder: '02:00:00:00:00:01' })),
    field('addresses', 'addresses', el('input', { placeholder: '198.18.0.1/24, 2001:db8::1/64' })),
    field('up', 'up', el('input', { type: 'checkbox', checked: true })),
    field('attach', 'attach', el('input', { type: 'checkbox' })),
    field('packet_info (tun)', 'packet_info', el('input', { type: 'checkbox' })),
    el('div', { class: 'actions' }, el('button', { type: 'submit', text: 'Create port' })),
    el('p', { class: 'form-error error', role: 'alert' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    const body = { type: f.type.value, up: f.up.checked };
    if (f.name.value.trim()) body.name = f.name.value.trim();
    if (f.mtu.value !== '') body.mtu = Number(f.mtu.value);
    if (f.mac.value.trim()) body.mac = f.mac.value.trim();
    const addrs = splitList(f.addresses.value);
    if (addrs.length) body.addresses = addrs;
    if (f.attach.checked) body.attach = true;
    if (f.packet_info.checked) body.packet_info = true;
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
      tbody.replaceChildren(...state.ports.map((p) => {
        const r = lastRate(p.name);
        const del = el('button', { type: 'button', text: 'Delete', 'aria-label': `delete ${p.name}` });
        del.addEventListener('click', async () => {
          if (!window.confirm(`Delete port ${p.name}?`)) return;
          try { await request('DELETE', `/ports/${encodeURIComponent(p.name)}`); listErr.textContent = ''; refreshAll(); }
          catch (e) { listErr.textContent = String(e.message); }
        });
        return el('tr', { 'data-port': p.name },
          el('td', {}, el('a', { href: `#/ports/${encodeURIComponent(p.name)}`, text: p.name })),
          el('td', { text: p.type }),
          el('td', { class: `state-${p.state}${p.drift && p.drift.length ? ' drift' : ''}`, text: stateText(p) }),
          el('td', { text: (p.addresses || []).join(', ') || '—' }),
          el('td', { class: 'num rx', text: r ? fmtRate(r.rx, r.rxf) : '—' }),
          el('td', { class: 'num tx', text: r ? fmtRate(r.tx, r.txf) : '—' }),
          el('td', {}, del));
      }));
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
  ctx.fillText(`max ${fmtRate(max, 0).split(' (')[0]} — rx blue, tx green, last 5 min`, 6, 12);
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
  const form = el('form', { id: 'bind', class: 'grid-form' });
  const level = el('select', {}, ...matchLevels(port.type).map(([v, t]) => el('option', { value: v, text: t })));
  const ethertype = el('select', {},
    ...(port.type === 'tap' ? [['2054', 'ARP (2054)']] : []).concat([['2048', 'IPv4 (2048)'], ['34525', 'IPv6 (34525)']])
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
      if (lv === 'ethertype' || port.type === 'tap' || ethertype.value !== '2054') m.ethertype = Number(ethertype.value);
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
    const hs = handlersFor(port.type, lv, match());
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
    if (h === 'forward') o.push(field('to port', 'options.port', el('select', {},
      ...state.ports.filter((p) => p.name !== port.name && p.type === port.type)
        .map((p) => el('option', { text: p.name })))));
    opts.replaceChildren(...o);
  };
  level.addEventListener('change', update);
  ethertype.addEventListener('change', update);
  proto.addEventListener('input', update);
  handler.addEventListener('change', update);
  form.append(field('match', 'match', level), fEth, fProto, fUdp, field('handler', 'handler', handler), opts,
    el('div', { class: 'actions' }, el('button', { type: 'submit', text: 'Add binding' })),
    el('p', { class: 'form-error error', role: 'alert' }));
  update();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await request('POST', `/ports/${encodeURIComponent(port.name)}/bindings`,
        { match: match(), handler: handler.value, options: options() });
      clearFormErrors(form);
      refreshAll();
    } catch (e) { showFormError(form, e); }
  });
  return form;
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

function summarize(rec) {
  const h = rec.headers || {};
  const ip = h.ipv4 || h.ipv6 || {};
  const l4 = h.udp ? `UDP ${h.udp.src_port} → ${h.udp.dst_port}` : h.icmp ? `ICMP ${h.icmp.type}`
    : h.icmpv6 ? `ICMPv6 ${h.icmpv6.type}` : h.arp ? 'ARP' : h.ip_protocol !== undefined ? `proto ${h.ip_protocol}` : '';
  let payload = '';
  if (h.payload) payload = [...hexToBytes(h.payload)].map((x) => (x >= 32 && x < 127 ? String.fromCharCode(x) : '.')).join('');
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

function captureSection(port) {
  const name = encodeURIComponent(port.name);
  let after = 0;
  let records = [];
  let selected = null;
  let paused = false;
  let ctl = null;
  let stopped = false;
  const list = el('tbody');
  const detail = el('div', { class: 'capture-detail', id: 'capture-detail' });
  const filter = el('select', { 'aria-label': 'filter by binding' }, el('option', { value: '', text: 'all bindings' }));
  const pause = el('button', { type: 'button', text: 'Pause', 'aria-pressed': 'false' });
  const err = el('p', { class: 'error', role: 'alert' });
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
    if (!paused) follow();
  });
  const clear = el('button', { type: 'button', text: 'Clear', onclick: () => { records = []; selected = null; render(); } });
  filter.addEventListener('change', render);
  const dl = (ext) => el('button', { type: 'button', text: `Download ${ext}`, class: `dl-${ext}`,
    onclick: () => download(`/ports/${name}/captures.${ext}`, `${port.name}.${ext}`, err) });

  function render() {
    const b = filter.value;
    list.replaceChildren(...records.filter((r) => !b || String(r.binding) === b).slice(-200).map((r) => {
      const s = summarize(r);
      const tr = el('tr', { tabindex: 0, class: r === selected ? 'selected' : '', 'data-seq': r.seq },
        el('td', { class: 'num', text: String(r.seq) }), el('td', { text: r.time.slice(11, 23) }),
        el('td', { text: String(r.binding) }), el('td', { text: s.src }), el('td', { text: s.dst }),
        el('td', { text: s.l4 }), el('td', { class: 'num', text: String(r.len) }),
        el('td', { class: 'payload', text: s.payload }));
      const pick = () => { selected = r; render(); };
      tr.addEventListener('click', pick);
      tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); pick(); } });
      return tr;
    }));
    if (selected) {
      detail.replaceChildren(headerTable(selected.headers),
        el('pre', { class: 'hex', text: hexDump(hexToBytes(selected.data || '')) }));
    } else detail.replaceChildren(el('p', { class: 'muted', text: 'Select a frame to see its headers and bytes.' }));
  }

  async function follow() {
    if (ctl) return;
    while (!stopped && !paused) {
      ctl = new AbortController();
      try {
        const page = await request('GET', `/ports/${name}/captures?after=${after}&limit=100&wait=20`,
          undefined, { signal: ctl.signal });
        err.textContent = '';
        if (page.records.length) {
          records.push(...page.records);
          if (records.length > 1000) records = records.slice(-1000);
          render();
        }
        after = page.next_after;
      } catch (e) {
        if (stopped) break;
        if (e instanceof HttpError) err.textContent = e.message;
        if (e instanceof HttpError && e.status === 404) break;
        await new Promise((r) => setTimeout(r, 2000));
      } finally { ctl = null; }
    }
  }

  const sec = el('section', { id: 'captures' }, el('h2', { text: 'Captures' }),
    el('div', { class: 'toolbar' }, pause, clear, filter, dl('pcap'), dl('pcapng')), err,
    el('div', { class: 'scroll' }, el('table', { id: 'capture-list' },
      el('thead', {}, el('tr', {}, ...['#', 'time', 'binding', 'src', 'dst', 'proto', 'len', 'payload'].map((t) => el('th', { text: t })))),
      list)), detail);
  render();
  follow();
  return {
    sec,
    bindings(ids) {
      const cur = filter.value;
      filter.replaceChildren(el('option', { value: '', text: 'all bindings' }),
        ...ids.map((id) => el('option', { value: String(id), text: `binding ${id}` })));
      filter.value = ids.map(String).includes(cur) ? cur : '';
    },
    stop() { stopped = true; if (ctl) ctl.abort(); },
  };
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
  let formPort = null;
  const cap = captureSection({ name });
  const bindSec = el('section', { id: 'bindings' }, el('h2', { text: 'Bindings' }), bindErr,
    el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, el('tr', {},
      ...['id', 'match', 'handler', 'options', 'packets', 'bytes', 'errors', 'own', ''].map((t) => el('th', { text: t })))), bindList)));
  root.append(el('p', {}, el('a', { href: '#/', text: '← all ports' })), missing,
    el('section', {}, title, el('div', { class: 'cols' },
      el('div', {}, el('h3', { text: 'Link: configured / kernel' }), link),
      el('div', {}, el('h3', { text: 'Edit' }), edit))),
    el('section', {}, el('h2', { text: 'Traffic' }), canvas, el('div', { class: 'cols' },
      el('div', {}, el('h3', { text: 'Counters' }), counters),
      el('div', {}, el('h3', { text: 'Where frames went' }), breakdown))),
    bindSec, cap.sec);

  function buildEdit(p) {
    edit.replaceChildren(
      field('up', 'up', el('input', { type: 'checkbox', checked: p.up })),
      field('MTU', 'mtu', el('input', { type: 'number', value: p.mtu ?? '' })),
      field('addresses', 'addresses', el('input', { value: (p.addresses || []).join(', ') })),
      el('div', { class: 'actions' }, el('button', { type: 'submit', text: 'Save' })),
      el('p', { class: 'form-error error', role: 'alert' }));
  }
  edit.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = edit.elements;
    const body = { up: f.up.checked, addresses: splitList(f.addresses.value) };
    if (f.mtu.value !== '') body.mtu = Number(f.mtu.value);
    try {
      await request('PATCH', `/ports/${encodeURIComponent(name)}`, body);
      clearFormErrors(edit);
      formPort = null; // rebuilt from the answer on the next refresh
      refreshAll();
    } catch (e) { showFormError(edit, e); }
  });

  async function loadBindings() {
    try {
      const data = await request('GET', `/ports/${encodeURIComponent(name)}/bindings`);
      const bs = (data.bindings || []).map(flatBinding);
      cap.bindings(bs.filter((b) => b.handler === 'capture').map((b) => b.id));
      bindList.replaceChildren(...bs.map((b) => {
        const c = b.counters || {};
        const own = Object.entries(c).filter(([k]) => !['packets', 'bytes', 'errors'].includes(k))
          .map(([k, v]) => `${k} ${v}`).join(', ');
        const rm = el('button', { type: 'button', text: 'Remove', 'aria-label': `remove binding ${b.id}` });
        rm.addEventListener('click', async () => {
          try { await request('DELETE', `/ports/${encodeURIComponent(name)}/bindings/${b.id}`); bindErr.textContent = ''; refreshAll(); }
          catch (e) { bindErr.textContent = e.message; }
        });
        return el('tr', { 'data-binding': b.id }, el('td', { text: String(b.id) }), el('td', { text: describeMatch(b.match) }),
          el('td', { text: b.handler }), el('td', { text: JSON.stringify(b.options) }),
          el('td', { class: 'num', text: String(c.packets) }), el('td', { class: 'num', text: String(c.bytes) }),
          el('td', { class: 'num', text: String(c.errors) }), el('td', { text: own }), el('td', {}, rm));
      }));
    } catch { /* shown by the stale mark / token prompt */ }
  }

  const kv = (table, rows) => table.replaceChildren(el('tbody', {}, ...rows.map(([k, ...v]) =>
    el('tr', {}, el('th', { text: k }), ...v.map((x) => el('td', { text: x === undefined || x === null ? '—' : String(x) }))))));

  return {
    refresh() {
      const p = state.ports.find((x) => x.name === name);
      missing.hidden = !!p;
      if (!p) return;
      if (!bindSec.querySelector('#bind')) bindSec.append(el('h3', { text: 'Add a binding' }), bindingForm(p));
      if (!formPort) { buildEdit(p); formPort = p; }
      const lk = p.link || {};
      title.textContent = `Port ${p.name} — ${stateText(p)}`;
      kv(link, [['', 'configured', 'kernel'], ['type', p.type, (p.flags || []).join(' ')], ['ifindex', '', p.ifindex],
        ['up', p.up, lk.up ?? p.up], ['mtu', p.mtu, lk.mtu ?? p.mtu], ['mac', p.mac, lk.mac ?? p.mac],
        ['addresses', (p.addresses || []).join(', '), (lk.addresses || []).join(', ')],
        ['drift', '', (p.drift || []).join(', ') || 'none'], ['attach', p.attach, ''], ['packet_info', p.packet_info, ''],
        ['last error', '', p.last_error ? `${p.last_error.operation}: ${p.last_error.errno_name}` : 'none']]);
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
  const svg = document.createElementNS(svgNS, 'svg');
  svg.setAttribute('viewBox', '0 0 600 400');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'ports and forward bindings');
  svg.id = 'network';
  const legend = el('ul', { id: 'links' });
  root.append(el('section', {}, el('h2', { text: 'Simulated network' }),
    el('p', { class: 'muted', text: 'Ports as nodes, forward bindings as links (with the binding\'s packets).' }), svg, legend));
  const s = (tag, attrs, text) => {
    const e = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
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
            for (const b of (d.bindings || []).map(flatBinding))
              if (b.handler === 'forward') links.push({ from: p.name, to: b.options.port, b });
          } catch { /* skip a port that went away meanwhile */ }
        }
        const pos = new Map();
        ports.forEach((p, i) => {
          const a = (2 * Math.PI * i) / Math.max(1, ports.length) - Math.PI / 2;
          pos.set(p.name, [300 + 150 * Math.cos(a), 200 + 140 * Math.sin(a)]);
        });
        const kids = [];
        for (const l of links) {
          const a = pos.get(l.from);
          const b = pos.get(l.to);
          if (!a || !b) continue;
          kids.push(s('line', { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: 'link' }),
            s('text', { x: (a[0] + b[0]) / 2, y: (a[1] + b[1]) / 2 - 4, class: 'linklabel' }, `${l.b.counters.packets} pkts`));
        }
        for (const p of ports) {
          const [x, y] = pos.get(p.name);
          const r = lastRate(p.name);
          const g = s('a', { href: `#/ports/${encodeURIComponent(p.name)}` });
          g.append(s('circle', { cx: x, cy: y, r: 26, class: `node state-${p.state}` }),
            s('text', { x, y: y + 4, 'text-anchor': 'middle', class: 'nodelabel' }, p.name),
            s('text', { x, y: y + 42, 'text-anchor': 'middle', class: 'rate' }, r ? fmtRate(r.rx + r.tx, r.rxf + r.txf).split(' (')[0] : ''));
          kids.push(g);
        }
        svg.replaceChildren(...kids);
        legend.replaceChildren(...links.map((l) => el('li', { text: `${l.from} → ${l.to} (binding ${l.b.id}, ${describeMatch(l.b.match)}): ${l.b.counters.forwarded ?? 0} forwarded` })));
        if (!ports.length) legend.replaceChildren(el('li', { class: 'muted', text: 'No ports yet.' }));
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
    const name = decodeURIComponent(m[1]);
    state.view = portView(root, name);
    document.title = `paird ${name} — ${location.hostname}`;
  } else if (h === '#/network') {
    state.view = networkView(root);
    document.title = `paird network — ${location.hostname}`;
  } else {
    state.view = portsView(root);
    document.title = `paird — ${location.hostname}`;
  }
  state.view.refresh();
  refreshAll();
}

window.addEventListener('hashchange', route);
route();
schedulePoll();
runStream();
