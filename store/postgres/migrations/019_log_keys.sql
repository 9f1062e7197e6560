-- inbound_messages and ticket_messages are logs read only in groups: a
-- candidate's messages (transcripts, erasure) and a ticket's thread, in
-- the order recorded. Each also had a primary key on id alone, a third
-- (inbound) and second (ticket) index that every insert paid for and no
-- query used: 10 % of an inbound insert's PostgreSQL CPU (pgbench, 16
-- clients, issue 11). The group index becomes the primary key; id stays
-- the identity column that orders a group.
alter table inbound_messages drop constraint inbound_messages_pkey;
alter table inbound_messages add constraint inbound_messages_pkey primary key (candidate_id, id);
drop index inbound_messages_candidate;

alter table ticket_messages drop constraint ticket_messages_pkey;
alter table ticket_messages add constraint ticket_messages_pkey primary key (ticket_id, id);
drop index ticket_messages_ticket;

---- create above / drop below ----

create index ticket_messages_ticket on ticket_messages (ticket_id, id);
alter table ticket_messages drop constraint ticket_messages_pkey;
alter table ticket_messages add constraint ticket_messages_pkey primary key (id);

create index inbound_messages_candidate on inbound_messages (candidate_id, id);
alter table inbound_messages drop constraint inbound_messages_pkey;
alter table inbound_messages add constraint inbound_messages_pkey primary key (id);
