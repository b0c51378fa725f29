// Helpers shared by the pages: calling the API, showing RFC 9457 problems,
// money in minor units, and building DOM without HTML strings.
'use strict';

const patrond = (() => {
  // One API call. Resolves {status, ok, json, etag}; never rejects on an
  // HTTP status, only when the network fails.
  async function api(method, path, { body, token, headers = {} } = {}) {
    const h = { Accept: 'application/json', ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    const init = { method, headers: h, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      h['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    return { status: res.status, ok: res.ok, json, etag: res.headers.get('ETag') };
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (v === true) node.setAttribute(k, '');
      else node.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c !== null && c !== undefined) node.append(c);
    }
    return node;
  }

  // Shows a problem+json reply (or a network failure) in an error region;
  // fields named in `errors` are marked invalid when the form has them.
  function showProblem(region, res, form) {
    region.replaceChildren();
    if (form) form.querySelectorAll('[aria-invalid]').forEach((n) => n.removeAttribute('aria-invalid'));
    const p = res && res.json;
    const title = p && (p.detail || p.title) ? (p.detail || p.title)
      : res ? `The server answered ${res.status}.` : 'The server could not be reached; try again.';
    region.append(el('p', { text: title }));
    if (p && Array.isArray(p.errors) && p.errors.length) {
      region.append(el('ul', {}, p.errors.map((e) => el('li', { text: `${e.field}: ${e.message}` }))));
      for (const e of p.errors) {
        const input = form && form.querySelector(`[data-field="${CSS.escape(e.field)}"]`);
        if (input) input.setAttribute('aria-invalid', 'true');
      }
    }
  }

  function clear(...regions) {
    for (const r of regions) r.replaceChildren();
  }

  function money(minor, currency, exponent) {
    const digits = exponent ?? 2;
    try {
      return new Intl.NumberFormat(undefined, {
        style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits,
      }).format(minor / 10 ** digits);
    } catch {
      return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
    }
  }

  // "12", "12.5" or "12,50" → minor units; null when not a positive amount
  // with at most `exponent` decimals.
  function parseAmount(text, exponent) {
    const m = String(text).trim().replace(',', '.').match(/^(\d{1,12})(?:\.(\d*))?$/);
    if (!m) return null;
    const frac = m[2] || '';
    if (frac.length > exponent) return null;
    const minor = Number(m[1]) * 10 ** exponent + Number(frac.padEnd(exponent, '0') || 0);
    return minor > 0 && Number.isSafeInteger(minor) ? minor : null;
  }

  function dateTime(iso) {
    return iso ? new Date(iso).toLocaleString() : '';
  }

  return { api, el, showProblem, clear, money, parseAmount, dateTime };
})();
