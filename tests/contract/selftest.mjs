// SPDX-License-Identifier: MIT
/*
 * Proves the contract check can fail. Writes deliberately wrong exchanges
 * to a temporary directory, one case per directory next to a set of good
 * exchanges, runs validate.mjs on each and expects exit 1, a FAIL line
 * naming the bad file with the right message, and no FAIL line for the
 * good files; the good set alone must pass (exit 0). Also: an empty and a
 * missing exchange directory, and a broken OpenAPI document, must fail.
 *
 *   node tests/contract/selftest.mjs openapi.yaml [--keep]
 *
 * Exits 0 when every case behaves, 1 otherwise (TAP-like output).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import SwaggerParser from '@apidevtools/swagger-parser';

const here = dirname(fileURLToPath(import.meta.url));
const validator = join(here, 'validate.mjs');
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const specArg = args.find((a) => !a.startsWith('-'));

if (!specArg) {
	process.stderr.write('usage: node selftest.mjs OPENAPI_FILE [--keep]\n');
	process.exit(2);
}
const spec = resolve(specArg);

/* --- realistic pieces, as paird answers them --- */

const MALFORMED = [
	'truncated', 'eth_short', 'pi_short', 'ip_bad_version', 'arp_short', 'ipv4_short',
	'ipv4_bad_version', 'ipv4_bad_ihl', 'ipv4_bad_total_length', 'ipv4_bad_checksum', 'ipv6_short',
	'ipv6_bad_version', 'ipv6_bad_payload_length', 'ipv6_bad_ext_header', 'ipv6_hbh_not_first',
	'ipv6_bad_jumbo', 'icmp_short',
	'icmp_bad_checksum', 'icmpv6_short', 'icmpv6_bad_checksum', 'udp_short', 'udp_bad_length',
	'udp_bad_checksum',
];

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function headers(contentType, extra = {}) {
	const h = {
		'x-content-type-options': 'nosniff',
		'cache-control': 'no-store',
		'referrer-policy': 'no-referrer',
		'x-frame-options': 'DENY',
		'content-security-policy': CSP,
		...extra,
	};

	if (contentType)
		h['content-type'] = contentType;
	return h;
}

/* A port: @over replaces members, @status members of its status. */
function port(over = {}, status = {}) {
	return {
		name: 'tap0',
		version: 1795814443021781,
		config: {
			type: 'tap', mtu: 1500, mac: null, up: true, addresses: ['198.18.0.1/24', '2001:db8::1/64'],
			attach: false, queues: 1, packet_info: false, vnet_hdr: false, strict: false,
		},
		status: {
			state: 'up',
			ifindex: 2,
			flags: ['IFF_TAP', 'IFF_NO_PI'],
			offloads: [],
			mtu: 1500,
			mac: '02:00:00:00:00:01',
			up: true,
			addresses: ['198.18.0.1/24', '2001:db8::1/64'],
			drift: [],
			last_error: null,
			created: '2026-11-26T22:33:09.616Z',
			queues: [{ rx_frames: 3, handoff_dropped: 0 }],
			...status,
		},
		counters: {
			rx_frames: 3, rx_bytes: 290, tx_frames: 0, tx_bytes: 0, truncated: 0,
			rx_gso_frames: 0, rx_gso_bad: 0, tx_gso_frames: 0,
			read_errors: {}, write_errors: { EIO: 2 },
			matched: 1, unmatched: { ethertype: 2, ip_protocol: 0, udp_port: 0 },
			malformed: Object.fromEntries(MALFORMED.map((r) => [r, 0])),
			bad_checksum: { ipv4: 0, udp: 0, icmp: 0, icmpv6: 0 },
			fragments: 0,
			capture: { records: 1, bytes: 54, evictions: 0, dropped: 0, capacity: 8388608 },
			bindings: [{ id: 1, handler: 'capture', packets: 1, bytes: 54, errors: 0, captured: 1, filtered_out: 0 }],
			since: '2026-11-26T22:33:09.616Z',
		},
		...over,
	};
}

function binding(over = {}) {
	return {
		id: 1,
		name: null,
		version: 1795814443021782,
		config: {
			match: { ethertype: 2048, ip_protocol: 17, udp_port: 9 },
			handler: 'capture',
			options: { limit: 0, snaplen: 65557, filter: '' },
		},
		status: { created: '2026-11-26T22:50:31.532Z' },
		counters: { packets: 1, bytes: 54, errors: 0, captured: 1, filtered_out: 0 },
		...over,
	};
}

const record = {
	seq: 9, time: '2026-11-26T22:50:34.080Z', binding: 1, len: 54, caplen: 54,
	headers: {
		malformed: 'none',
		ethernet: { src: '02:00:00:00:30:01', dst: '02:00:00:00:30:02', type: 2048 },
		ipv4: {
			version: 4, ihl: 20, tos: 0, total_length: 40, id: 10065, fragment_offset: 0, df: true,
			mf: false, ttl: 64, protocol: 17, checksum: 19276, checksum_status: 'ok',
			src: '198.18.30.1', dst: '198.18.30.2',
		},
		ip_protocol: 17, fragment: false,
		udp: { src_port: 40000, dst_port: 9, length: 20, checksum: 2832, checksum_status: 'ok' },
		payload: '747769737465642070616972', payload_length: 12,
	},
	data: '0200000030020200000030010800450000282751400040114b4cc6121e01c6121e029c40000900140b10747769737465642070616972',
};

const METRICS = '# HELP paird_ports Ports paird holds.\n# TYPE paird_ports gauge\npaird_ports 1\n';

function problem(status, slug, title, over = {}) {
	return { type: `urn:paird:problem:${slug}`, title, status, detail: 'something', instance: '/x', ...over };
}

function json(method, url, status, body, extraHeaders = {}) {
	return {
		method, url, status,
		headers: headers(status >= 400 ? 'application/problem+json' : 'application/json', extraHeaders),
		body: JSON.stringify(body),
	};
}

const gonePort = port({ name: 'g0' }, {
	ifindex: null, mtu: null, mac: null, up: false, addresses: null, state: 'gone',
	last_error: {
		operation: 'link', errno: 19, errno_name: 'ENODEV',
		message: 'the interface was deleted outside paird', time: '2026-11-26T22:33:20.531Z',
	},
});

const ETAG = { etag: '"1795814443021781"' };

/* Each must pass on its own and next to every bad case. */
const GOOD = {
	'good/list.json': json('GET', '/api/v1/ports?verbose=1', 200, { ports: [port(), gonePort] }),
	'good/created.json': json('POST', '/api/v1/ports', 201, port(),
				  { location: '/api/v1/ports/tap0', ...ETAG, 'paird-changed': 'true' }),
	'good/head.json': { method: 'HEAD', url: '/api/v1/ports/tap0', status: 200,
			    headers: headers('application/json', ETAG) },
	'good/options.json': { method: 'OPTIONS', url: '/api/v1/ports/tap0', status: 204,
			       headers: headers(null, { allow: 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS' }) },
	'good/405.json': json('PUT', '/api/v1/ports', 405, problem(405, 'method-not-allowed', 'Method Not Allowed'),
			      { allow: 'GET, HEAD, POST' }),
	'good/404-unlisted.json': json('GET', '/nope', 404, problem(404, 'not-found', 'Not Found')),
	'good/conflict.json': json('POST', '/api/v1/ports', 409,
				   problem(409, 'limit-reached', 'Conflict', { errno: 28, errno_name: 'ENOSPC' })),
	'good/health.json': json('GET', '/healthz', 200,
				 { status: 'ok', version: '0.1.0', started: '2026-11-26T22:33:09.182Z', uptime_seconds: 3, ports: 2,
				   failed: 0, failed_ports: [] }),
	'good/css.json': { method: 'GET', url: '/style.css', status: 200,
			   headers: headers('text/css; charset=utf-8'), body: 'body { margin: 0 }\n' },
	'good/binary.json': { method: 'GET', url: '/', status: 200, headers: headers('text/html; charset=utf-8') },
	'good/binding.json': json('POST', '/api/v1/ports/tap0/bindings', 201, binding(),
				  { location: '/api/v1/ports/tap0/bindings/1', ...ETAG, 'paird-changed': 'true' }),
	'good/captures.json': json('GET', '/api/v1/ports/tap0/captures?after=8&limit=1', 200,
				   { records: [record], next_after: 9, oldest_seq: 1, newest_seq: 9, generation: 7,
				     stop: 'newest' }),
	'good/gone.json': json('GET', '/api/v1/ports/tap0/captures', 410,
			       problem(410, 'gone', 'Gone', { oldest_seq: 548 })),
	/* Binary bodies are recorded without one; a text one is never parsed as JSON. */
	'good/pcap.json': { method: 'GET', url: '/api/v1/ports/tap0/captures.pcap', status: 200,
			    headers: headers('application/vnd.tcpdump.pcap',
					     { 'content-disposition': 'attachment; filename="tap0.pcap"' }) },
	'good/pcap-body.json': { method: 'GET', url: '/api/v1/ports/tap0/captures.pcap', status: 200,
				 headers: headers('application/vnd.tcpdump.pcap',
						  { 'content-disposition': 'attachment; filename="tap0.pcap"' }),
				 body: '\ufffd\ufffd\ufffd\ufffd\u0002\u0000\u0004\u0000' },
	'good/metrics.json': { method: 'GET', url: '/metrics', status: 200,
			       headers: headers('text/plain; version=0.0.4; charset=utf-8'), body: METRICS },
	'good/options-metrics.json': { method: 'OPTIONS', url: '/metrics', status: 204,
				       headers: headers(null, { allow: 'GET, HEAD, OPTIONS' }) },
};

/* name → [file, exchange or raw text, expected message (RegExp)] */
const BAD = {
	'undocumented status': ['bad-status.json',
		json('GET', '/api/v1/ports/tap0', 418, problem(418, 'teapot', 'I\'m a teapot')),
		/undocumented status 418 for GET \/api\/v1\/ports\/\{name\}/],
	'Port with an extra member': ['bad-extra.json',
		json('GET', '/api/v1/ports/tap0', 200, port({ colour: 'blue' }), ETAG),
		/body must NOT have additional properties \("colour"\)/],
	'Port member of the wrong type': ['bad-type.json',
		json('GET', '/api/v1/ports/tap0', 200, port({}, { mtu: '1500' }), ETAG),
		/body\/status\/mtu must be integer,null/],
	'nested wrong type (counters)': ['bad-counter.json',
		json('GET', '/api/v1/ports', 200, { ports: [port({ counters: { ...port().counters, rx_frames: -1 } })] }),
		/body\/ports\/0\/counters\/rx_frames must be >= 0/],
	'problem without detail': ['bad-problem.json',
		json('GET', '/api/v1/ports/nope', 404, { type: 'urn:paird:problem:not-found', title: 'Not Found', status: 404 }),
		/body must have required property 'detail'/],
	'problem of the wrong kind for its status': ['bad-kind.json',
		json('DELETE', '/api/v1/ports/nope', 404, problem(404, 'conflict', 'Not Found')),
		/body\/type must be equal to constant \("urn:paird:problem:not-found"\)/],
	'201 without Location': ['bad-location.json',
		json('POST', '/api/v1/ports', 201, port()),
		/missing header Location \(required for 201 of POST \/api\/v1\/ports\)/],
	'401 without WWW-Authenticate': ['bad-401.json',
		json('GET', '/api/v1/ports', 401, problem(401, 'unauthorized', 'Unauthorized')),
		/missing header WWW-Authenticate/],
	'405 without Allow': ['bad-405.json',
		json('POST', '/healthz', 405, problem(405, 'method-not-allowed', 'Method Not Allowed')),
		/missing header Allow/],
	'405 with a wrong Allow': ['bad-allow.json',
		json('PUT', '/api/v1/ports', 405, problem(405, 'method-not-allowed', 'Method Not Allowed'), { allow: 'GET, HEAD' }),
		/Allow "GET, HEAD" does not match the methods documented for \/api\/v1\/ports; missing POST/],
	'undocumented path': ['bad-path.json',
		json('GET', '/api/v1/widgets', 200, { widgets: [] }),
		/undocumented path \/api\/v1\/widgets/],
	'undocumented method': ['bad-method.json',
		json('TRACE', '/healthz', 200, {}),
		/undocumented method TRACE for \/healthz/],
	'undocumented content type': ['bad-ct.json',
		{ ...json('GET', '/healthz', 200, {}), headers: headers('text/plain') },
		/content-type text\/plain is not documented for 200 of GET \/healthz/],
	'body that is not JSON': ['bad-json.json',
		{ ...json('GET', '/api/v1/ports', 200, {}), body: '{"ports": [' },
		/body is not JSON/],
	'security header with a wrong value': ['bad-header.json',
		json('GET', '/api/v1/ports', 200, { ports: [] }, { 'x-frame-options': 'SAMEORIGIN' }),
		/header X-Frame-Options must be equal to constant \("DENY"\)/],
	'a file that is not an exchange': ['bad-file.json', '{"method": "GET", ',
		/not an exchange/],
	'a binding with another handler\'s counter': ['bad-binding-counter.json',
		json('GET', '/api/v1/ports/tap0/bindings/1', 200,
		     binding({ counters: { ...binding().counters, replies: 1 } })),
		/body\/counters\/replies boolean schema is false/],
	'a binding placed where its handler cannot live': ['bad-binding-match.json',
		json('GET', '/api/v1/ports/tap0/bindings/1', 200,
		     binding({ config: { handler: 'arp_reply', match: { ethertype: 2048 },
					 options: { addresses: ['198.18.0.2'] } },
			       counters: { packets: 0, bytes: 0, errors: 0, replies: 0 } }), ETAG),
		/body\/config\/match\/ethertype must be equal to constant \(2054\)/],
	'a binding 201 without Location': ['bad-binding-location.json',
		json('POST', '/api/v1/ports/tap0/bindings', 201, binding()),
		/missing header Location \(required for 201 of POST \/api\/v1\/ports\/\{name\}\/bindings\)/],
	'a capture record with an undocumented header': ['bad-record.json',
		json('GET', '/api/v1/ports/tap0/captures', 200,
		     { records: [{ ...record, headers: { ...record.headers, tcp: {} } }],
		       next_after: 9, oldest_seq: 1, newest_seq: 9, generation: 7, stop: 'newest' }),
		/body\/records\/0\/headers must NOT have additional properties \("tcp"\)/],
	'a 410 without oldest_seq': ['bad-gone.json',
		json('GET', '/api/v1/ports/tap0/captures', 410, problem(410, 'gone', 'Gone')),
		/body must have required property 'oldest_seq'/],
	'a pcap answered as JSON': ['bad-pcap.json',
		json('GET', '/api/v1/ports/tap0/captures.pcap', 200, {},
		     { 'content-disposition': 'attachment; filename="tap0.pcap"' }),
		/content-type application\/json is not documented for 200 of GET \/api\/v1\/ports\/\{name\}\/captures\.pcap/],
	'metrics that are not the exposition format': ['bad-metrics.json',
		{ method: 'GET', url: '/metrics', status: 200,
		  headers: headers('text/plain; version=0.0.4; charset=utf-8'), body: '{"ports": 1}' },
		/body must match pattern/],
};

/* --- running --- */

const root = mkdtempSync(join(tmpdir(), 'paird-contract-selftest-'));
let failed = 0;
let n = 0;

function write(dir, file, content) {
	const full = join(dir, file);

	mkdirSync(dirname(full), { recursive: true });
	writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content, null, 1));
}

function run(specFile, dir) {
	const r = spawnSync(process.execPath, [validator, specFile, dir], { encoding: 'utf8' });

	return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function report(name, problemText, out) {
	n++;
	if (!problemText) {
		console.log(`ok ${n} - ${name}`);
		return;
	}
	failed++;
	console.log(`not ok ${n} - ${name}: ${problemText}`);
	console.log(out.replace(/^/gm, '    # ').trimEnd());
}

function expectFailure(name, specFile, dir, pattern, badFile) {
	const { code, out } = run(specFile, dir);
	const fails = out.split('\n').filter((l) => l.startsWith('FAIL '));
	let why = null;

	if (code !== 1)
		why = `exit ${code}, expected 1`;
	else if (!pattern.test(out))
		why = `no output matches ${pattern}`;
	else if (badFile && !fails.some((l) => l.startsWith(`FAIL ${badFile}:`) && pattern.test(l)))
		why = `no FAIL line for ${badFile} carries the message`;
	else if (fails.some((l) => l.startsWith('FAIL good/')))
		why = 'a good exchange was reported';
	report(name, why, out);
}

try {
	const good = join(root, 'good-only');

	for (const [file, ex] of Object.entries(GOOD))
		write(good, file, ex);
	{
		const { code, out } = run(spec, good);

		report(`${Object.keys(GOOD).length} good exchanges pass`,
		       code === 0 ? null : `exit ${code}, expected 0`, out);
	}

	for (const [name, [file, ex, pattern]] of Object.entries(BAD)) {
		const dir = join(root, file.replace(/\.json$/, ''));

		for (const [g, gex] of Object.entries(GOOD))
			write(dir, g, gex);
		write(dir, file, ex);
		expectFailure(`rejects: ${name}`, spec, dir, pattern, file);
	}

	mkdirSync(join(root, 'empty'));
	write(root, 'empty/README.txt', 'not an exchange\n');
	expectFailure('rejects: a directory without exchanges', spec, join(root, 'empty'), /no exchanges/);
	expectFailure('rejects: a missing directory', spec, join(root, 'missing'), /no exchange directory/);

	/* Broken documents, made from the real one; the good exchanges must not save them. */
	const doc = await SwaggerParser.parse(spec);
	const broken = {
		'an invalid OpenAPI document': [(d) => delete d.info, /not a valid OpenAPI document/],
		'a 201 that does not require Location': [
			(d) => delete d.components.responses.PortCreated.headers.Location,
			/201 must require a Location header/],
		'an example that breaks its schema': [
			(d) => { d.components.schemas.Port.examples[0].status.mtu = 'big'; },
			/components\.schemas\.Port examples\[0\]: example\/status\/mtu must be integer,null/],
		'/metrics without the bearer scheme': [
			(d) => { d.paths['/metrics'].get.security = []; },
			/GET \/metrics: \/api\/ paths and \/metrics need the bearer scheme/],
		'/healthz with the bearer scheme': [
			(d) => { d.paths['/healthz'].get.security = [{ bearerToken: [] }]; },
			/GET \/healthz: only \/api\/ paths and \/metrics take the bearer scheme/],
	};

	for (const [name, [mutate, pattern]] of Object.entries(broken)) {
		const d = structuredClone(doc);
		const file = join(root, `openapi-${n}.json`);

		mutate(d);
		writeFileSync(file, JSON.stringify(d));
		expectFailure(`rejects: ${name}`, file, good, pattern);
	}
} finally {
	if (keep)
		console.log(`# cases kept in ${root}`);
	else
		rmSync(root, { recursive: true, force: true });
}

console.log(`1..${n}`);
console.log(failed ? `# ${failed} of ${n} self-test case(s) failed` : `# all ${n} self-test cases behaved`);
process.exitCode = failed ? 1 : 0;
