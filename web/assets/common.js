// Helpers shared by the pages: the page's texts (from the catalogue, see
// api/core/page_render.c), calling the API, showing RFC 9457 problems by
// their code, money, numbers and dates in the page's language, and
// building DOM without HTML strings.
'use strict';

const patrond = (() => {
  const lang = document.documentElement.lang || 'en';
  const texts = (() => {
    const node = document.getElementById('patrond-texts');
    try { return node ? JSON.parse(node.textContent) : {}; } catch { return {}; }
  })();
  const plurals = new Intl.PluralRules(lang);
  const numbers = new Intl.NumberFormat(lang, { useGrouping: true });
  // lang.js is reloading the page in the reader's language: do nothing here.
  const leaving = document.documentElement.dataset.leaving === 'true';

  // The text at a dotted key ("pages.members.cancel"), with {name}s filled
  // from vars (numbers formatted for the language); a plural text picks
  // its form by vars.count. A missing text
  // shows as its key, so tests can find it.
  function t(key, vars = {}) {
    let node = key.split('.').reduce((n, k) => (n && typeof n === 'object' ? n[k] : undefined), texts);
    if (node && typeof node === 'object') {
      const count = Number(vars.count);
      node = node[plurals.select(Number.isFinite(count) ? count : 0)] ?? node.other;
    }
    if (typeof node !== 'string') return key;
    const show = (v) => (typeof v === 'number' ? numbers.format(v) : String(v));
    // a value ending a sentence with its own dot ("29 грудня 2026 р.") takes the text's place
    return node.replace(/\{([a-z_]+)\}(\.?)/g, (m, name, dot) => {
      if (!(name in vars)) return m;
      const v = show(vars[name]);
      return dot && v.endsWith('.') ? v : v + dot;
    });
  }

  // A text of a group by a value from the API ("pledge_status", "active"),
  // or the value itself when the catalogue has no word for it.
  function word(group, value) {
    const key = `pages.common.${group}.${value}`;
    const text = t(key);
    return text === key ? String(value) : text;
  }

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

  // What a form calls the field the server named: its label or legend.
  function fieldName(form, field) {
    const input = form && form.querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (!input) return field;
    const label = input.labels && input.labels[0] ? input.labels[0]
      : input.tagName === 'FIELDSET' ? input.querySelector('legend') : null;
    const text = label ? label.textContent.replace(/\s+/g, ' ').trim() : '';
    return text || field;
  }

  // A field marked invalid names the message that says why
  // (aria-describedby, beside its hint), so a screen reader reads the
  // reason when the field gets the focus; unmark undoes both.
  function markInvalid(field, messageId) {
    field.setAttribute('aria-invalid', 'true');
    const ids = (field.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    if (messageId && !ids.includes(messageId)) field.setAttribute('aria-describedby', [...ids, messageId].join(' '));
  }

  function unmark(field) {
    field.removeAttribute('aria-invalid');
    const ids = (field.getAttribute('aria-describedby') || '').split(/\s+/).filter((id) => id && !id.startsWith('problem-'));
    if (ids.length) field.setAttribute('aria-describedby', ids.join(' '));
    else field.removeAttribute('aria-describedby');
  }

  // Shows a problem+json reply (or a network failure) in an error region,
  // in the page's language by the problem's code (the English `detail` is
  // for developers); fields named in `errors` are listed by their labels
  // and marked invalid when the form has them.
  function showProblem(region, res, form) {
    region.replaceChildren();
    if (form) form.querySelectorAll('[aria-invalid]').forEach(unmark);
    const p = res && res.json;
    let message;
    if (!res) message = t('pages.common.network_error');
    else if (p && p.code && t(`errors.${p.code}`) !== `errors.${p.code}`) message = t(`errors.${p.code}`);
    else message = t('pages.common.http_status', { status: String(res.status) });
    region.append(el('p', { text: message }));
    if (p && Array.isArray(p.errors) && p.errors.length) {
      const fields = [...new Set(p.errors.map((e) => e.field))];
      const idOf = (i) => `problem-${region.id}-${i}`;
      region.append(el('ul', {}, fields.map((f, i) => el('li', {
        id: idOf(i), 'data-field': f, text: t('pages.common.field_invalid', { field: fieldName(form, f) }),
      }))));
      fields.forEach((f, i) => {
        const input = form && form.querySelector(`[data-field="${CSS.escape(f)}"]`);
        if (input) markInvalid(input, idOf(i));
      });
    }
  }

  function clear(...regions) {
    for (const r of regions) r.replaceChildren();
  }

  // ISO 4217's minor-unit digits, as Intl knows them (JPY 0, BHD 3).
  function exponentOf(currency) {
    try {
      return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    } catch { return 2; }
  }

  function money(minor, currency, exponent) {
    const digits = exponent ?? exponentOf(currency);
    try {
      return new Intl.NumberFormat(lang, {
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
    return iso ? new Date(iso).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' }) : '';
  }

  function date(iso) {
    return iso ? new Date(iso).toLocaleDateString(lang, { dateStyle: 'long' }) : '';
  }

  return { lang, leaving, t, word, api, el, showProblem, markInvalid, unmark, clear, money, parseAmount, dateTime, date };
})();
