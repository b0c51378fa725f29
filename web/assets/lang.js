// The reader's language (SPEC §4c): ?lang= first, then the choice made with
// the switch and kept in localStorage, then Accept-Language (the server's
// pick). Runs in <head>, before the page shows: a kept choice that differs
// from the language served reloads the page with ?lang=. The switch's links
// keep the rest of the address and store the choice.
'use strict';

(() => {
  const KEY = 'patrond.lang';
  const root = document.documentElement;
  const offered = (root.dataset.languages || '').split(' ').filter(Boolean);
  const store = {
    get() { try { return localStorage.getItem(KEY); } catch { return null; } },
    set(v) { try { localStorage.setItem(KEY, v); } catch { /* private mode: this page only */ } },
  };
  const withLang = (lang) => {
    const url = new URL(location.href);
    url.searchParams.set('lang', lang);
    return url.pathname + url.search + url.hash;
  };

  const url = new URL(location.href);
  const kept = store.get();
  if (!url.searchParams.has('lang') && kept && kept !== root.lang && offered.includes(kept)) {
    // the page's own scripts must not act (a sign-in link's token is used once)
    root.dataset.leaving = 'true';
    location.replace(withLang(kept));
    return;
  }

  document.addEventListener('click', (ev) => {
    const a = ev.target.closest && ev.target.closest('.lang-switch a[data-lang]');
    if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    store.set(a.dataset.lang);
    location.assign(withLang(a.dataset.lang));
  });
})();
