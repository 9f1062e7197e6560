-- Every candidate turn inserts an inbound_messages row (and some turns an
-- outbox row). Their foreign keys to candidates cost each insert a check
-- query and a row lock on the candidate (a heap write and a WAL record), 6 %
-- of PostgreSQL's CPU per turn under load (perf, issue 11). Both tables are
-- logs of what was said and sent, written only with the candidate id the
-- turn read from identities or its session, and candidates are never
-- deleted (no code path does); a future erasure deletes these rows by
-- candidate_id (indexes inbound_messages_candidate, outbox_candidate) before
-- the candidate.
alter table inbound_messages drop constraint inbound_messages_candidate_id_fkey;
alter table outbox drop constraint outbox_candidate_id_fkey;

---- create above / drop below ----

alter table outbox add constraint outbox_candidate_id_fkey
    foreign key (candidate_id) references candidates (id) on delete cascade;
alter table inbound_messages add constraint inbound_messages_candidate_id_fkey
    foreign key (candidate_id) references candidates (id) on delete cascade;
