'use strict';
// The admin page's import section in a real browser (Debian's Chromium,
// driven by playwright-core): a file is checked (dry run) with its counts
// and per-line errors shown, then applied.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { openCheckedPage } = require('./lib/browser');
const { startServer, ROOT } = require('./lib/harness');

let s, browser;
before(async () => {
  s = await startServer();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  await s?.stop();
});

test('the admin page checks a CSV file, lists its errors, then imports the valid rows', async () => {
  const page = await openCheckedPage(browser, { viewport: { width: 900, height: 1400 } });
  await page.goto(`${s.url}/admin`);
  await page.fill('#admin-key', s.adminKey);
  await page.click('#key-form button[type=submit]');
  await page.locator('#summary dd').first().waitFor();

  const section = page.locator('#import-section');
  assert.equal(await section.locator('h2').textContent(), 'Import supporters');
  assert.equal(await page.locator('label[for=import-file]').textContent(), 'CSV file');
  assert.equal(await page.locator('#import-status').getAttribute('role'), 'status');
  assert.equal(await page.locator('#import-status').getAttribute('aria-live'), 'polite');

  // no file yet: said so, nothing sent
  await page.click('#import-check');
  await page.locator('#import-errors').getByText('Choose a CSV file first.').waitFor();
  assert.equal(await page.locator('#import-file').getAttribute('aria-invalid'), 'true');

  const file = fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'import-errors.csv'));
  await page.setInputFiles('#import-file', { name: 'supporters.csv', mimeType: 'text/csv', buffer: file });
  await page.click('#import-check');
  await page.locator('#import-status').getByText(/^Checked, nothing changed; fix the file/).waitFor();
  assert.equal(await page.locator('#import-status').textContent(),
    'Checked, nothing changed; fix the file, or import the valid rows only: 2 new, 0 updated, 0 unchanged; 7 problems (below).');
  const rows = await page.locator('#import-problems tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.equal(rows.length, 7);
  assert.deepEqual(rows[0], ['3', 'email', 'is not a valid e-mail address']);
  assert.deepEqual(rows[2], ['5', 'amount', 'must use a dot as the decimal separator, like 5.00 (not 5,00)']);
  assert.ok(await page.locator('#import-apply').isHidden(), 'nothing to apply while errors stop the import');
  assert.equal(await s.psql("SELECT count(*) FROM patrons WHERE email = 'ok1@example.org'"), '0');

  await page.check('#import-skip');
  await page.click('#import-check');
  await page.locator('#import-apply').waitFor({ state: 'visible' });
  assert.equal(await s.psql("SELECT count(*) FROM patrons WHERE email = 'ok1@example.org'"), '0', 'checking changes nothing');
  await page.click('#import-apply');
  await page.locator('#import-status').getByText(/^Imported: 2 new, 0 updated, 0 unchanged; 7 problems/).waitFor();
  assert.ok(await page.locator('#import-apply').isHidden());
  assert.equal(await s.psql("SELECT count(*) FROM patrons WHERE email IN ('ok1@example.org', 'ok4@example.org')"), '2');
  await page.locator('#patrons tbody tr').filter({ hasText: 'ok1@example.org' }).waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
