-- Every message of a candidate talking to staff adds a ticket_messages row.
-- Its foreign key to tickets cost each insert a check query and a key-share
-- lock on the ticket's row (a heap write and a WAL record on a row nothing
-- else changes), as the candidates keys did for inbound_messages (015).
-- ticket_messages is the log of a ticket, written only with the id of a
-- ticket the same statement found, and tickets are never deleted.
alter table ticket_messages drop constraint ticket_messages_ticket_id_fkey;

---- create above / drop below ----

alter table ticket_messages add constraint ticket_messages_ticket_id_fkey
    foreign key (ticket_id) references tickets (id) on delete cascade;
