-- A registry as jiko schema version 1 wrote it (before the incident_current
-- view of version 2), with one incident amended once.  tests/test_store.c opens it
-- and checks that it is upgraded with its data intact.
CREATE TABLE jiko_schema (version INTEGER NOT NULL);
INSERT INTO jiko_schema VALUES (1);
CREATE TABLE incident (
  key INTEGER PRIMARY KEY,
  operator TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
  started_ms INTEGER NOT NULL, ended_ms INTEGER,
  fiscal_year INTEGER NOT NULL, quarter INTEGER NOT NULL,
  report TEXT NOT NULL, rulebook TEXT NOT NULL,
  serious_categories TEXT NOT NULL, quarterly_clauses TEXT NOT NULL,
  users INTEGER NOT NULL,
  UNIQUE (id, operator));
CREATE TABLE incident_version (
  key INTEGER NOT NULL, version INTEGER NOT NULL,
  record TEXT NOT NULL, changed_ms INTEGER NOT NULL, reason TEXT NOT NULL,
  PRIMARY KEY (key, version)) WITHOUT ROWID;
INSERT INTO incident VALUES (1, 'Old Operator', 'old-1', 2, 1627970400000, 1627979100000, 2021, 2,
  'serious', 'jp-2019', '5', 'telecom', 456516);
INSERT INTO incident_version VALUES (1, 1,
  '{"id":"old-1","operator":"Old Operator","started_at":"2021-08-03T15:00:00+09:00","ended_at":"2021-08-03T17:00:00+09:00","services":[{"service":"email_paid","effect":"stop","users":456516}]}',
  1628000000000, 'imported from old.jsonl:1');
INSERT INTO incident_version VALUES (1, 2,
  '{"id":"old-1","operator":"Old Operator","started_at":"2021-08-03T15:00:00+09:00","ended_at":"2021-08-03T17:25:00+09:00","services":[{"service":"email_paid","effect":"stop","users":456516},{"service":"dns","effect":"degrade","users":1000}],"cause":{"category":"equipment","detail":"proxy memory"},"equipment":"application_server"}',
  1628100000000, 'amended: end time corrected');
