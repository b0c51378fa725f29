// The donation form: offers what GET /v1/checkout/options says this server
// accepts, posts to /v1/checkout and follows the redirect it answers. The
// address may pre-fill it: amount_minor, currency, interval, provider (the
// failed-payment mail's "pay again" link does).
'use strict';

(() => {
  const { lang, leaving, t, word, api, el, showProblem, markInvalid, unmark, clear, money, parseAmount } = patrond;
  if (leaving) return;
  const form = document.getElementById('donate-form');
  const currency = document.getElementById('currency');
  const presets = document.getElementById('presets');
  const custom = document.getElementById('custom-amount');
  const providers = document.getElementById('providers');
  const errors = document.getElementById('errors');
  const status = document.getElementById('status');
  const submit = document.getElementById('submit');
  const params = new URLSearchParams(location.search);
  let options = null;
  // a pre-filled amount not among the presets goes into the custom field, once
  let wantedAmount = Number(params.get('amount_minor')) || null;

  const interval = () => form.querySelector('input[name=interval]:checked').value;

  function renderPresets() {
    const code = currency.value;
    const exp = options.exponents[code];
    const amounts = options.presets[code] || [];
    const chosen = form.querySelector('input[name=preset]:checked');
    const keep = chosen ? chosen.value : String(amounts[0]);
    presets.replaceChildren(...amounts.map((a, i) => el('div', { class: 'choice' },
      el('input', { type: 'radio', name: 'preset', id: `preset-${i}`, value: String(a), checked: String(a) === keep }),
      el('label', { for: `preset-${i}`, text: t(`pages.common.amount_per.${interval()}`, { amount: money(a, code, exp) }) }))));
    if (!presets.querySelector('input:checked') && presets.firstChild) presets.querySelector('input').checked = true;
    document.getElementById('custom-currency').textContent = code;
    if (wantedAmount) prefillAmount(wantedAmount, code, exp);
    wantedAmount = null;
  }

  function prefillAmount(minor, code, exp) {
    if (!Number.isSafeInteger(minor) || minor < 1 || minor > options.max_amount_minor) return;
    const preset = presets.querySelector(`input[value="${minor}"]`);
    if (preset) {
      preset.checked = true;
      return;
    }
    presets.querySelectorAll('input').forEach((p) => { p.checked = false; });
    custom.value = (minor / 10 ** exp).toLocaleString(lang, { minimumFractionDigits: exp, maximumFractionDigits: exp, useGrouping: false });
  }

  function renderProviders() {
    const wanted = params.get('provider');
    const first = options.providers.includes(wanted) ? wanted : options.providers[0];
    providers.replaceChildren(...options.providers.map((p) => el('div', { class: 'choice' },
      el('input', { type: 'radio', name: 'provider', id: `provider-${p}`, value: p, checked: p === first }),
      el('label', { for: `provider-${p}`, text: word('providers', p) }))));
  }

  async function load() {
    let res;
    try { res = await api('GET', '/v1/checkout/options'); } catch { res = null; }
    if (!res || !res.ok) {
      showProblem(errors, res);
      submit.disabled = true;
      return;
    }
    options = res.json;
    currency.replaceChildren(...options.currencies.map((c) => el('option', { value: c, text: c })));
    const wanted = (params.get('currency') || '').toUpperCase();
    if (options.currencies.includes(wanted)) currency.value = wanted;
    const iv = form.querySelector(`input[name=interval][value="${CSS.escape(params.get('interval') || '')}"]`);
    if (iv) iv.checked = true;
    renderPresets();
    renderProviders();
    if (options.providers.length === 0) {
      errors.append(el('p', { text: t('pages.donate.no_providers') }));
      submit.disabled = true;
    }
  }

  // What the form asks for, or null after showing what is missing.
  function order() {
    clear(errors);
    form.querySelectorAll('[aria-invalid]').forEach(unmark);
    const problems = [];
    const code = currency.value;
    let amount = null;
    if (custom.value.trim()) {
      amount = parseAmount(custom.value, options.exponents[code]);
      if (amount === null || amount > options.max_amount_minor) {
        problems.push(['custom-amount', t('pages.donate.err_amount')]);
      }
    } else {
      const p = form.querySelector('input[name=preset]:checked');
      amount = p ? Number(p.value) : null;
      if (!amount) problems.push(['custom-amount', t('pages.donate.err_choose_amount')]);
    }
    const email = document.getElementById('email');
    if (!email.value.trim() || !email.checkValidity()) problems.push(['email', t('pages.donate.err_email')]);
    const consent = document.getElementById('consent');
    if (!consent.checked) problems.push(['consent', t('pages.donate.err_consent')]);
    const provider = form.querySelector('input[name=provider]:checked');
    if (!provider) problems.push(['provider-fieldset', t('pages.donate.err_provider')]);
    if (problems.length) {
      errors.append(el('ul', {}, problems.map(([id, m]) => el('li', { id: `problem-${id}`, text: m }))));
      for (const [id] of problems) markInvalid(document.getElementById(id), `problem-${id}`);
      document.getElementById(problems[0][0]).focus();
      return null;
    }
    const name = document.getElementById('name').value.trim();
    return {
      email: email.value.trim(),
      ...(name ? { name } : {}),
      amount_minor: amount,
      currency: code,
      interval: interval(),
      provider: provider.value,
      return_url: new URL(`/donate/thanks?lang=${encodeURIComponent(lang)}`, location.href).href,
      locale: lang,
    };
  }

  // The provider's page replaces the whole window, also when this form is
  // framed. Browsers may refuse a framed page that without a click, so a
  // control to continue by hand is shown first.
  function follow(redirect) {
    const place = document.getElementById('continue');
    if (redirect.method === 'GET') {
      place.replaceChildren(el('p', {}, el('a', { href: redirect.url, target: '_top', class: 'button', text: t('pages.donate.submit') })));
      try {
        if (window.top === window) location.assign(redirect.url);
        else window.top.location.href = redirect.url;
      } catch { /* the link above stays */ }
      return;
    }
    const f = el('form', { method: 'POST', action: redirect.url, target: '_top' });
    for (const [k, v] of Object.entries(redirect.fields || {})) {
      for (const one of Array.isArray(v) ? v : [v]) f.append(el('input', { type: 'hidden', name: k, value: String(one) }));
    }
    f.append(el('button', { type: 'submit', text: t('pages.donate.submit') }));
    place.replaceChildren(f);
    f.submit();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!options) return;
    const body = order();
    if (!body) return;
    submit.disabled = true;
    status.textContent = t('pages.donate.preparing');
    let res;
    try { res = await api('POST', '/v1/checkout', { body }); } catch { res = null; }
    if (res && res.status === 201 && res.json.redirect) {
      status.textContent = t('pages.donate.redirecting');
      follow(res.json.redirect);
      return;
    }
    status.textContent = '';
    submit.disabled = false;
    showProblem(errors, res, form);
  });

  // A corrected field loses its mark, and the list once all are corrected.
  form.addEventListener('input', (ev) => {
    const field = ev.target.closest('fieldset[aria-invalid]') || ev.target;
    unmark(field);
    if (!form.querySelector('[aria-invalid]')) clear(errors);
  });

  currency.addEventListener('change', renderPresets);
  for (const r of form.querySelectorAll('input[name=interval]')) r.addEventListener('change', renderPresets);
  custom.addEventListener('input', () => {
    if (custom.value.trim()) form.querySelectorAll('input[name=preset]').forEach((p) => { p.checked = false; });
  });
  presets.addEventListener('change', () => {
    custom.value = '';
    unmark(custom);
  });

  // Framed by embed.js: tell it our title (in our language) and height,
  // so the frame is named and no scrollbar appears.
  if (window.parent !== window) {
    window.parent.postMessage({ patrond: 'title', title: document.title, lang }, '*');
  }
  if (window.parent !== window && 'ResizeObserver' in window) {
    new ResizeObserver(() => {
      window.parent.postMessage({ patrond: 'height', height: document.documentElement.scrollHeight }, '*');
    }).observe(document.documentElement);
  }

  load();
})();
