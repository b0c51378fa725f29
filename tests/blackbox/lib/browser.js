'use strict';
// What the Playwright tests share.
const { waitFor } = require('./harness');

// A new page in a context of its own that collects uncaught script errors
// and console errors (CSP violations among them) in page.problems, for the
// test to assert empty.
async function openCheckedPage(browser, contextOptions = {}) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) page.problems.push(m.text());
  });
  return page;
}

// On the member page's sign-in form: asks for a link for `email` and
// answers the body of the mail that carries it, once it is in the outbox.
async function signInMail(page, srv, email) {
  await page.fill('#signin-email', email);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#signin-status').getByText(/on its way/).waitFor();
  return waitFor('the magic link in the outbox', () => srv.psql(
    `SELECT o.body FROM outbox o JOIN patrons p ON p.id = o.patron_id
      WHERE o.kind = 'magic_link' AND p.email = '${email}' ORDER BY o.seq DESC LIMIT 1`));
}

module.exports = { openCheckedPage, signInMail };
