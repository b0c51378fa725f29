// Puts the donation form on another site: <script src="…/assets/embed.js" async></script>
// inserts a framed /donate right where the tag stands and keeps the frame as
// tall as the form. data-currency, data-interval, data-amount-minor and
// data-provider preselect the form; data-lang (else the page's own <html
// lang>) picks its language when patrond offers it. The frame's title comes
// from the catalogue (/assets/i18n/<lang>.json), then from the framed page.
'use strict';

(() => {
  const script = document.currentScript;
  if (!script) return;
  const origin = new URL(script.src).origin;
  const src = new URL('/donate', origin);
  for (const [key, param] of [['currency', 'currency'], ['interval', 'interval'], ['amountMinor', 'amount_minor'], ['provider', 'provider']]) {
    if (script.dataset[key]) src.searchParams.set(param, script.dataset[key]);
  }
  const lang = (script.dataset.lang || document.documentElement.lang || '').toLowerCase().split(/[-_]/)[0];
  if (/^[a-z]{2,3}$/.test(lang)) src.searchParams.set('lang', lang);
  const frame = document.createElement('iframe');
  frame.src = src.href;
  // a frame needs a name before anything loads; the catalogue's replaces it
  frame.title = script.dataset.title || 'patrond';
  if (!script.dataset.title && /^[a-z]{2,3}$/.test(lang)) {
    fetch(new URL(`/assets/i18n/${lang}.json`, origin), { credentials: 'omit' })
      .then((res) => (res.ok ? res.json() : null))
      .then((cat) => {
        const title = cat && cat.pages && cat.pages.embed && cat.pages.embed.frame_title;
        if (typeof title === 'string' && title) frame.title = title;
      })
      .catch(() => { /* the framed page sends its own title */ });
  }
  frame.loading = 'lazy';
  frame.style.width = '100%';
  frame.style.maxWidth = '46rem';
  frame.style.height = '60rem';
  frame.style.border = '0';
  script.after(frame);
  window.addEventListener('message', (ev) => {
    if (ev.origin !== origin || ev.source !== frame.contentWindow) return;
    if (ev.data && ev.data.patrond === 'title' && typeof ev.data.title === 'string' && !script.dataset.title) {
      frame.title = ev.data.title.slice(0, 200);
      return;
    }
    const h = ev.data && ev.data.patrond === 'height' ? Number(ev.data.height) : NaN;
    if (Number.isFinite(h) && h > 0) frame.style.height = `${Math.ceil(h) + 4}px`;
  });
})();
