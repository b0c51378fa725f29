// Puts the donation form on another site: <script src="…/assets/embed.js" async></script>
// inserts a framed /donate right where the tag stands and keeps the frame as
// tall as the form. data-currency and data-interval preselect the form.
'use strict';

(() => {
  const script = document.currentScript;
  if (!script) return;
  const origin = new URL(script.src).origin;
  const src = new URL('/donate', origin);
  for (const key of ['currency', 'interval']) {
    if (script.dataset[key]) src.searchParams.set(key, script.dataset[key]);
  }
  const frame = document.createElement('iframe');
  frame.src = src.href;
  frame.title = script.dataset.title || 'Support our journalism';
  frame.loading = 'lazy';
  frame.style.width = '100%';
  frame.style.maxWidth = '46rem';
  frame.style.height = '60rem';
  frame.style.border = '0';
  script.after(frame);
  window.addEventListener('message', (ev) => {
    if (ev.origin !== origin || ev.source !== frame.contentWindow) return;
    const h = ev.data && ev.data.patrond === 'height' ? Number(ev.data.height) : NaN;
    if (Number.isFinite(h) && h > 0) frame.style.height = `${Math.ceil(h) + 4}px`;
  });
})();
