-- Broadcasts (issue 14): an admin's announcement to the candidates a filter
-- selects. The tables 001 made for them were never used; they are replaced.
-- A broadcast's recipients are fixed when it starts; each recipient's
-- message becomes an outbox row (kind broadcast, dedup_key
-- broadcast:<id>:<candidate>) only when its turn to be sent comes, so a
-- long broadcast never holds back a candidate's conversation, and the
-- outbox row is what notify delivers and records.
drop table deliveries;
drop table broadcasts;

-- Saved filters, by name.
create table segments (
    id         bigint generated always as identity primary key,
    name       text not null unique,
    filter     text not null,
    created_by bigint references staff_users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table broadcasts (
    id          bigint generated always as identity primary key,
    plan_id     text not null,
    title       text not null,
    -- The expr-lang filter over candidate fields (broadcasts.Fields) and the
    -- segment it came from, if any.
    filter      text not null,
    segment     text not null default '',
    -- The message: text with {placeholders}, and an optional image (a blob
    -- ref) sent with it.
    body        text not null,
    image_ref   text not null default '',
    image_name  text not null default '',
    state       text not null default 'draft'
                check (state in ('draft', 'scheduled', 'sending', 'paused', 'done', 'cancelled')),
    -- When a scheduled broadcast starts.
    send_at     timestamptz,
    created_by  bigint references staff_users (id) on delete set null,
    created_at  timestamptz not null default now(),
    started_at  timestamptz,
    finished_at timestamptz,
    -- How many candidates the filter matched when it started.
    recipients  int not null default 0,
    -- Why a broadcast ended without sending (its filter matched nobody).
    note        text not null default ''
);
create index broadcasts_active on broadcasts (id) where state in ('scheduled', 'sending');

-- One row per recipient, fixed at the start: the identity it goes to, the
-- message rendered for them, and once handed to the outbox, its row there
-- (whose state is the recipient's). skipped names why a recipient was left
-- out before any send (the identity is unreachable: they blocked the bot).
create table broadcast_recipients (
    broadcast_id bigint not null references broadcasts (id) on delete cascade,
    candidate_id bigint not null references candidates (id) on delete cascade,
    channel      text not null,
    user_id      text not null,
    payload      bytea not null,
    outbox_id    bigint references outbox (id) on delete set null,
    skipped      text not null default '',
    primary key (broadcast_id, candidate_id)
);
create index broadcast_recipients_waiting on broadcast_recipients (broadcast_id, channel, candidate_id)
    where outbox_id is null and skipped = '';
create index broadcast_recipients_outbox on broadcast_recipients (outbox_id);

-- Send-rate buckets shared by every process (without Redis): a GCRA, the
-- theoretical arrival time of the next send per key.
create table rate_buckets (
    key text primary key,
    tat timestamptz not null
);

-- rate_take grants up to n sends of the bucket key, which allows one send
-- every interval_us microseconds with bursts of tolerance_us / interval_us
-- + 1; it returns how many it granted and, when none, the microseconds to
-- wait for the next. Time is the database server's, one clock for all.
create function rate_take(p_key text, p_interval_us double precision, p_tolerance_us double precision, p_n int,
                          out granted int, out wait_us bigint)
language plpgsql as $$
declare
    v_now timestamptz := clock_timestamp();
    v_tat timestamptz;
    v_room double precision;
begin
    insert into rate_buckets (key, tat) values (p_key, v_now) on conflict (key) do nothing;
    select greatest(tat, v_now) into v_tat from rate_buckets where key = p_key for update;
    v_room := extract(epoch from (v_now - v_tat)) * 1e6 + p_tolerance_us;
    if v_room < 0 then
        granted := 0;
        wait_us := ceil(-v_room)::bigint;
        return;
    end if;
    granted := least(p_n, floor(v_room / p_interval_us)::int + 1);
    wait_us := 0;
    update rate_buckets set tat = v_tat + (granted * p_interval_us) * interval '1 microsecond' where key = p_key;
end;
$$;

---- create above / drop below ----

drop function rate_take(text, double precision, double precision, int);
drop table rate_buckets;
drop table broadcast_recipients;
drop table broadcasts;
drop table segments;
create table broadcasts (
    id         bigint generated always as identity primary key,
    plan_id    text not null default '',
    title      text not null,
    segment    text not null default '',
    body       text not null,
    state      text not null default 'draft' check (state in ('draft', 'sending', 'sent', 'cancelled')),
    created_by bigint references staff_users (id),
    created_at timestamptz not null default now(),
    sent_at    timestamptz
);
create table deliveries (
    id           bigint generated always as identity primary key,
    broadcast_id bigint not null references broadcasts (id) on delete cascade,
    candidate_id bigint not null references candidates (id) on delete cascade,
    channel      text not null,
    user_id      text not null,
    state        text not null default 'pending' check (state in ('pending', 'sent', 'failed', 'skipped')),
    attempts     int not null default 0,
    last_error   text not null default '',
    sent_at      timestamptz,
    unique (broadcast_id, candidate_id)
);
create index deliveries_pending on deliveries (broadcast_id) where state = 'pending';
