'use strict';
// What the Playwright tests share.
const { waitFor } = require('./harness');

// A new page in a context of its own that collects uncaught script errors
// and console errors (CSP violations among them) in page.problems, for the
// test to assert empty. `prepare(context)` runs before the page opens
// (init scripts, for one).
async function openCheckedPage(browser, contextOptions = {}, prepare = async () => {}) {
  const context = await browser.newContext(contextOptions);
  await prepare(context);
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) page.problems.push(m.text());
  });
  return page;
}

// On the member page's sign-in form: asks for a link for `email` and
// answers the link that mail carries, once it is in the outbox.
async function signInMail(page, srv, email) {
  await page.fill('#signin-email', email);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#signin-status').getByText(/on its way/).waitFor();
  return waitFor('the magic link in the outbox', () => srv.psql(
    `SELECT o.params->>'link' FROM outbox o JOIN patrons p ON p.id = o.patron_id
      WHERE o.kind = 'magic_link' AND p.email = '${email}' ORDER BY o.seq DESC LIMIT 1`));
}

module.exports = { openCheckedPage, signInMail };
