-- The staff console: sign-in state of staff accounts, their sessions, the
-- audit log of every staff action, ticket numbers and hand-over, the
-- ticket conversation's images, and staff review of documents.

-- Failed sign-ins in a row; at the configured limit the account is locked
-- until an admin unlocks it or sets a new password.
alter table staff_users
    add column failed_logins int not null default 0,
    add column locked_at timestamptz,
    add column password_changed_at timestamptz,
    add column last_login_at timestamptz;

-- A signed-in browser. id is the SHA-256 (hex) of the cookie's random
-- token, so a copy of this table signs nobody in. csrf is the token every
-- form of the session carries.
create table staff_sessions (
    id         text primary key check (id ~ '^[0-9a-f]{64}$'),
    user_id    bigint not null references staff_users (id) on delete cascade,
    csrf       text not null,
    created_at timestamptz not null,
    seen_at    timestamptz not null,
    expires_at timestamptz not null,
    address    text not null default '',
    user_agent text not null default ''
);
create index staff_sessions_user on staff_sessions (user_id);
create index staff_sessions_expires on staff_sessions (expires_at);

-- Every staff action: who (the account, or the login typed at a failed
-- sign-in), what, on what, when and from which address. Rows are only
-- ever added.
create table audit_log (
    id            bigint generated always as identity primary key,
    at            timestamptz not null default now(),
    staff_user_id bigint references staff_users (id) on delete set null,
    login         text not null default '',
    action        text not null,
    target        text not null default '',
    detail        text not null default '',
    address       text not null default ''
);
create index audit_log_at on audit_log (at desc, id desc);
create index audit_log_user on audit_log (staff_user_id, id desc);

-- code is the ticket number the candidate is told; handover says the
-- conversation went to staff (the bot stops answering free text until the
-- ticket is closed) rather than a review the bot goes on beside.
-- State: open = waiting for staff, answered = staff replied, closed;
-- state_since is when the ticket entered its state (an open ticket waits
-- since then).
alter table tickets
    add column code text not null default '',
    add column handover boolean not null default true,
    add column claimed_at timestamptz,
    add column state_since timestamptz not null default now(),
    add column closed_by text not null default '';
update tickets set state_since = coalesce(closed_at, opened_at);
create index tickets_code on tickets (code) where code <> '';

-- An image the candidate sent while talking to staff (a blob ref).
alter table ticket_messages add column image_ref text not null default '';

-- Staff review of a document: accepted or rejected with a reason.
alter table documents
    add column review text not null default '' check (review in ('', 'accepted', 'rejected')),
    add column review_reason text not null default '',
    add column reviewed_by bigint references staff_users (id) on delete set null,
    add column reviewed_at timestamptz;

---- create above / drop below ----

alter table documents drop column reviewed_at, drop column reviewed_by,
    drop column review_reason, drop column review;
alter table ticket_messages drop column image_ref;
drop index tickets_code;
alter table tickets drop column closed_by, drop column state_since,
    drop column claimed_at, drop column handover, drop column code;
drop table audit_log;
drop table staff_sessions;
alter table staff_users drop column last_login_at, drop column password_changed_at,
    drop column locked_at, drop column failed_logins;
