// The member page: sign-in by magic link, membership, the current round's
// ballot and live tally, topic proposals. The session token lives in
// sessionStorage only, so it ends with the tab. Opened as
// /members?return_to=<url> from the newsroom's site, it sends the signed-in
// reader back there with a member token (SPEC §4b; see README "Member
// tokens").
'use strict';

(() => {
  const { api, el, showProblem, clear, dateTime } = patrond;
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
      showSignin('Your session has ended; please sign in again.');
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
      $('page-errors').append(el('p', { text: 'Sign-in links work once, for 15 minutes. Ask for a new one below.' }));
    }
  }

  function describeMembership(me) {
    const who = me.patron.name ? `${me.patron.name} (${me.patron.email})` : me.patron.email;
    const parts = [`Signed in as ${who}. `];
    if (me.member) {
      parts.push(el('strong', { text: 'You are a member' }));
      parts.push(me.member_until ? ` until ${dateTime(me.member_until)}` : '');
      parts.push(me.member_reason ? ` (${me.member_reason}).` : '.');
    } else {
      parts.push(el('strong', { text: 'You are not a member yet' }));
      parts.push(me.member_reason ? ` (${me.member_reason}).` : '.');
    }
    $('membership').replaceChildren(...parts);
  }

  function renderTally(t) {
    const total = t.total_weight || 0;
    const voted = t.voters === 1 ? '1 member has voted' : `${t.voters} members have voted`;
    $('tally-summary').textContent = `${voted}${t.status === 'closed' ? '; the result is final' : ' so far'}.`;
    $('tally').replaceChildren(...t.topics.map((topic) => {
      const pct = Math.round((topic.share || 0) * 100);
      const fill = el('div', { class: 'bar-fill' });
      fill.style.width = `${total ? (topic.share * 100).toFixed(1) : 0}%`;
      return el('li', { 'data-topic-id': topic.topic_id },
        el('div', { class: 'bar-label' },
          el('span', { class: 'bar-title', text: topic.title }),
          el('span', { class: 'bar-value', text: `${topic.votes} ${topic.votes === 1 ? 'vote' : 'votes'} (${pct}%)` })),
        el('div', { class: 'bar-track', 'aria-hidden': 'true' }, fill));
    }));
    return t;
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
    $('ballot-legend').textContent = multi ? `Your choices (up to ${round.max_choices})` : 'Your choice';
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
    $('ballot-submit').textContent = res.ok ? 'Change my vote' : 'Cast my vote';
    $('ballot-form').hidden = round.status !== 'open';
  }

  async function loadRound() {
    const res = await call('GET', '/v1/rounds/current');
    if (res.status === 404) {
      round = null;
      $('round-info').textContent = 'There is no vote open right now.';
      $('ballot-form').hidden = true;
      $('tally').replaceChildren();
      $('tally-summary').textContent = '';
      return;
    }
    if (!res.ok) { showProblem($('page-errors'), res); return; }
    round = res.json;
    $('round-info').replaceChildren(el('strong', { text: round.title }),
      round.status === 'open' ? ` — open until ${dateTime(round.closes_at)}.` : ` — ${round.status}.`);
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
    $('signin').hidden = true;
    $('member-area').hidden = false;
    return true;
  }

  // Only a return_to the server accepts (its origin is in
  // PATROND_CORS_ORIGINS) gets the token; any other stays on this page.
  // True when the page has nothing more to show (gone, or signed out).
  async function handOff() {
    $('page-status').textContent = `Taking you back to ${new URL(returnTo).host}…`;
    const res = await call('POST', `/v1/me/token?return_to=${encodeURIComponent(returnTo)}`);
    if (expired(res)) return true;
    if (!res.ok || !res.json || !res.json.token) {
      $('page-status').textContent = '';
      showProblem($('page-errors'), res);
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
      $('page-errors').append(el('p', { text: 'The address to return to is not a valid URL; you stay on this page.' }));
      return;
    }
    $('return-note').textContent = `After signing in you go back to ${new URL(returnTo).host}.`;
    $('return-note').hidden = false;
  }

  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear($('signin-errors'), $('signin-status'));
    const email = $('signin-email');
    if (!email.value.trim() || !email.checkValidity()) {
      email.setAttribute('aria-invalid', 'true');
      $('signin-errors').append(el('p', { text: 'Enter your e-mail address.' }));
      email.focus();
      return;
    }
    email.removeAttribute('aria-invalid');
    let res;
    const body = { email: email.value.trim(), ...(returnTo ? { return_to: returnTo } : {}) };
    try { res = await api('POST', '/v1/auth/magic-link', { body }); } catch { res = null; }
    if (res && res.status === 202) {
      $('signin-status').textContent = 'If this address belongs to a patron, a sign-in link is on its way. It works for 15 minutes.';
    } else {
      showProblem($('signin-errors'), res, $('signin-form'));
    }
  });

  $('ballot-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear($('ballot-errors'), $('ballot-status'));
    const ids = [...$('ballot-choices').querySelectorAll('input:checked')].map((i) => i.value);
    if (ids.length === 0) {
      $('ballot-errors').append(el('p', { text: 'Choose a topic first.' }));
      return;
    }
    const res = await call('PUT', `/v1/rounds/${round.id}/ballot`, { topic_ids: ids });
    if (expired(res)) return;
    if (!res.ok) { showProblem($('ballot-errors'), res); return; }
    $('ballot-status').textContent = 'Your vote is counted. You can change it until the vote closes.';
    $('ballot-withdraw').hidden = false;
    $('ballot-submit').textContent = 'Change my vote';
    await refreshTally();
  });

  $('ballot-withdraw').addEventListener('click', async () => {
    clear($('ballot-errors'), $('ballot-status'));
    const res = await call('DELETE', `/v1/rounds/${round.id}/ballot`);
    if (expired(res)) return;
    if (!res.ok) { showProblem($('ballot-errors'), res); return; }
    $('ballot-status').textContent = 'Your vote is withdrawn.';
    $('ballot-withdraw').hidden = true;
    $('ballot-submit').textContent = 'Cast my vote';
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
      $('propose-errors').append(el('p', { text: 'Name the topic.' }));
      $('topic-title').focus();
      return;
    }
    const res = await call('POST', '/v1/topics', { title, ...(description ? { description } : {}) });
    if (expired(res)) return;
    if (!res.ok) { showProblem($('propose-errors'), res, $('propose-form')); return; }
    $('propose-form').reset();
    $('propose-status').textContent = 'Thank you: the editors will look at your proposal.';
  });

  $('signout').addEventListener('click', async () => {
    try { await call('DELETE', '/v1/auth/session'); } catch { /* signed out here either way */ }
    showSignin('You are signed out.');
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
