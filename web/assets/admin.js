// The admin page: every call carries the admin API key, which is entered
// once and kept in sessionStorage (gone with the tab).
'use strict';

(() => {
  const { leaving, t, word, api, el, showProblem, markInvalid, unmark, clear, money, dateTime } = patrond;
  if (leaving) return;
  const KEY = 'patrond.adminKey';
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);
  let key = sessionStorage.getItem(KEY);

  const call = (method, path, body) => api(method, path, { body, token: key });
  const fmt = (minor, currency) => money(minor, currency);
  const A = (key, vars) => t(`pages.admin.${key}`, vars);

  function askKey(message) {
    key = null;
    sessionStorage.removeItem(KEY);
    $('admin-area').hidden = true;
    $('key-section').hidden = false;
    clear($('key-errors'));
    if (message) $('key-errors').append(el('p', { text: message }));
    if (message) $('admin-key').focus();
  }

  function rejected(res) {
    if (res && (res.status === 401 || res.status === 403)) {
      askKey(A(res.status === 401 ? 'key_rejected' : 'key_read_only'));
      return true;
    }
    return false;
  }

  function figure(label, value) {
    return el('div', {}, el('dt', { text: label }), el('dd', { text: typeof value === 'number' ? new Intl.NumberFormat(patrond.lang).format(value) : String(value) }));
  }

  async function loadSummary() {
    const res = await call('GET', '/v1/reports/summary');
    if (rejected(res)) return false;
    if (!res.ok) { showProblem($('page-errors'), res); return false; }
    const s = res.json;
    const mrr = s.mrr.length ? s.mrr.map((m) => fmt(m.amount_minor, m.currency)).join(', ') : '0';
    const byProvider = Object.entries(s.members_by_provider).map(([p, n]) => `${p} ${n}`).join(', ') || '—';
    $('summary').replaceChildren(
      figure(A('fig_members'), s.members), figure(A('fig_patrons'), s.patrons), figure(A('fig_mrr'), mrr),
      figure(A('fig_new'), s.new_members_this_month),
      figure(A('fig_churned'), s.churned_members_this_month),
      figure(A('fig_by_provider'), byProvider));
    return true;
  }

  // One bar chart per currency (amounts of different currencies do not
  // share a scale), each with the same figures as a table.
  function mrrChart(currency, months, index) {
    const values = months.map((m) => (m.mrr.find((x) => x.currency === currency) || { amount_minor: 0 }).amount_minor);
    const max = Math.max(...values, 1);
    const W = 600, H = 220, top = 20, bottom = 30, left = 10, step = (W - left * 2) / values.length;
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-labelledby', `mrr-title-${index}`);
    const title = document.createElementNS(SVG, 'title');
    title.id = `mrr-title-${index}`;
    title.textContent = A('mrr_chart_title', { currency, values: months.map((m, i) => `${m.month} ${fmt(values[i], currency)}`).join('; ') });
    svg.append(title);
    const axis = document.createElementNS(SVG, 'line');
    for (const [k, v] of Object.entries({ x1: left, x2: W - left, y1: H - bottom, y2: H - bottom, class: 'chart-axis' })) axis.setAttribute(k, v);
    svg.append(axis);
    values.forEach((v, i) => {
      const h = ((H - top - bottom) * v) / max;
      const x = left + i * step + step * 0.15;
      const rect = document.createElementNS(SVG, 'rect');
      for (const [k, val] of Object.entries({ x, y: H - bottom - h, width: step * 0.7, height: h, class: 'chart-bar', 'data-month': months[i].month, 'data-amount': v })) rect.setAttribute(k, val);
      svg.append(rect);
      const label = document.createElementNS(SVG, 'text');
      for (const [k, val] of Object.entries({ x: x + step * 0.35, y: H - bottom + 16, 'text-anchor': 'middle' })) label.setAttribute(k, val);
      label.textContent = months[i].month.slice(2);
      svg.append(label);
      if (v > 0) {
        const amount = document.createElementNS(SVG, 'text');
        for (const [k, val] of Object.entries({ x: x + step * 0.35, y: H - bottom - h - 4, 'text-anchor': 'middle' })) amount.setAttribute(k, val);
        amount.textContent = fmt(v, currency);
        svg.append(amount);
      }
    });
    const table = el('table', {},
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: A('mrr_month') }), el('th', { scope: 'col', text: A('mrr_column', { currency }) }))),
      el('tbody', {}, months.map((m, i) => el('tr', {}, el('td', { text: m.month }), el('td', { text: fmt(values[i], currency) })))));
    return el('figure', { class: 'chart', 'data-currency': currency },
      el('figcaption', {}, el('strong', { text: currency })), svg,
      el('details', {}, el('summary', { text: A('mrr_as_table', { currency }) }), table));
  }

  async function loadMrr() {
    const res = await call('GET', '/v1/reports/mrr?months=12');
    if (rejected(res)) return;
    if (!res.ok) { showProblem($('page-errors'), res); return; }
    const months = res.json.months;
    const currencies = [...new Set(months.flatMap((m) => m.mrr.map((x) => x.currency)))].sort();
    $('mrr').replaceChildren(...(currencies.length
      ? currencies.map((c, i) => mrrChart(c, months, i))
      : [el('p', { text: A('mrr_none') })]));
  }

  async function search() {
    clear($('search-errors'));
    const q = $('search-q').value.trim();
    const res = await call('GET', `/v1/patrons?limit=100${q ? `&q=${encodeURIComponent(q)}` : ''}`);
    if (rejected(res)) return;
    if (!res.ok) { showProblem($('search-errors'), res, $('search-form')); return; }
    const rows = res.json.data;
    $('search-status').textContent = A(res.json.next_cursor ? 'found_more' : 'found', { count: rows.length });
    $('patrons').tBodies[0].replaceChildren(...rows.map((p) => el('tr', {},
      el('td', { text: p.email || A('erased') }), el('td', { text: p.name || '' }),
      el('td', { text: word('patron_status', p.status) }), el('td', { text: dateTime(p.created_at) }))));
  }

  async function loadWebhooks() {
    const res = await call('GET', '/v1/webhook-events?status=failed&limit=100');
    if (rejected(res)) return;
    if (!res.ok) { showProblem($('webhooks-errors'), res); return; }
    const body = $('webhooks').tBodies[0];
    if (!res.json.data.length) {
      body.replaceChildren(el('tr', {}, el('td', { colspan: '6', text: A('webhooks_none') })));
      return;
    }
    body.replaceChildren(...res.json.data.map((e) => el('tr', {},
      el('td', { text: dateTime(e.received_at) }), el('td', { text: e.provider }), el('td', { text: e.type || '' }),
      el('td', { text: e.reason || '' }), el('td', { text: String(e.attempts) }),
      el('td', {}, el('button', {
        type: 'button', class: 'secondary', text: A('replay'), 'aria-label': A('replay_label', { provider: e.provider, key: e.event_key }),
        onclick: () => replay(e.id),
      })))));
  }

  async function replay(id) {
    clear($('webhooks-errors'), $('webhooks-status'));
    const res = await call('POST', `/v1/webhook-events/${id}/replay`);
    if (rejected(res)) return;
    if (!res.ok) showProblem($('webhooks-errors'), res);
    else $('webhooks-status').textContent = A('replayed', { status: word('event_status', res.json.status) });
    await loadWebhooks();
  }

  async function loadRounds() {
    const res = await call('GET', '/v1/rounds?limit=100');
    if (rejected(res)) return;
    if (!res.ok) { showProblem($('rounds-errors'), res); return; }
    $('rounds').tBodies[0].replaceChildren(...res.json.data.map((r) => el('tr', {},
      el('td', { text: r.title }), el('td', { text: word('round_status', r.status) }),
      el('td', { text: dateTime(r.opens_at) }), el('td', { text: dateTime(r.closed_at || r.closes_at) }),
      el('td', {}, r.status === 'closed' ? null : el('button', {
        type: 'button', class: 'secondary', text: A('close_now'), 'aria-label': A('close_label', { title: r.title }),
        onclick: () => closeRound(r),
      })))));
    const topics = await call('GET', '/v1/topics?status=open&limit=500');
    if (topics.ok && topics.json.data.length) {
      $('round-topics').replaceChildren(...topics.json.data.map((t, i) => el('div', { class: 'list-choice' },
        el('input', { type: 'checkbox', id: `round-topic-${i}`, name: 'topic_ids', value: t.id }),
        el('label', { for: `round-topic-${i}`, text: t.title }))));
    }
  }

  async function closeRound(r) {
    clear($('rounds-errors'), $('rounds-status'));
    if (!window.confirm(A('close_confirm', { title: r.title }))) return;
    const res = await call('POST', `/v1/rounds/${r.id}/close`);
    if (rejected(res)) return;
    if (!res.ok) showProblem($('rounds-errors'), res);
    else $('rounds-status').textContent = A('closed', { title: r.title });
    await loadRounds();
  }

  // Importing supporters: the file is sent as a dry run first, its counts
  // and per-line errors shown; "Apply" sends the same file for real.
  const importPath = (dryRun) => `/v1/patrons/import?dry_run=${dryRun}&skip_invalid=${$('import-skip').checked}`;

  async function sendImport(dryRun) {
    const file = $('import-file').files[0];
    let res;
    try {
      const r = await fetch(importPath(dryRun), {
        method: 'POST', body: file, cache: 'no-store', credentials: 'omit',
        headers: { Accept: 'application/json', 'Content-Type': 'text/csv', Authorization: `Bearer ${key}` },
      });
      const text = await r.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch { json = null; }
      res = { status: r.status, ok: r.ok, json };
    } catch {
      res = null;
    }
    return res;
  }

  function showImport(result, dryRun) {
    const n = result.errors.length;
    const counts = A('import_counts', { created: result.created, updated: result.updated, unchanged: result.unchanged });
    let verdict;
    if (result.applied) verdict = A('verdict_imported');
    else if (dryRun && (n === 0 || $('import-skip').checked)) verdict = A('verdict_checked');
    else if (dryRun) verdict = A('verdict_fix');
    else verdict = A('verdict_not_imported');
    $('import-status').textContent = n
      ? A('import_result_problems', { verdict, counts, problems: A('import_problem_count', { count: n }) })
      : A('import_result', { verdict, counts });
    $('import-problems-wrap').hidden = n === 0;
    $('import-problems').tBodies[0].replaceChildren(...result.errors.map((e) => el('tr', {},
      el('td', { text: String(e.line) }), el('td', { text: e.field || A('row') }), el('td', { text: e.message }))));
    $('import-apply').hidden = !dryRun || !(n === 0 || $('import-skip').checked);
  }

  async function runImport(dryRun) {
    clear($('import-errors'), $('import-status'));
    if (!$('import-file').files.length) {
      $('import-errors').append(el('p', { id: 'problem-import-file', text: A('import_choose') }));
      markInvalid($('import-file'), 'problem-import-file');
      $('import-file').focus();
      return;
    }
    unmark($('import-file'));
    $('import-apply').hidden = true;
    $('import-status').textContent = A(dryRun ? 'import_checking' : 'import_importing');
    const res = await sendImport(dryRun);
    if (rejected(res)) return;
    if (!res || !res.ok) {
      $('import-status').textContent = '';
      showProblem($('import-errors'), res);
      return;
    }
    showImport(res.json, dryRun);
    if (res.json.applied) await Promise.all([loadSummary(), search()]);
  }

  // A changed file or choice must be checked again before it is applied.
  const importChanged = () => {
    $('import-apply').hidden = true;
    clear($('import-status'));
  };

  async function loadAll() {
    clear($('page-errors'));
    if (!(await loadSummary())) return;
    $('key-section').hidden = true;
    $('admin-area').hidden = false;
    await Promise.all([loadMrr(), search(), loadWebhooks(), loadRounds()]);
  }

  $('key-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = $('admin-key').value.trim();
    if (!value) { askKey(A('key_enter')); return; }
    key = value;
    sessionStorage.setItem(KEY, key);
    $('admin-key').value = '';
    await loadAll();
  });

  $('round-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = $('round-form');
    clear($('round-form-errors'), $('rounds-status'));
    const iso = (id) => ($(id).value ? new Date($(id).value).toISOString().replace(/\.\d{3}Z$/, 'Z') : '');
    const body = {
      title: $('round-title').value.trim(),
      opens_at: iso('round-opens'),
      closes_at: iso('round-closes'),
      max_choices: Number($('round-max').value || 1),
      topic_ids: [...form.querySelectorAll('input[name=topic_ids]:checked')].map((i) => i.value),
    };
    const res = await call('POST', '/v1/rounds', body);
    if (rejected(res)) return;
    if (!res.ok) { showProblem($('round-form-errors'), res, form); return; }
    form.reset();
    $('rounds-status').textContent = A('round_created', { title: res.json.title });
    await loadRounds();
  });

  $('import-form').addEventListener('submit', (ev) => { ev.preventDefault(); runImport(true); });
  $('import-apply').addEventListener('click', () => runImport(false));
  $('import-file').addEventListener('change', importChanged);
  $('import-skip').addEventListener('change', importChanged);
  $('search-form').addEventListener('submit', (ev) => { ev.preventDefault(); search(); });
  $('forget-key').addEventListener('click', () => askKey());
  $('refresh').addEventListener('click', () => loadAll());

  if (key) loadAll();
  else askKey();
})();
