'use strict';
// Checks a response patrond sent against api/openapi.yaml: the operation
// (by method and templated path), the response (exact status, then 4XX/5XX,
// then default), the documented media type, required and documented
// headers, and a JSON body against the response schema (ajv, JSON Schema
// 2020-12 as OpenAPI 3.1 uses). validateResponse throws an Error saying
// what does not match.

const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const SPEC_PATH = path.resolve(__dirname, '..', '..', '..', 'api', 'openapi.yaml');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// Component schemas are registered once under this id; every $ref into
// #/components/schemas is rewritten to point there.
const DEFS_ID = 'urn:patrond:openapi';

let state = null;

function loadSpec(file = SPEC_PATH) {
  return YAML.parse(fs.readFileSync(file, 'utf8'));
}

// A '#/a/b' reference within the document.
function pointer(doc, ref) {
  if (!ref.startsWith('#/')) throw new Error(`openapi: unsupported $ref ${ref}`);
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) {
      throw new Error(`openapi: dangling $ref ${ref}`);
    }
    node = node[key];
  }
  return node;
}

// Follows a (chain of) $ref for a non-schema object (response, header, parameter).
function deref(doc, obj) {
  for (let i = 0; obj && obj.$ref && i < 20; i++) obj = pointer(doc, obj.$ref);
  return obj;
}

function rewriteRefs(schema) {
  if (Array.isArray(schema)) return schema.map(rewriteRefs);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
      out.$ref = `${DEFS_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`;
    } else {
      out[k] = rewriteRefs(v);
    }
  }
  return out;
}

function templateRegex(template) {
  const parts = template.split(/(\{[^}]+\})/).map((p) =>
    p.startsWith('{') ? '([^/]+)' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('')}$`);
}

function init() {
  if (state) return state;
  const doc = loadSpec();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const defs = {};
  for (const [name, s] of Object.entries((doc.components && doc.components.schemas) || {})) {
    defs[name] = rewriteRefs(s);
  }
  ajv.addSchema({ $id: DEFS_ID, $defs: defs });
  // Literal segments win over templates (/v1/rounds/current before /v1/rounds/{id}).
  const paths = Object.keys(doc.paths || {})
    .map((template) => ({
      template,
      regex: templateRegex(template),
      params: (template.match(/\{/g) || []).length,
      item: doc.paths[template],
    }))
    .sort((a, b) => a.params - b.params);
  state = { doc, ajv, paths, validators: new Map() };
  return state;
}

function schemaValidator(st, schema) {
  let v = st.validators.get(schema);
  if (!v) {
    v = st.ajv.compile(rewriteRefs(schema));
    st.validators.set(schema, v);
  }
  return v;
}

// The paths matching p, most literal first. Like the server's router, the
// most literal path is the resource for every method (PATCH
// /v1/rounds/current is a 405, not PATCH /v1/rounds/{id} with a bad id).
function matchPaths(st, p) {
  const candidates = [p];
  try {
    const decoded = decodeURIComponent(p);
    if (decoded !== p) candidates.push(decoded);
  } catch { /* not percent-decodable: the raw path only */ }
  for (const c of candidates) {
    const found = st.paths.filter((entry) => entry.regex.test(c));
    if (found.length) return found;
  }
  return [];
}

function mediaType(headers) {
  const ct = headers['content-type'];
  return ct ? String(ct).split(';')[0].trim().toLowerCase() : null;
}

function isJson(type) {
  return type === 'application/json' || /\+json$/.test(type);
}

function headerValue(headers, name) {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

function describeErrors(errors) {
  return errors
    .slice(0, 8)
    .map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`)
    .join('; ');
}

// Checks the body (and headers) against one response object; `where`
// names it in messages.
function checkResponse(st, where, response, status, headers, bodyText, isHead) {
  const content = response.content || null;
  const type = mediaType(headers);
  for (const [name, h] of Object.entries(response.headers || {})) {
    const header = deref(st.doc, h);
    const value = headerValue(headers, name);
    if (value === undefined) {
      if (header.required) throw new Error(`${where}: required header ${name} is missing`);
      continue;
    }
    if (header.schema) {
      const v = schemaValidator(st, header.schema);
      if (!v(value)) throw new Error(`${where}: header ${name}: ${JSON.stringify(value)} ${describeErrors(v.errors)}`);
    }
  }
  const hasBody = bodyText.length > 0;
  if (!content) {
    if (hasBody) throw new Error(`${where}: documents no body, got ${type || 'no content type'}: ${bodyText.slice(0, 200)}`);
    return;
  }
  if (isHead) return;
  if (!type) throw new Error(`${where}: no Content-Type; documented: ${Object.keys(content).join(', ')}`);
  const media = content[type];
  if (!media) {
    throw new Error(`${where}: Content-Type ${type} is not documented (documented: ${Object.keys(content).join(', ')})`);
  }
  if (!isJson(type) || !media.schema) return;
  let body;
  try {
    body = JSON.parse(bodyText);
  } catch (e) {
    throw new Error(`${where}: ${type} body is not JSON (${e.message}): ${bodyText.slice(0, 200)}`);
  }
  const v = schemaValidator(st, media.schema);
  if (!v(body)) {
    throw new Error(`${where}: body does not match the schema: ${describeErrors(v.errors)}\nbody: ${bodyText.slice(0, 600)}`);
  }
  if (type === 'application/problem+json' && body.status !== status) {
    throw new Error(`${where}: the problem document says status ${body.status}`);
  }
}

// A routing error (unknown path → 404, unsupported method → 405) is
// answered before any operation runs: a problem document and nothing else.
function checkRoutingProblem(st, where, status, headers, bodyText) {
  const problem = st.doc.components.responses.Problem;
  checkResponse(st, `${where} (routing error ${status})`, problem, status, headers, bodyText, false);
  if (mediaType(headers) !== 'application/problem+json') {
    throw new Error(`${where}: a routing error must be application/problem+json`);
  }
}

function validateResponse(method, pathWithQuery, status, headers, bodyText) {
  const st = init();
  const m = String(method).toLowerCase();
  const p = String(pathWithQuery).split('?')[0].split('#')[0];
  const where = `${method.toUpperCase()} ${p} → ${status}`;
  headers = headers || {};
  bodyText = bodyText || '';
  const found = matchPaths(st, p);
  if (!found.length) {
    if (status === 404) return checkRoutingProblem(st, where, status, headers, bodyText);
    throw new Error(`${where}: no path in api/openapi.yaml matches ${p}`);
  }
  const level = found.filter((e) => e.params === found[0].params);
  const entry = level.find((e) => e.item[m] || (m === 'head' && e.item.get)) || level[0];
  const isHead = m === 'head' && !entry.item.head;
  const op = entry.item[isHead ? 'get' : m];
  if (!op || !METHODS.includes(m)) {
    // CORS preflight: every path answers OPTIONS with 204 and Allow; a
    // 405 names the methods the path takes in Allow too.
    if ((m === 'options' && status === 204 && bodyText === '') || status === 405) {
      if (!headers.allow) throw new Error(`${where}: no Allow header`);
      if (status === 204) return;
      return checkRoutingProblem(st, where, status, headers, bodyText);
    }
    throw new Error(`${where}: ${entry.template} documents no ${method.toUpperCase()} operation`);
  }
  const responses = op.responses || {};
  const key = [String(status), `${Math.floor(status / 100)}XX`, 'default'].find((k) => responses[k]);
  if (!key) {
    throw new Error(`${where}: status ${status} is not documented for ${method.toUpperCase()} ${entry.template} ` +
      `(documented: ${Object.keys(responses).join(', ')})`);
  }
  const response = deref(st.doc, responses[key]);
  checkResponse(st, `${where} (${op.operationId || entry.template} ${key})`, response, status, headers, bodyText, isHead);
}

module.exports = { validateResponse, loadSpec, SPEC_PATH, METHODS };
