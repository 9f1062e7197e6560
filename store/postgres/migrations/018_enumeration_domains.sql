-- The closed lists of values in the columns every turn writes (the
-- application's status, the kind of a message, the author of a ticket's
-- message) move from table CHECK constraints to domains. PostgreSQL
-- rebuilds a table's CHECK expressions from their stored text for every
-- statement that writes the table (ExecConstraints: stringToNode and
-- expression set-up, about 7 us an insert of inbound_messages, a quarter of
-- the insert, measured in a loop of 20,000), while a domain's constraints
-- are kept parsed in the backend's type cache. The rule is the same.
--
-- No table is rewritten: each column changes to a domain that has no
-- constraint yet (binary-compatible), then the domain gets its constraint
-- NOT VALID and is validated, a scan.

-- applications.status is read by the status guard's triggers, which are
-- recreated around the change (a column used by a trigger's WHEN cannot
-- change type).
drop trigger applications_status_insert on applications;
drop trigger applications_status_update on applications;

create domain application_status as text;
alter table applications alter column status type application_status;
alter table applications drop constraint applications_status_check;
alter domain application_status add constraint application_status_check check (value in
    ('collecting', 'materials_ready', 'under_review', 'rejected', 'awaiting_payment', 'paid', 'ticket_ready', 'withdrawn'))
    not valid;
alter domain application_status validate constraint application_status_check;

create trigger applications_status_insert after insert on applications
    for each row when (new.status <> 'collecting')
    execute function applications_status_guard();
create trigger applications_status_update before update of status on applications
    for each row when (old.status is distinct from new.status)
    execute function applications_status_guard();

create domain inbound_kind as text;
alter table inbound_messages alter column kind type inbound_kind;
alter table inbound_messages drop constraint inbound_messages_kind_check;
alter domain inbound_kind add constraint inbound_kind_check check (value in ('candidate', 'system', 'failed')) not valid;
alter domain inbound_kind validate constraint inbound_kind_check;

create domain ticket_author as text;
alter table ticket_messages alter column author type ticket_author;
alter table ticket_messages drop constraint ticket_messages_author_check;
alter domain ticket_author add constraint ticket_author_check check (value in ('candidate', 'staff', 'bot')) not valid;
alter domain ticket_author validate constraint ticket_author_check;

---- create above / drop below ----

alter table ticket_messages alter column author type text;
alter table ticket_messages add constraint ticket_messages_author_check check (author in ('candidate', 'staff', 'bot'));
drop domain ticket_author;

alter table inbound_messages alter column kind type text;
alter table inbound_messages add constraint inbound_messages_kind_check check (kind in ('candidate', 'system', 'failed'));
drop domain inbound_kind;

drop trigger applications_status_insert on applications;
drop trigger applications_status_update on applications;
alter table applications alter column status type text;
alter table applications add constraint applications_status_check check (status in
    ('collecting', 'materials_ready', 'under_review', 'rejected', 'awaiting_payment', 'paid', 'ticket_ready', 'withdrawn'));
drop domain application_status;
create trigger applications_status_insert after insert on applications
    for each row when (new.status <> 'collecting')
    execute function applications_status_guard();
create trigger applications_status_update before update of status on applications
    for each row when (old.status is distinct from new.status)
    execute function applications_status_guard();
