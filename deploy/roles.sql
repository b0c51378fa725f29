-- Least-privilege roles for patrond (deploy/README.md "Database roles").
--
--   owner role (default patrond_owner): owns the database and every object
--     the migrations create; `patrond migrate` runs as it, nothing else does.
--   app role (default patrond_app): what `patrond serve` connects as; it
--     may read and write rows, use sequences and call functions, and
--     nothing more: no DDL, no TRUNCATE, no schema changes, no writes to
--     the migration record.
--
-- Run as a superuser, connected to patrond's database, before or after
-- migrating (it is idempotent; run it again any time):
--   sudo -u postgres psql -d patrond -v ON_ERROR_STOP=1 \
--        [-v owner=patrond_owner] [-v app=patrond_app] \
--        [-v owner_password=...] [-v app_password=...] -f deploy/roles.sql
-- Default privileges make tables, sequences and functions that later
-- migrations create (as the owner) usable by the app role at once.

\set ON_ERROR_STOP on
\if :{?owner}
\else
  \set owner patrond_owner
\endif
\if :{?app}
\else
  \set app patrond_app
\endif

SELECT format('CREATE ROLE %I LOGIN', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'app')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
-- whatever they were before, neither role is any more than this
ALTER ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
\if :{?owner_password}
  ALTER ROLE :"owner" PASSWORD :'owner_password';
\endif
\if :{?app_password}
  ALTER ROLE :"app" PASSWORD :'app_password';
\endif

SELECT current_database() AS dbname \gset
ALTER DATABASE :"dbname" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"dbname" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"dbname" TO :"app";

-- Only the owner creates objects (PostgreSQL 15's default, made explicit
-- for clusters upgraded from older versions).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";

-- Objects that exist now (when run after `patrond migrate`) ...
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO :"app";
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO :"app";
-- ... and those later migrations create.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT USAGE ON SEQUENCES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT EXECUTE ON FUNCTIONS TO :"app";

-- `serve` reads the migration record to refuse a stale schema; only
-- `migrate` (the owner) writes it.
SELECT format('REVOKE INSERT, UPDATE, DELETE ON TABLE schema_migrations FROM %I', :'app')
 WHERE to_regclass('public.schema_migrations') IS NOT NULL \gexec
SELECT format('REVOKE INSERT, UPDATE, DELETE ON TABLE schema_code FROM %I', :'app')
 WHERE to_regclass('public.schema_code') IS NOT NULL \gexec

-- Objects someone else created (say, a first `patrond migrate` run as
-- postgres) would keep the owner from migrating them later: say so.
SELECT set_config('patrond.owner', :'owner', false) \gset
DO $$
DECLARE
  o record;
BEGIN
  FOR o IN SELECT c.oid::regclass AS name, pg_get_userbyid(c.relowner) AS owner
             FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v')
              AND pg_get_userbyid(c.relowner) <> current_setting('patrond.owner') LOOP
    RAISE WARNING '% is owned by %, not %: ALTER it OWNER TO %', o.name, o.owner,
      current_setting('patrond.owner'), current_setting('patrond.owner');
  END LOOP;
END
$$;
