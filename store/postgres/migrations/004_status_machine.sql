-- The status machine (store/status.go) enforced by the record itself, so no
-- writer (a turn, an import, a console) can move an application along a
-- change the machine does not have. status_transitions is a copy of
-- store.Transitions(); a test compares the two.
create table status_transitions (
    from_status text not null,
    to_status   text not null,
    primary key (from_status, to_status)
);
insert into status_transitions (from_status, to_status) values
    ('collecting', 'materials_ready'),
    ('collecting', 'withdrawn'),
    ('materials_ready', 'collecting'),
    ('materials_ready', 'under_review'),
    ('materials_ready', 'withdrawn'),
    ('under_review', 'rejected'),
    ('under_review', 'awaiting_payment'),
    ('under_review', 'withdrawn'),
    ('rejected', 'collecting'),
    ('rejected', 'under_review'),
    ('rejected', 'withdrawn'),
    ('awaiting_payment', 'paid'),
    ('awaiting_payment', 'withdrawn'),
    ('paid', 'ticket_ready'),
    ('paid', 'withdrawn'),
    ('ticket_ready', 'withdrawn');

-- A refused change is a check violation of the "status_transition"
-- constraint whose detail is "from>to" (store/postgres translates it into
-- a store.TransitionError naming both). A new application starts at
-- collecting.
create function applications_status_guard() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        if new.status <> 'collecting' then
            raise exception 'a new application starts at collecting, not %', new.status
                using errcode = 'check_violation', constraint = 'status_transition',
                      detail = '>' || new.status;
        end if;
    elsif not exists (select 1 from status_transitions
                      where from_status = old.status and to_status = new.status) then
        raise exception 'status cannot change from % to %', old.status, new.status
            using errcode = 'check_violation', constraint = 'status_transition',
                  detail = old.status || '>' || new.status;
    end if;
    return new;
end;
$$;

-- After insert: an INSERT … ON CONFLICT DO UPDATE fires before-insert
-- triggers for the proposed row even when it updates an existing one.
create trigger applications_status_insert after insert on applications
    for each row when (new.status <> 'collecting')
    execute function applications_status_guard();
create trigger applications_status_update before update of status on applications
    for each row when (old.status is distinct from new.status)
    execute function applications_status_guard();

-- A rejection always says why.
alter table status_events add constraint status_events_rejected_reason
    check (to_status <> 'rejected' or reason <> '');

---- create above / drop below ----

alter table status_events drop constraint status_events_rejected_reason;
drop trigger applications_status_update on applications;
drop trigger applications_status_insert on applications;
drop function applications_status_guard();
drop table status_transitions;
