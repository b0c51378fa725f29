-- Mails in the patron's language (SPEC §4c). `patrons.locale`: the
-- language their mails are written in (a code of PATROND_LANGUAGES; NULL
-- is the default language). `lapse_notice_for`: the lapse the "your
-- membership ends on …" mail was last sent for, so it goes once per
-- lapse.
ALTER TABLE patrons
  ADD COLUMN locale text CHECK (locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
  ADD COLUMN lapse_notice_for timestamptz;

-- A patron's mail is queued as what it says, not as text: its kind, the
-- language and the parameters (jsonb). The delivery job renders subject
-- and body from the catalogue when it sends, and keeps what it sent in
-- subject and body. A message with params NULL is plain text written by
-- SQL (operational mail to the newsroom).
ALTER TABLE outbox
  ADD COLUMN locale text,
  ADD COLUMN params jsonb;

-- Replaced by versions that take the patron's language or the rendered
-- text (sql/35_outbox.sql, sql/50_checkout.sql, sql/80_members.sql).
DROP FUNCTION IF EXISTS outbox_mark_sent(uuid);
DROP FUNCTION IF EXISTS checkout_create(uuid, text, text, bigint, text, text, text, text);
DROP FUNCTION IF EXISTS magic_link_request(text, bytea, text);
DROP FUNCTION IF EXISTS webhook_mail(pledges, text, text, text);
