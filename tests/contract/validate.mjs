// SPDX-License-Identifier: MIT
/*
 * The contract check: validates openapi.yaml itself, then every HTTP
 * exchange the integration tests recorded against it. An exchange is one
 * JSON file (any name ending in .json, in EXCHANGE_DIR or below):
 *
 *   {"method": "POST", "url": "/api/v1/ports?x=1", "status": 201,
 *    "headers": {"content-type": "application/json", "location": "...", ...},
 *    "body": "<the raw response body text>"}
 *
 * `body` may be absent (binary bodies such as the pcap download): then
 * only the status and headers are checked. For each exchange the path
 * template, the operation (HEAD uses GET's) and the response for the
 * status must be documented; the content type must be one the response
 * documents; the body must validate against its schema (ajv, JSON Schema
 * 2020-12, formats on), parsed as JSON only when the answered content
 * type is JSON (application/json, *+json), else (the text/plain metrics,
 * YAML, HTML, a binary body recorded anyway) as the raw string; the
 * headers the response marks required must be there and match their
 * schemas. A text/event-stream body (GET /api/v1/events) is also parsed
 * into its events, each validated against the schema its media type's
 * `x-events` names for its type.
 *
 * The document itself is linted for this project's rules: the operations
 * of the paths paird guards (/api/... and /metrics) and only those take
 * the bearer scheme and document a 401 with WWW-Authenticate; every error
 * is application/problem+json; a 201 requires Location; a 405 and an
 * OPTIONS 204 require Allow; every example validates against its schema.
 *
 * Two answers cannot be attached to an operation in OpenAPI, so they are
 * checked against shared components instead: a path no template matches
 * may only answer 404 (components.responses.NotFound), and a method a
 * path does not list may only answer 405 (components.responses.
 * MethodNotAllowed) with an Allow header naming the path's methods, or
 * one of the refusals paird makes before routing, whatever the method:
 * 401 on a guarded path (Unauthorized), 403 (ForbiddenRequest), 413
 * (ContentTooLarge).
 *
 *   node tests/contract/validate.mjs openapi.yaml EXCHANGE_DIR [--verbose]
 *
 * Prints one line per failure and a summary; exits 1 on any failure and
 * when EXCHANGE_DIR is missing or holds no exchange (a check that checked
 * nothing must not pass), 2 on bad usage, 0 otherwise. --verbose also
 * lists the documented operation x status pairs no exchange covered.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { inspect } from 'node:util';

import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/* Keywords OpenAPI 3.1 adds to JSON Schema; known to ajv so strict mode still catches typos. */
const OPENAPI_KEYWORDS = ['example', 'discriminator', 'xml', 'externalDocs'];
/* Headers a response object may not describe (OpenAPI 3.1, Response Object). */
const IGNORED_HEADERS = new Set(['content-type']);

function usage() {
	process.stderr.write('usage: node validate.mjs OPENAPI_FILE EXCHANGE_DIR [--verbose]\n');
	process.exit(2);
}

/* --- the document --- */

async function loadSpec(file) {
	try {
		/* validate() checks the document against the OpenAPI 3.1 schema and dereferences it. */
		return await SwaggerParser.validate(file);
	} catch (err) {
		console.log(`FAIL ${file}: not a valid OpenAPI document: ${err.message}`);
		return null;
	}
}

/*
 * Rules of this project the OpenAPI schema cannot express; a document that
 * breaks them would let the exchange checks pass vacuously.
 */
/*
 * The paths paird guards with the bearer token and the cross-site checks
 * (api/api.c, guarded_path()): everything under /api/, and /metrics.
 */
function guardedPath(path) {
	return path === '/api' || path.startsWith('/api/') || path === '/metrics';
}

function lintSpec(spec, file) {
	const problems = [];
	const header = (resp, name) =>
		Object.entries(resp.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];

	if (!spec.openapi?.startsWith('3.1.'))
		problems.push(`openapi is ${spec.openapi}, not 3.1.x`);
	for (const name of ['NotFound', 'MethodNotAllowed'])
		if (!spec.components?.responses?.[name])
			problems.push(`components.responses.${name} is missing (unrouted answers need it)`);
	forEachOperation(spec, (path, method, op) => {
		const security = op.security ?? spec.security ?? [];
		const guarded = security.some((req) => Object.keys(req).length > 0);

		/* paird checks the token on /api/ and /metrics only: the document must say so, and document the 401. */
		if (guardedPath(path) !== guarded)
			problems.push(`${method.toUpperCase()} ${path}: ${guarded ? 'only /api/ paths and /metrics take' : '/api/ paths and /metrics need'} the bearer scheme`);
		if (guarded && !op.responses?.['401'])
			problems.push(`${method.toUpperCase()} ${path}: guarded by a token but documents no 401`);
		for (const [status, resp] of Object.entries(op.responses ?? {})) {
			const where = `${method.toUpperCase()} ${path} ${status}`;
			const code = Number(status);

			if (code >= 400 && !resp.content?.['application/problem+json'])
				problems.push(`${where}: an error must be application/problem+json`);
			if (code === 201 && !header(resp, 'location')?.required)
				problems.push(`${where}: 201 must require a Location header`);
			if ((code === 405 || (method === 'options' && code === 204)) &&
			    !header(resp, 'allow')?.required)
				problems.push(`${where}: must require an Allow header`);
			if (code === 401 && !header(resp, 'www-authenticate')?.required)
				problems.push(`${where}: 401 must require a WWW-Authenticate header`);
		}
	});
	for (const p of problems)
		console.log(`FAIL ${file}: ${p}`);
	return problems.length;
}

function forEachOperation(spec, fn) {
	for (const [path, item] of Object.entries(spec.paths ?? {}))
		for (const method of METHODS)
			if (item?.[method])
				fn(path, method, item[method]);
}

/* --- matching an exchange to the document --- */

function splitPath(path) {
	return path.split('/').slice(1);
}

/*
 * The path item for @path: a literal path wins, then the template with the
 * most literal segments (so /a/b beats /a/{x}), then the first listed.
 */
function matchPath(spec, path) {
	const segs = splitPath(path);
	let best = null;
	let bestScore = -1;

	if (spec.paths?.[path])
		return { template: path, item: spec.paths[path] };
	for (const [template, item] of Object.entries(spec.paths ?? {})) {
		const tsegs = splitPath(template);
		let score = 0;
		let ok = tsegs.length === segs.length;

		for (let i = 0; ok && i < tsegs.length; i++) {
			if (/^\{[^}]+\}$/.test(tsegs[i]))
				ok = segs[i].length > 0;
			else if (tsegs[i] === segs[i])
				score++;
			else
				ok = false;
		}
		if (ok && score > bestScore) {
			best = { template, item };
			bestScore = score;
		}
	}
	return best;
}

/* The methods a path item takes, as Allow would name them (HEAD with GET). */
function allowedMethods(item) {
	const set = new Set();

	for (const m of METHODS) {
		if (!item[m])
			continue;
		set.add(m.toUpperCase());
		if (m === 'get')
			set.add('HEAD');
	}
	return set;
}

function findResponse(op, status) {
	const r = op.responses ?? {};

	return r[String(status)] ?? r[`${String(status)[0]}XX`] ?? r.default ?? null;
}

function mediaBase(ct) {
	return String(ct).split(';')[0].trim().toLowerCase();
}

function findMedia(content, ct) {
	const base = mediaBase(ct);
	const entries = Object.entries(content);
	const by = (want) => entries.find(([k]) => mediaBase(k) === want)?.[1];

	return by(base) ?? by(`${base.split('/')[0]}/*`) ?? by('*/*') ?? null;
}

function isJsonMedia(base) {
	return base === 'application/json' || base.endsWith('+json');
}

/* --- checks --- */

class Checker {
	constructor(spec) {
		this.spec = spec;
		this.ajv = new Ajv2020({
			strict: true,
			strictTypes: false, /* type: [x, 'null'] and bare const/enum are fine */
			strictRequired: false, /* allOf: [{$ref}, {required: [...]}] */
			allErrors: true,
			validateFormats: true,
		});
		this.ajv.addVocabulary(OPENAPI_KEYWORDS);
		addFormats(this.ajv);
		this.compiled = new WeakMap();
		this.covered = new Set();
		this.extra = { head: 0, unroutedNotFound: 0, methodNotAllowed: 0, refusedEarly: 0 };
	}

	validator(schema) {
		let v = this.compiled.get(schema);

		if (!v) {
			v = this.ajv.compile(schema);
			this.compiled.set(schema, v);
		}
		return v;
	}

	/* Validates @value against @schema; returns messages, [] when valid. */
	validate(schema, value, what) {
		let v;

		try {
			v = this.validator(schema);
		} catch (err) {
			return [`${what}: the document's schema does not compile: ${err.message}`];
		}
		if (v(value))
			return [];
		return (v.errors ?? []).map((e) => {
			let msg = `${what}${e.instancePath} ${e.message}`;

			if (e.keyword === 'additionalProperties')
				msg += ` (${JSON.stringify(e.params.additionalProperty)})`;
			else if (e.keyword === 'enum')
				msg += ` (${e.params.allowedValues.map((x) => JSON.stringify(x)).join(', ')})`;
			else if (e.keyword === 'const')
				msg += ` (${JSON.stringify(e.params.allowedValue)})`;
			return msg;
		});
	}

	/* Checks one exchange; returns a list of failure messages. */
	check(ex) {
		const shape = exchangeShape(ex);

		if (shape.length)
			return shape;
		if (ex.body === null)
			ex = { ...ex, body: undefined };

		const method = ex.method.toUpperCase();
		const path = new URL(ex.url, 'http://paird.invalid').pathname;
		const status = ex.status;
		const headers = lowerKeys(ex.headers ?? {});
		const match = matchPath(this.spec, path);

		if (!match) {
			if (status === 404) {
				this.extra.unroutedNotFound++;
				return this.checkResponse(this.spec.components.responses.NotFound, ex, headers,
							  `404 for unlisted path ${path}`);
			}
			return [`undocumented path ${path} (${method} answered ${status})`];
		}

		const { template, item } = match;
		const lower = method.toLowerCase();
		let op = METHODS.includes(lower) ? item[lower] : undefined;
		let opMethod = method;

		if (!op && method === 'HEAD' && item.get) {
			op = item.get;
			opMethod = 'GET';
		}
		if (!op) {
			/*
			 * paird refuses some requests before it routes them (Host,
			 * cross-site, token, Content-Length), whatever the method:
			 * those answers are the shared components, the rest is 405.
			 */
			const early = {
				401: guardedPath(template) ? 'Unauthorized' : null,
				403: 'ForbiddenRequest',
				413: 'ContentTooLarge',
			}[status];

			if (early) {
				this.extra.refusedEarly++;
				return this.checkResponse(this.spec.components.responses[early], ex, headers,
							  `${status} for ${method} ${template}`);
			}
			if (status !== 405)
				return [`undocumented method ${method} for ${template} (answered ${status})`];
			this.extra.methodNotAllowed++;
			return [
				...this.checkResponse(this.spec.components.responses.MethodNotAllowed, ex, headers,
						      `405 for ${method} ${template}`),
				...checkAllow(headers.allow, allowedMethods(item), true, template),
			];
		}

		const resp = findResponse(op, status);
		const where = `${opMethod} ${template}`;

		if (!resp)
			return [`undocumented status ${status} for ${where}`];
		if (method === 'HEAD' && opMethod === 'GET')
			this.extra.head++;
		else
			this.covered.add(`${where} ${status}`);

		const failures = this.checkResponse(resp, ex, headers, `${status} of ${where}`);

		if (lower === 'options' && status >= 200 && status < 300)
			failures.push(...checkAllow(headers.allow, allowedMethods(item), false, template));
		return failures;
	}

	checkResponse(resp, ex, headers, where) {
		const failures = [];
		const head = ex.method.toUpperCase() === 'HEAD';

		for (const [name, h] of Object.entries(resp.headers ?? {})) {
			const key = name.toLowerCase();
			const value = headers[key];

			if (IGNORED_HEADERS.has(key))
				continue;
			if (value === undefined) {
				if (h.required)
					failures.push(`missing header ${name} (required for ${where})`);
				continue;
			}
			if (h.schema)
				failures.push(...this.validate(h.schema, value, `header ${name}`));
		}

		const content = resp.content ?? {};
		const hasBody = typeof ex.body === 'string' && ex.body.length > 0;
		const ct = headers['content-type'];

		if (Object.keys(content).length === 0) {
			if (hasBody && !head)
				failures.push(`a body, but ${where} documents none`);
			return failures;
		}
		if (ct === undefined) {
			/* HEAD and recorded-without-body exchanges may lack it only if there is no body at all. */
			if (hasBody || (!head && ex.body !== undefined))
				failures.push(`no content-type header (${where} documents ${Object.keys(content).join(', ')})`);
			return failures;
		}
		const media = findMedia(content, ct);

		if (!media) {
			failures.push(`content-type ${ct} is not documented for ${where} (documented: ${Object.keys(content).join(', ')})`);
			return failures;
		}
		if (head || ex.body === undefined || !media.schema)
			return failures;

		let value = ex.body;

		if (isJsonMedia(mediaBase(ct))) {
			try {
				value = JSON.parse(ex.body);
			} catch (err) {
				failures.push(`body is not JSON (${err.message})`);
				return failures;
			}
		}
		failures.push(...this.validate(media.schema, value, 'body'));
		if (mediaBase(ct) === 'text/event-stream' && media['x-events'])
			failures.push(...this.checkEventStream(media['x-events'], ex.body));
		return failures;
	}

	/*
	 * A Server-Sent Events body (a recorded stream, cut anywhere): every
	 * complete event's name must be one the media type lists in x-events,
	 * and its data, parsed as JSON, must validate against that schema.
	 * Comment lines (": keepalive") are allowed; a last event without its
	 * closing blank line is left out, as an EventSource would.
	 */
	checkEventStream(events, body) {
		const failures = [];
		const blocks = body.split('\n\n');

		blocks.pop(); /* unterminated: not dispatched */
		blocks.forEach((block, i) => {
			const fields = {};

			for (const line of block.split('\n')) {
				if (line === '' || line.startsWith(':'))
					continue;
				const at = line.indexOf(':');
				const name = at < 0 ? line : line.slice(0, at);
				const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');

				fields[name] = name === 'data' && fields.data !== undefined ?
					`${fields.data}\n${value}` : value;
			}
			if (fields.data === undefined)
				return;
			const type = fields.event ?? 'message';
			const where = `event ${i} (${type})`;

			if (!events[type]) {
				failures.push(`${where}: not an event type the document lists (${Object.keys(events).join(', ')})`);
				return;
			}
			if (fields.id === undefined)
				failures.push(`${where}: no id`);
			try {
				failures.push(...this.validate(events[type], JSON.parse(fields.data), where));
			} catch (err) {
				failures.push(`${where}: data is not JSON (${err.message})`);
			}
		});
		return failures;
	}

	/* Every example in the document must be valid against its own schema. */
	lintExamples(file) {
		const problems = [];
		const check = (schema, value, where) => {
			for (const m of this.validate(schema, value, 'example'))
				problems.push(`${where}: ${m}`);
		};
		const media = (content, where) => {
			for (const [type, m] of Object.entries(content ?? {})) {
				if (!m.schema)
					continue;
				if (m.example !== undefined)
					check(m.schema, m.example, `${where} ${type} example`);
				for (const [name, ex] of Object.entries(m.examples ?? {}))
					if (ex?.value !== undefined)
						check(m.schema, ex.value, `${where} ${type} example ${name}`);
			}
		};

		forEachOperation(this.spec, (path, method, op) => {
			const where = `${method.toUpperCase()} ${path}`;

			media(op.requestBody?.content, `${where} request`);
			for (const [status, resp] of Object.entries(op.responses ?? {}))
				media(resp.content, `${where} ${status}`);
		});
		for (const [name, schema] of Object.entries(this.spec.components?.schemas ?? {}))
			(Array.isArray(schema.examples) ? schema.examples : []).forEach((ex, i) =>
				check(schema, ex, `components.schemas.${name} examples[${i}]`));
		for (const [name, h] of Object.entries(this.spec.components?.headers ?? {}))
			(Array.isArray(h.schema?.examples) ? h.schema.examples : []).forEach((ex, i) =>
				check(h.schema, ex, `components.headers.${name} examples[${i}]`));
		for (const p of problems)
			console.log(`FAIL ${file}: ${p}`);
		return problems.length;
	}

	coverage() {
		const all = [];

		forEachOperation(this.spec, (path, method, op) => {
			for (const status of Object.keys(op.responses ?? {}))
				all.push(`${method.toUpperCase()} ${path} ${status}`);
		});
		return { all, covered: all.filter((k) => this.covered.has(k)) };
	}
}

/*
 * Allow must name exactly the path's methods. On 405 paird leaves OPTIONS
 * out of the list, so there it may be missing (@optionsOptional).
 */
function checkAllow(value, expected, optionsOptional, template) {
	if (value === undefined)
		return []; /* reported as a missing required header already */
	const got = new Set(String(value).split(',').map((s) => s.trim().toUpperCase()).filter(Boolean));
	const want = new Set(expected);

	if (optionsOptional && !got.has('OPTIONS'))
		want.delete('OPTIONS');
	const missing = [...want].filter((m) => !got.has(m));
	const extra = [...got].filter((m) => !want.has(m));

	if (!missing.length && !extra.length)
		return [];
	return [`Allow "${value}" does not match the methods documented for ${template}` +
		(missing.length ? `; missing ${missing.join(', ')}` : '') +
		(extra.length ? `; undocumented ${extra.join(', ')}` : '')];
}

function exchangeShape(ex) {
	const bad = [];

	if (typeof ex !== 'object' || ex === null || Array.isArray(ex))
		return ['not an exchange: the file must hold one JSON object'];
	if (typeof ex.method !== 'string' || !/^[A-Za-z]+$/.test(ex.method))
		bad.push('not an exchange: "method" must be an HTTP method name');
	if (typeof ex.url !== 'string' || !ex.url.startsWith('/') && !/^https?:\/\//.test(ex.url))
		bad.push('not an exchange: "url" must be a path or an http(s) URL');
	if (!Number.isInteger(ex.status) || ex.status < 100 || ex.status > 599)
		bad.push('not an exchange: "status" must be an integer 100..599');
	if (ex.headers !== undefined && (typeof ex.headers !== 'object' || ex.headers === null || Array.isArray(ex.headers)))
		bad.push('not an exchange: "headers" must be an object');
	if (ex.body !== undefined && ex.body !== null && typeof ex.body !== 'string')
		bad.push('not an exchange: "body" must be a string (the raw body text) or absent');
	return bad;
}

function lowerKeys(headers) {
	const out = {};

	for (const [k, v] of Object.entries(headers))
		out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
	return out;
}

function findExchanges(dir) {
	const out = [];

	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const full = join(dir, entry.name);

		if (entry.isDirectory())
			out.push(...findExchanges(full));
		else if (entry.name.endsWith('.json') && (entry.isFile() || statSync(full).isFile()))
			out.push(full);
	}
	return out.sort();
}

/* --- main --- */

async function main() {
	const args = process.argv.slice(2);
	const verbose = args.includes('--verbose') || args.includes('-v');
	const [specFile, dir] = args.filter((a) => !a.startsWith('-'));

	if (!specFile || !dir)
		usage();

	const spec = await loadSpec(specFile);

	if (!spec)
		return 1;
	if (lintSpec(spec, specFile))
		return 1;

	let files;

	try {
		if (!statSync(dir).isDirectory())
			throw new Error('not a directory');
		files = findExchanges(dir);
	} catch (err) {
		console.log(`FAIL ${dir}: no exchange directory (${err.code ?? err.message}); ` +
			    'the integration tests record exchanges there');
		return 1;
	}
	if (files.length === 0) {
		console.log(`FAIL ${dir}: no exchanges (*.json) to check; a contract check that checks nothing fails`);
		return 1;
	}

	const checker = new Checker(spec);

	if (checker.lintExamples(specFile))
		return 1;

	let failures = 0;
	let failedExchanges = 0;

	for (const file of files) {
		const name = relative(dir, file);
		let ex;
		let msgs;

		try {
			ex = JSON.parse(readFileSync(file, 'utf8'));
		} catch (err) {
			msgs = [`not an exchange: ${err.message}`];
		}
		if (!msgs) {
			try {
				msgs = checker.check(ex);
			} catch (err) {
				msgs = [`validator error: ${inspect(err)}`];
			}
		}
		if (msgs.length)
			failedExchanges++;
		for (const m of msgs) {
			const what = ex && typeof ex === 'object' ? `${ex.method} ${ex.url} -> ${ex.status}: ` : '';

			console.log(`FAIL ${name}: ${what}${m}`);
			failures++;
		}
	}

	const { all, covered } = checker.coverage();
	const ops = new Set(all.map((k) => k.split(' ').slice(0, 2).join(' ')));
	const coveredOps = new Set(covered.map((k) => k.split(' ').slice(0, 2).join(' ')));

	if (verbose) {
		const missing = all.filter((k) => !checker.covered.has(k));

		if (missing.length)
			console.log(`not covered by any exchange:\n  ${missing.join('\n  ')}`);
	}
	console.log(`contract: ${files.length} exchange(s) checked against ${specFile}, ` +
		    `${failedExchanges} failed (${failures} failure(s)); ` +
		    `covered ${covered.length} of ${all.length} documented operation x status pairs ` +
		    `(${coveredOps.size} of ${ops.size} operations), plus ${checker.extra.head} HEAD, ` +
		    `${checker.extra.methodNotAllowed} 405 and ${checker.extra.refusedEarly} early refusals for unlisted methods, ` +
		    `${checker.extra.unroutedNotFound} 404 for unlisted paths`);
	return failures ? 1 : 0;
}

process.exitCode = await main();
