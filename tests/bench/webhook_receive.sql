-- pgbench script: patrond's Stripe invoice.paid delivery as the one SQL call
-- the server makes (webhook_receive, sql/40_webhooks.sql), without the HTTP,
-- signature check and JSON parsing around it. Its TPS is the ceiling of
-- patrond's webhook design on this database, to set beside the harness's
-- pgbench/webhook.sql (the three statements of the naive design). Needs
-- the bench seed (pledges sub_1..sub_100000); tests/bench/seed.sh runs it.
\set n random(1, 2000000000)
\set pl random(1, 100000)
SELECT webhook_receive('stripe', 'evt_' || :n || '_' || :client_id, 'invoice.paid',
  convert_to('{"id":"evt_' || :n || '","object":"event","type":"invoice.paid","api_version":"2025-03-31.basil","created":1764400000,"data":{"object":{"id":"in_' || :n || '","object":"invoice","customer":"cus_' || :pl || '","customer_email":"p' || :pl || '@example.org","amount_paid":500,"currency":"uah","billing_reason":"subscription_cycle","parent":{"subscription_details":{"subscription":"sub_' || :pl || '"}},"lines":{"data":[{"period":{"start":1764400000,"end":1766992000}}]}}}}', 'UTF8'),
  '{}'::jsonb,
  ('{"kind":"payment_succeeded","event_key":"evt_' || :n || '_' || :client_id || '","type":"invoice.paid","email":"p' || :pl || '@example.org","subscription_ref":"sub_' || :pl || '","customer_ref":"cus_' || :pl || '","payment_id":"in_' || :n || '_' || :client_id || '","amount_minor":500,"currency":"UAH","period_end":"2025-12-29T00:00:00Z","occurred_at":"2025-11-29T08:00:00Z"}')::jsonb,
  NULL);
