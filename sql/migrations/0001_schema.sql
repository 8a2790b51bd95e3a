-- 0001 schema: the private home of the lifecycle.
-- Guarantees: schema `upload_lifecycle` exists and is not usable by PUBLIC; API roles get USAGE only,
-- so every table and function below must grant exactly what each role needs (since 2026 Supabase
-- no longer grants new tables to the API roles by default, and we never relied on it).

create schema if not exists upload_lifecycle;
revoke all on schema upload_lifecycle from public;
grant usage on schema upload_lifecycle to authenticated, service_role;
