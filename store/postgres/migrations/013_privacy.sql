-- Personal data at rest (docs/privacy.md). The values themselves are
-- sealed by the application (AES-256-GCM under the record key, which the
-- database never sees): the sensitive answers inside applications.answers,
-- the session snapshot, inbound_messages.text, ticket_messages.text and
-- image_ref, documents.blob_ref and phash. Existing rows are sealed by
-- postgres.Store.Reseal, which `regbot serve` and `regbot migrate` run
-- after the migrations.
--
-- Staff and the status import find a candidate by ID number or mobile
-- through a blind index (HMAC-SHA-256 under a key derived from the record
-- key, 16 bytes) instead of the plain answer (migration 008's indexes).
alter table applications add column id_number_index bytea, add column mobile_index bytea;
drop index applications_id_number;
drop index applications_mobile;
create index applications_id_number_index on applications (plan_id, id_number_index) where id_number_index is not null;
create index applications_mobile_index on applications (plan_id, mobile_index) where mobile_index is not null;

-- A sealed perceptual hash is not 128 hex digits any more. documents.sha256
-- (the plain content hash: with a photo, anyone could confirm it is stored)
-- is no longer written; Reseal clears it.
alter table documents drop constraint documents_phash_check;

---- create above / drop below ----

alter table documents add constraint documents_phash_check check (phash ~ '^[0-9a-f]{128}$') not valid;
drop index applications_mobile_index;
drop index applications_id_number_index;
create index applications_id_number on applications (plan_id, (answers->>'id_number'));
create index applications_mobile on applications (plan_id, (answers->>'mobile'));
alter table applications drop column mobile_index, drop column id_number_index;
