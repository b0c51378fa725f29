// For the newsroom's own pages (SPEC §4b, README "Member tokens"):
//   <script src="https://PATROND/assets/member.js" defer></script>
// shows elements marked data-patrond="members" to members and those marked
// data-patrond="non-members" (the "become a patron" call) to everyone else,
// and points links marked data-patrond="sign-in" at the member page, which
// sends the reader back here with #patrond_token=<jwt> (in the language of
// data-lang on the script tag, else of this page's <html lang>, when
// patrond offers it). The token is kept
// in this site's localStorage until its `exp`. No dependencies, no cookies,
// no requests of its own.
//
// DISPLAY ONLY: this script does not verify the token's signature, and
// anyone can write anything into localStorage. Never let it decide what a
// reader may see that matters (paywalled text, downloads, discounts):
// send the token to the site's server and verify it there against
// /.well-known/jwks.json.
'use strict';

(() => {
  const KEY = 'patrond.member_token';
  const PARAM = 'patrond_token';
  const script = document.currentScript;
  const origin = script && script.src ? new URL(script.src).origin : null;

  // The claims of a compact JWT, unverified; null when it is not one.
  function claimsOf(jwt) {
    const parts = typeof jwt === 'string' ? jwt.split('.') : [];
    if (parts.length !== 3) return null;
    try {
      const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const claims = JSON.parse(new TextDecoder().decode(bytes));
      return claims && typeof claims === 'object' ? claims : null;
    } catch { return null; }
  }

  const store = {
    get() { try { return localStorage.getItem(KEY); } catch { return null; } },
    set(v) { try { localStorage.setItem(KEY, v); } catch { /* private mode: this page only */ } },
    drop() { try { localStorage.removeItem(KEY); } catch { /* nothing kept */ } },
  };

  // A token handed over in the fragment replaces the kept one, and leaves
  // the address bar (and history) at once, so it is not bookmarked or shared.
  let token = null;
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.has(PARAM)) {
    token = hash.get(PARAM);
    hash.delete(PARAM);
    const rest = hash.toString();
    history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
    store.set(token);
  } else {
    token = store.get();
  }

  let claims = claimsOf(token);
  const live = (c) => c && typeof c.exp === 'number' && c.exp * 1000 > Date.now();
  if (!live(claims)) {
    claims = null;
    store.drop();
  }

  function apply() {
    const member = Boolean(claims && claims.member === true);
    document.querySelectorAll('[data-patrond="members"]').forEach((n) => { n.hidden = !member; });
    document.querySelectorAll('[data-patrond="non-members"]').forEach((n) => { n.hidden = member; });
    if (!origin) return;
    const here = new URL(location.href);
    here.hash = '';
    const signIn = new URL('/members', origin);
    signIn.searchParams.set('return_to', here.href);
    const lang = ((script && script.dataset.lang) || document.documentElement.lang || '').toLowerCase().split(/[-_]/)[0];
    if (/^[a-z]{2,3}$/.test(lang)) signIn.searchParams.set('lang', lang);
    document.querySelectorAll('a[data-patrond="sign-in"]').forEach((a) => { a.href = signIn.href; });
  }

  // The token lapses while the page is open, too.
  if (claims) {
    setTimeout(() => {
      claims = null;
      store.drop();
      apply();
    }, Math.min(claims.exp * 1000 - Date.now(), 2147483647));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', apply);
  else apply();

  // For the site's own script: the (unverified) claims, or null.
  window.patrondMember = () => (claims ? { ...claims } : null);
})();
