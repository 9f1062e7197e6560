-- A candidate's message whose turn failed for good (the record refused what
-- it changed, the engine panicked) is kept as said, of kind 'failed', with
-- the apology the candidate got (bot.Router): the platform stops
-- redelivering it and staff can find it.
alter table inbound_messages drop constraint inbound_messages_kind_check;
alter table inbound_messages add constraint inbound_messages_kind_check
    check (kind in ('candidate', 'system', 'failed'));

---- create above / drop below ----

update inbound_messages set kind = 'candidate' where kind = 'failed';
alter table inbound_messages drop constraint inbound_messages_kind_check;
alter table inbound_messages add constraint inbound_messages_kind_check
    check (kind in ('candidate', 'system'));
