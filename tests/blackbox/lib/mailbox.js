'use strict';
// A mail "program" for PATROND_MAIL_COMMAND that files each message it is
// given, atomically, and a reader of what it filed: headers unfolded and
// RFC 2047 encoded-words decoded, the body as UTF-8 text.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

function mailbox() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patrond-mail-'));
  const script = path.join(dir, 'deliver.sh');
  fs.writeFileSync(script,
    '#!/bin/sh\nf="$1/$(date +%s%N)-$$"\ncat > "$f.tmp" && mv "$f.tmp" "$f.eml"\n');
  return { dir, command: `sh '${script}' '${dir}'` };
}

// =?UTF-8?B?...?= words; the whitespace between adjacent words goes (RFC 2047 §6.2).
function decodeWords(value) {
  return value.replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/gi, (_, b64) => Buffer.from(b64, 'base64').toString('utf8'));
}

function parseMail(text) {
  const split = text.indexOf('\n\n');
  const headers = {};
  const raw = {};
  const lines = text.slice(0, split).replace(/\n[ \t]/g, ' ').split('\n');
  for (const line of lines) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).toLowerCase();
    raw[name] = line.slice(i + 1).trim();
    headers[name] = decodeWords(raw[name]);
  }
  const body = text.slice(split + 2);
  const m = body.match(/(\S+\/members\?token=([A-Za-z0-9_-]+))/);
  return { text, headers, raw, body, link: m && m[1], token: m && m[2] };
}

function readMails(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).sort()
    .map((f) => parseMail(fs.readFileSync(path.join(dir, f), 'utf8')));
}

module.exports = { mailbox, readMails, parseMail };
