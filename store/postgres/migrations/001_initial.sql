-- The record: who the candidates are, what they answered and uploaded, how
-- their application moved, what they asked staff, and what we sent them.
-- Domain words (statuses, material keys, conditions) are DOMAIN.md's.

-- A candidate is one person; they reach us through one or more channel
-- identities (WeChat openid, Telegram chat, web cookie).
create table candidates (
    id         bigint generated always as identity primary key,
    created_at timestamptz not null default now()
);

create table identities (
    channel      text not null,
    user_id      text not null,
    candidate_id bigint not null references candidates (id) on delete cascade,
    created_at   timestamptz not null default now(),
    primary key (channel, user_id)
);
create index identities_candidate on identities (candidate_id);

-- One application per candidate and certification plan: the chosen
-- condition, the status, every answer (slot key → value) and the last
-- session snapshot, from which a lost Redis session is rebuilt.
create table applications (
    id           bigint generated always as identity primary key,
    candidate_id bigint not null references candidates (id) on delete cascade,
    plan_id      text not null,
    condition    text not null default '',
    status       text not null default 'collecting' check (status in (
                     'collecting', 'materials_ready', 'under_review', 'rejected',
                     'awaiting_payment', 'paid', 'ticket_ready', 'withdrawn')),
    answers      jsonb not null default '{}',
    session      jsonb,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    unique (candidate_id, plan_id)
);
create index applications_plan_status on applications (plan_id, status);

-- Work periods as the candidate gave them, in their order.
create table work_history (
    application_id bigint not null references applications (id) on delete cascade,
    position       int not null,
    employer       text not null,
    occupation     text not null,
    related        boolean not null,
    start_month    text not null, -- YYYY-MM
    end_month      text not null, -- YYYY-MM or 至今
    primary key (application_id, position)
);

-- Uploaded files of a material: the blob's reference and the check result.
-- A new upload of a material supersedes the current one; at most one is
-- current per application and material.
create table documents (
    id             bigint generated always as identity primary key,
    application_id bigint not null references applications (id) on delete cascade,
    material       text not null,
    blob_ref       text not null,
    sha256         text check (sha256 ~ '^[0-9a-f]{64}$'),
    size           bigint not null,
    width          int not null,
    height         int not null,
    format         text not null,
    accepted       boolean not null,
    problems       text[] not null default '{}',
    created_at     timestamptz not null,
    superseded_at  timestamptz
);
create index documents_application on documents (application_id, id);
create unique index documents_current on documents (application_id, material) where superseded_at is null;
create index documents_sha256 on documents (sha256);

-- Every status change: who (bot, staff:<id>, import), when, from, to, why.
-- from_status is null for the status an application was created with.
create table status_events (
    id             bigint generated always as identity primary key,
    application_id bigint not null references applications (id) on delete cascade,
    from_status    text,
    to_status      text not null,
    actor          text not null,
    reason         text not null default '',
    at             timestamptz not null default now()
);
create index status_events_application on status_events (application_id, id);

create table staff_users (
    id            bigint generated always as identity primary key,
    login         text not null unique,
    display_name  text not null,
    role          text not null check (role in ('admin', 'staff')),
    password_hash text not null default '',
    created_at    timestamptz not null default now(),
    disabled_at   timestamptz
);

-- Escalations (转人工, unknown questions, cases the bot must not guess) and
-- the conversation with staff about them. channel/user_id say where a staff
-- answer goes.
create table tickets (
    id             bigint generated always as identity primary key,
    candidate_id   bigint not null references candidates (id) on delete cascade,
    application_id bigint references applications (id) on delete set null,
    channel        text not null,
    user_id        text not null,
    reason         text not null,
    state          text not null default 'open' check (state in ('open', 'answered', 'closed')),
    assignee_id    bigint references staff_users (id),
    opened_at      timestamptz not null default now(),
    closed_at      timestamptz
);
create index tickets_candidate on tickets (candidate_id, id);
create index tickets_open on tickets (opened_at) where state <> 'closed';

create table ticket_messages (
    id            bigint generated always as identity primary key,
    ticket_id     bigint not null references tickets (id) on delete cascade,
    author        text not null check (author in ('candidate', 'staff', 'bot')),
    staff_user_id bigint references staff_users (id),
    text          text not null,
    at            timestamptz not null default now()
);
create index ticket_messages_ticket on ticket_messages (ticket_id, id);

-- Broadcasts to a segment of candidates, and one delivery per recipient.
create table broadcasts (
    id         bigint generated always as identity primary key,
    plan_id    text not null default '',
    title      text not null,
    segment    text not null default '', -- rule expression choosing recipients
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

-- Every candidate message as said, so nothing a candidate said is lost. A
-- platform message id is recorded once per identity.
create table inbound_messages (
    id           bigint generated always as identity primary key,
    candidate_id bigint not null references candidates (id) on delete cascade,
    channel      text not null,
    user_id      text not null,
    msg_id       text not null default '',
    text         text not null,
    at           timestamptz not null
);
create unique index inbound_messages_msg on inbound_messages (channel, user_id, msg_id) where msg_id <> '';
create index inbound_messages_candidate on inbound_messages (candidate_id, id);

---- create above / drop below ----

drop table inbound_messages;
drop table deliveries;
drop table broadcasts;
drop table ticket_messages;
drop table tickets;
drop table staff_users;
drop table status_events;
drop table documents;
drop table work_history;
drop table applications;
drop table identities;
drop table candidates;
