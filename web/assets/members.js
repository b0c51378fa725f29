// The member page: sign-in by magic link, membership, the patron's pledges
// (with cancelling) and payments, the current round's ballot and live
// tally, topic proposals, the language of the patron's mails. The session token lives in
// sessionStorage only, so it ends with the tab. Opened as
// /members?return_to=<url> from the newsroom's site, it sends the signed-in
// reader back there with a member token (SPEC §4b; see README "Member
// tokens").
'use strict';

(() => {
  const { lang, leaving, t, word, api, el, showProblem, markInvalid, unmark, clear, money, dateTime, date } = patrond;
  if (leaving) return;
  const KEY = 'patrond.session';
  const POLL_MS = 5000;
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem(KEY);
  let round = null;
  let tallyEtag = null;
  let pollTimer = null;
  // The browser's own reading of return_to, without its fragment: the very
  // text the server checks is the one navigated to, so no difference
  // between two URL parsers can send the token elsewhere.
  const returnTo = (() => {
    const raw = new URL(location.href).searchParams.get('return_to');
    if (!raw) return null;
    try {
      const u = new URL(raw);
      u.hash = '';
      return u.href;
    } catch { return ''; }
  })();

  const call = (method, path, body) => api(method, path, { body, token });

  function showSignin(message) {
    token = null;
    sessionStorage.removeItem(KEY);
    clearTimeout(pollTimer);
    $('member-area').hidden = true;
    $('signin').hidden = false;
    if (message) $('page-status').textContent = message;
  }

  // A session that ended (expired, revoked, erased) sends the reader back to sign in.
  function expired(res) {
    if (res && res.status === 401) {
      showSignin(t('pages.members.session_ended'));
      return true;
    }
    return false;
  }

  // The link's token goes off the address bar (and history) before anything
  // else, then is exchanged for a session once.
  async function exchangeLinkToken() {
    const url = new URL(location.href);
    const linkToken = url.searchParams.get('token');
    if (!linkToken) return;
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    let res;
    try { res = await api('POST', '/v1/auth/session', { body: { token: linkToken } }); } catch { res = null; }
    if (res && res.ok && res.json.session_token) {
      token = res.json.session_token;
      sessionStorage.setItem(KEY, token);
    } else {
      showProblem($('page-errors'), res);
      $('page-errors').append(el('p', { text: t('pages.members.link_used') }));
    }
  }

  // member_reason is English for the API's readers; the page says it in
  // its own words, and the pledges below give the details.
  function describeMembership(me) {
    const who = me.patron.name ? `${me.patron.name} (${me.patron.email})` : me.patron.email;
    const parts = [`${t('pages.members.signed_in_as', { who })} `];
    if (me.member) {
      parts.push(el('strong', { text: t('pages.members.is_member') }));
      parts.push(me.member_until ? ` ${t('pages.members.is_member_until', { date: date(me.member_until) })}` : '.');
    } else {
      parts.push(el('strong', { text: t('pages.members.not_member') }), '.');
    }
    $('membership').replaceChildren(...parts);
  }

  // What comes next for a pledge: its next charge, or when it ends.
  function nextOf(p) {
    const end = p.current_period_end;
    if (!end) return t('pages.common.dash');
    if (p.status === 'canceled' || p.status === 'expired') {
      return new Date(end) > new Date() ? t('pages.members.runs_until', { date: date(end) })
        : t('pages.members.ended_on', { date: date(end) });
    }
    if (p.cancel_requested_at || p.interval === 'once') return t('pages.members.ends_on', { date: date(end) });
    return t('pages.members.next_charge', { date: date(end) });
  }

  const amountOf = (p) => money(Math.abs(p.amount_minor), p.currency);
  const perOf = (p) => t(`pages.common.amount_per.${p.interval}`, { amount: amountOf(p) });

  function pledgeAction(p) {
    if (p.cancelable === 'patrond' || p.cancelable === 'provider') {
      return el('button', {
        type: 'button', class: 'secondary', 'data-action': 'cancel', text: t('pages.members.cancel'),
        'aria-label': t('pages.members.cancel_label', { amount: perOf(p) }), onclick: (ev) => askCancel(p, ev.currentTarget),
      });
    }
    if (p.cancelable === 'elsewhere') {
      return el('button', {
        type: 'button', class: 'secondary', 'data-action': 'how-to-cancel', text: t('pages.members.how_to_cancel'),
        'aria-label': t('pages.members.how_to_cancel_label', { amount: perOf(p) }), onclick: (ev) => cancel(p, ev.currentTarget),
      });
    }
    return null;
  }

  // Each cell carries its column's name, shown beside it where a narrow
  // screen stacks the table (patrond.css).
  function renderPledges(pledges) {
    $('no-pledges').hidden = pledges.length > 0;
    $('pledges-wrap').hidden = pledges.length === 0;
    const label = (i) => $('pledges').tHead.rows[0].cells[i].textContent.trim();
    $('pledges').tBodies[0].replaceChildren(...pledges.map((p) => el('tr', { 'data-pledge-id': p.id },
      el('td', { 'data-label': label(0), text: perOf(p) }),
      el('td', { 'data-label': label(1), text: word('providers', p.provider) }),
      el('td', { 'data-label': label(2), text: word('pledge_status', p.status) }),
      el('td', { 'data-label': label(3), text: nextOf(p) }),
      el('td', { class: 'pledge-action' }, pledgeAction(p)))));
  }

  function renderPayments(payments) {
    $('no-payments').hidden = payments.length > 0;
    $('payments-wrap').hidden = payments.length === 0;
    $('payments').tBodies[0].replaceChildren(...payments.map((p) => el('tr', {},
      el('td', { text: dateTime(p.occurred_at) }),
      el('td', { text: money(p.amount_minor, p.currency) }),
      el('td', { text: p.failure_reason ? word('payment_kind', 'failed') : word('payment_kind', p.kind) }))));
  }

  function renderLocale(me) {
    const choices = [...document.querySelectorAll('.lang-switch a[data-lang]')]
      .map((a) => ({ code: a.dataset.lang, name: a.textContent }));
    const current = me.locale || (me.patron && me.patron.locale) || lang;
    $('locale').replaceChildren(...choices.map((c) => el('option', { value: c.code, lang: c.code, text: c.name, selected: c.code === current })));
  }

  // The confirmation says until when the membership runs: the end of the
  // paid period, which the cancel call answers as effective_until.
  let pending = null;
  function askCancel(p, button) {
    clear($('pledges-errors'), $('pledges-status'));
    pending = { pledge: p, button };
    const end = p.current_period_end;
    $('cancel-dialog-text').textContent = end && new Date(end) > new Date()
      ? t('pages.members.dialog_until', { date: date(end) }) : t('pages.members.dialog_no_date');
    $('cancel-dialog').showModal();
    $('cancel-keep').focus();
  }

  $('cancel-keep').addEventListener('click', () => $('cancel-dialog').close());
  $('cancel-dialog').addEventListener('close', () => {
    if (pending && pending.button && pending.button.isConnected) pending.button.focus();
  });
  $('cancel-confirm').addEventListener('click', async () => {
    const { pledge, button } = pending || {};
    $('cancel-dialog').close();
    if (pledge) await cancel(pledge, button);
  });

  // The button stays enabled while the call runs (a disabled button drops
  // the keyboard focus), so a second press is ignored here instead.
  let cancelling = false;
  async function cancel(p, button) {
    if (cancelling) return;
    cancelling = true;
    clear($('pledges-errors'), $('pledges-status'));
    if (button) button.setAttribute('aria-disabled', 'true');
    if (p.cancelable !== 'elsewhere') $('pledges-status').textContent = t('pages.members.cancelling');
    let res;
    try { res = await call('POST', `/v1/me/pledges/${encodeURIComponent(p.id)}/cancel`); } catch { res = null; }
    cancelling = false;
    if (button) button.removeAttribute('aria-disabled');
    if (expired(res)) return;
    $('pledges-status').textContent = '';
    if (res && res.ok && res.json) {
      const until = date(res.json.effective_until);
      $('pledges-status').textContent = res.json.status === 'canceled'
        ? t('pages.members.canceled', { date: until })
        : t('pages.members.cancel_requested', { provider: word('providers', p.provider), date: until });
      await loadMember();
      // the row's button is gone: the focus goes to what happened
      $('pledges-status').focus();
      return;
    }
    showProblem($('pledges-errors'), res);
    const manage = res && res.json && res.json.manage_url;
    if (manage && /^https:\/\//.test(manage)) {
      $('pledges-errors').append(el('p', {}, el('a', {
        href: manage, rel: 'noopener noreferrer', target: '_blank',
        text: t('pages.members.manage_elsewhere', { provider: word('providers', p.provider) }),
      })));
    }
  }

  function renderTally(tally) {
    const total = tally.total_weight || 0;
    const voters = t('pages.members.voters', { count: tally.voters });
    $('tally-summary').textContent = t(tally.status === 'closed' ? 'pages.members.final' : 'pages.members.so_far', { voters });
    $('tally').replaceChildren(...tally.topics.map((topic) => {
      const pct = Math.round((topic.share || 0) * 100);
      const fill = el('div', { class: 'bar-fill' });
      fill.style.width = `${total ? (topic.share * 100).toFixed(1) : 0}%`;
      return el('li', { 'data-topic-id': topic.topic_id },
        el('div', { class: 'bar-label' },
          el('span', { class: 'bar-title', text: topic.title }),
          el('span', { class: 'bar-value', text: `${t('pages.members.votes', { count: topic.votes })} (${pct}%)` })),
        el('div', { class: 'bar-track', 'aria-hidden': 'true' }, fill));
    }));
    return tally;
  }

  // Asks with If-None-Match, so an unchanged tally costs a 304.
  async function refreshTally() {
    if (!round) return null;
    let res;
    try {
      res = await api('GET', `/v1/rounds/${round.id}/tally`, { headers: tallyEtag ? { 'If-None-Match': tallyEtag } : {} });
    } catch { return null; }
    if (res.status === 304) return null;
    if (!res.ok) return null;
    tallyEtag = res.etag;
    return renderTally(res.json);
  }

  function poll() {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(async () => {
      await refreshTally();
      if (round && round.status === 'open' && token) poll();
    }, POLL_MS);
  }

  function renderBallotChoices(topics, chosen) {
    const multi = round.max_choices > 1;
    $('ballot-legend').textContent = multi ? t('pages.members.your_choices', { count: round.max_choices }) : t('pages.members.your_choice');
    $('ballot-choices').replaceChildren(...topics.map((t, i) => el('div', { class: 'list-choice' },
      el('input', {
        type: multi ? 'checkbox' : 'radio', name: 'topic', id: `topic-${i}`, value: t.topic_id,
        checked: chosen.includes(t.topic_id),
      }),
      el('label', { for: `topic-${i}`, text: t.title }))));
  }

  async function loadBallot(topics) {
    const res = await call('GET', `/v1/rounds/${round.id}/ballot`);
    if (expired(res)) return;
    const chosen = res.ok ? res.json.topic_ids : [];
    renderBallotChoices(topics, chosen);
    $('ballot-withdraw').hidden = !res.ok;
    $('ballot-submit').textContent = t(res.ok ? 'pages.members.change_vote' : 'pages.members.cast_vote');
    $('ballot-form').hidden = round.status !== 'open';
  }

  async function loadRound() {
    const res = await call('GET', '/v1/rounds/current');
    if (res.status === 404) {
      round = null;
      $('round-info').textContent = t('pages.members.no_round');
      $('ballot-form').hidden = true;
      $('tally').replaceChildren();
      $('tally-summary').textContent = '';
      return;
    }
    if (!res.ok) { showProblem($('page-errors'), res); return; }
    round = res.json;
    $('round-info').replaceChildren(el('strong', { text: round.title }),
      round.status === 'open' ? ` — ${t('pages.members.round_open_until', { date: dateTime(round.closes_at) })}.`
        : ` — ${word('round_status', round.status)}.`);
    tallyEtag = null;
    const tally = await refreshTally();
    if (tally) await loadBallot(tally.topics);
    if (round.status === 'open') poll();
  }

  async function loadMember() {
    const res = await call('GET', '/v1/me');
    if (expired(res)) return false;
    if (!res.ok) { showProblem($('page-errors'), res); return false; }
    describeMembership(res.json);
    renderPledges(res.json.pledges || []);
    renderPayments(res.json.payments || []);
    renderLocale(res.json);
    $('signin').hidden = true;
    $('member-area').hidden = false;
    return true;
  }

  // Only a return_to the server accepts (its origin is in
  // PATROND_CORS_ORIGINS) gets the token; any other stays on this page.
  // True when the page has nothing more to show (gone, or signed out).
  async function handOff() {
    $('page-status').textContent = t('pages.members.returning', { host: new URL(returnTo).host });
    const res = await call('POST', `/v1/me/token?return_to=${encodeURIComponent(returnTo)}`);
    if (expired(res)) return true;
    if (!res.ok || !res.json || !res.json.token) {
      $('page-status').textContent = '';
      // a return_to the server refuses is on no origin of PATROND_CORS_ORIGINS
      const refused = res.status === 422 && res.json && Array.isArray(res.json.errors)
        && res.json.errors.some((e) => e.field === 'return_to');
      if (refused) $('page-errors').replaceChildren(el('p', { text: t('pages.members.return_refused', { host: new URL(returnTo).host }) }));
      else showProblem($('page-errors'), res);
      return false;
    }
    const target = new URL(returnTo);
    target.hash = `patrond_token=${res.json.token}`;
    location.replace(target.href);
    return true;
  }

  function showReturnNote() {
    if (returnTo === null) return;
    if (returnTo === '') {
      $('page-errors').append(el('p', { text: t('pages.members.return_invalid') }));
      return;
    }
    $('return-note').textContent = t('pages.members.return_note', { host: new URL(returnTo).host });
    $('return-note').hidden = false;
  }

  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear($('signin-errors'), $('signin-status'));
    const email = $('signin-email');
    if (!email.value.trim() || !email.checkValidity()) {
      $('signin-errors').append(el('p', { id: 'problem-signin-email', text: t('pages.members.err_email') }));
      markInvalid(email, 'problem-signin-email');
      email.focus();
      return;
    }
    unmark(email);
    let res;
    const body = { email: email.value.trim(), locale: lang, ...(returnTo ? { return_to: returnTo } : {}) };
    try { res = await api('POST', '/v1/auth/magic-link', { body }); } catch { res = null; }
    if (res && res.status === 202) {
      $('signin-status').textContent = t('pages.members.signin_sent');
    } else {
      showProblem($('signin-errors'), res, $('signin-form'));
    }
  });

  $('ballot-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear($('ballot-errors'), $('ballot-status'));
    const ids = [...$('ballot-choices').querySelectorAll('input:checked')].map((i) => i.value);
    if (ids.length === 0) {
      $('ballot-errors').append(el('p', { text: t('pages.members.choose_topic') }));
      return;
    }
    const res = await call('PUT', `/v1/rounds/${round.id}/ballot`, { topic_ids: ids });
    if (expired(res)) return;
    if (!res.ok) { showProblem($('ballot-errors'), res); return; }
    $('ballot-status').textContent = t('pages.members.vote_counted');
    $('ballot-withdraw').hidden = false;
    $('ballot-submit').textContent = t('pages.members.change_vote');
    await refreshTally();
  });

  $('ballot-withdraw').addEventListener('click', async () => {
    clear($('ballot-errors'), $('ballot-status'));
    const res = await call('DELETE', `/v1/rounds/${round.id}/ballot`);
    if (expired(res)) return;
    if (!res.ok) { showProblem($('ballot-errors'), res); return; }
    $('ballot-status').textContent = t('pages.members.vote_withdrawn');
    $('ballot-withdraw').hidden = true;
    $('ballot-submit').textContent = t('pages.members.cast_vote');
    $('ballot-choices').querySelectorAll('input').forEach((i) => { i.checked = false; });
    $('ballot-submit').focus();
    await refreshTally();
  });

  $('propose-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear($('propose-errors'), $('propose-status'));
    const title = $('topic-title').value.trim();
    const description = $('topic-description').value.trim();
    if (!title) {
      $('propose-errors').append(el('p', { text: t('pages.members.name_topic') }));
      $('topic-title').focus();
      return;
    }
    const res = await call('POST', '/v1/topics', { title, ...(description ? { description } : {}) });
    if (expired(res)) return;
    if (!res.ok) { showProblem($('propose-errors'), res, $('propose-form')); return; }
    $('propose-form').reset();
    $('propose-status').textContent = t('pages.members.proposed');
  });

  $('language-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear($('language-errors'), $('language-status'));
    const res = await call('PATCH', '/v1/me', { locale: $('locale').value });
    if (expired(res)) return;
    if (!res.ok) { showProblem($('language-errors'), res, $('language-form')); return; }
    $('language-status').textContent = t('pages.members.language_saved');
  });

  $('signout').addEventListener('click', async () => {
    try { await call('DELETE', '/v1/auth/session'); } catch { /* signed out here either way */ }
    showSignin(t('pages.members.signed_out'));
    $('signin-email').focus();
  });

  (async () => {
    showReturnNote();
    await exchangeLinkToken();
    if (!token) { showSignin(); return; }
    if (!(await loadMember())) return;
    if (returnTo && (await handOff())) return;
    await loadRound();
  })();
})();
