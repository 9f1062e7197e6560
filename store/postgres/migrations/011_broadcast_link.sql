-- A recipient's link to its outbox row is only read from the recipient's
-- side: it needs no index, and no foreign key (whose check locked the
-- outbox row on every hand-over, a quarter of the hand-over's cost in
-- BenchmarkBroadcast). Outbox rows go only with their candidate, whose
-- recipient rows go too.
alter table broadcast_recipients drop constraint broadcast_recipients_outbox_id_fkey;
drop index broadcast_recipients_outbox;

---- create above / drop below ----

create index broadcast_recipients_outbox on broadcast_recipients (outbox_id);
alter table broadcast_recipients add constraint broadcast_recipients_outbox_id_fkey
    foreign key (outbox_id) references outbox (id) on delete set null;
